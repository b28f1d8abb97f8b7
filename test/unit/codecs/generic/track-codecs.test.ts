// The TrackCodecs of src/media/formats/ (AAC, Opus, G.711, MJPEG, generic) inside a Stream: what a push becomes on the
// wire, and the SDP media sections DESCRIBE answers with.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAdts } from '../../../../src/codecs/aac/adts.js';
import { AacDepacketizer } from '../../../../src/codecs/aac/depacketizer.js';
import { MediaFormatError } from '../../../../src/codecs/errors.js';
import { decodeMulaw } from '../../../../src/codecs/g711/g711.js';
import { setPacketMarker, setPacketTimestamp } from '../../../../src/codecs/generic/rtp-patch.js';
import { AacTrackCodec } from '../../../../src/media/formats/aac.js';
import { G711TrackCodec } from '../../../../src/media/formats/g711.js';
import { GenericTrackCodec } from '../../../../src/media/formats/generic.js';
import { MjpegTrackCodec } from '../../../../src/media/formats/mjpeg.js';
import { OpusTrackCodec } from '../../../../src/media/formats/opus.js';
import { Stream } from '../../../../src/media/stream.js';
import type { TrackCodec, TrackSink } from '../../../../src/media/track.js';
import { parseSdp, writeSdp } from '../../../../src/protocol/sdp.js';
import { RtpBatchWriter, type RtpPacketBatch } from '../../../../src/rtp/batch.js';
import { readRtpHeader } from '../../../../src/rtp/packet.js';
import { parseOggOpus } from '../../../helpers/ogg.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const ADTS = readFileSync(new URL('../aac/fixtures/sine-44100-stereo.aac', import.meta.url));
const OGG = readFileSync(new URL('../opus/fixtures/sine-48000-stereo.opus', import.meta.url));
const JPEG = readFileSync(new URL('../mjpeg/fixtures/testsrc-64x48-420.jpg', import.meta.url));

/** RTP state for codecs driven without a track (a track's sender gives it otherwise). */
function writerFor(codec: TrackCodec): RtpBatchWriter {
  return new RtpBatchWriter({ payloadType: codec.payloadType, ssrc: 0x01020304, initialSequence: 0x0100 });
}

/** Media lines of the SDP a stream with these codecs describes itself with. */
function mediaLines(...codecs: TrackCodec[]): string[] {
  const stream = new Stream('/s', { tracks: codecs });
  const sdp = writeSdp(stream.sessionDescription('127.0.0.1', '1'));
  return sdp
    .split('\r\n')
    .slice(sdp.split('\r\n').findIndex((l) => l.startsWith('m=')))
    .filter((l) => l !== '');
}

/** Collects what a track delivers. */
function collect(stream: Stream, index = 0): RtpPacketBatch[] {
  const batches: RtpPacketBatch[] = [];
  const sink: TrackSink = { deliver: (batch) => batches.push(batch) };
  stream.tracks[index].subscribe(sink);
  return batches;
}

describe('AacTrackCodec', () => {
  it('learns the config from the first ADTS header, then describes itself as mpeg4-generic', () => {
    const codec = new AacTrackCodec({});
    assert.equal(codec.ready, false);
    assert.throws(() => codec.describe(), MediaFormatError);
    const stream = new Stream('/a', { tracks: [codec] });
    const batches = collect(stream);
    stream.tracks[0].push(ADTS, { pts: 0 });
    assert.equal(codec.ready, true);
    assert.equal(codec.clockRate, 44100);
    assert.deepEqual(mediaLines(codec), [
      'm=audio 0 RTP/AVP 97',
      'a=rtpmap:97 mpeg4-generic/44100/2',
      'a=fmtp:97 streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1210',
      'a=control:trackID=0',
    ]);
    // All six frames of the push: one packet, AU-headers for each, the frames without ADTS headers.
    assert.equal(batches.length, 1);
    const aus = parseAdts(ADTS).map((f) => f.data);
    const out = batches[0].packets.flatMap((p) => new AacDepacketizer().push(p));
    assert.deepEqual(
      out.map((a) => a.data),
      aus,
    );
    assert.deepEqual(
      out.map((a) => a.timestamp - out[0].timestamp),
      [0, 1024, 2048, 3072, 4096, 5120],
    );
    assert.equal(readRtpHeader(batches[0].packets[0]).ssrc, stream.tracks[0].sender.ssrc);
  });

  it('takes raw AUs with a given config, and refuses raw input without one', () => {
    assert.throws(() => new AacTrackCodec({ input: 'raw' }), MediaFormatError);
    const codec = new AacTrackCodec({ input: 'raw', config: '1188', payloadType: 96 });
    assert.equal(codec.clockRate, 48000);
    assert.deepEqual(mediaLines(codec).slice(0, 2), [
      'm=audio 0 RTP/AVP 96',
      'a=rtpmap:96 mpeg4-generic/48000/1',
    ]);
    const batch = codec.packetize(codec.toUnits(hex('21 00 49 90')), 0, writerFor(codec))!;
    assert.deepEqual(batch.packets[0].subarray(12), hex('0010 0020 21004990'));
  });

  it('refuses an ADTS stream that changes its configuration', () => {
    const codec = new AacTrackCodec({});
    codec.toUnits(ADTS);
    const mono = Buffer.from(ADTS.subarray(0, 161));
    mono[3] = (mono[3] & 0x3f) | 0x40; // channel configuration 1
    assert.throws(() => codec.toUnits(mono), /changed its configuration/);
    assert.throws(() => codec.toUnits(ADTS.subarray(0, 100)), /ends inside a frame/);
  });
});

describe('OpusTrackCodec', () => {
  it('describes opus/48000/2 with sprop-stereo and times consecutive packets', () => {
    assert.deepEqual(mediaLines(new OpusTrackCodec({})), [
      'm=audio 0 RTP/AVP 111',
      'a=rtpmap:111 opus/48000/2',
      'a=fmtp:111 sprop-stereo=1',
      'a=control:trackID=0',
    ]);
    assert.deepEqual(mediaLines(new OpusTrackCodec({ channels: 1, payloadType: 100 })).slice(1, 3), [
      'a=rtpmap:100 opus/48000/2',
      'a=fmtp:100 sprop-stereo=0',
    ]);
    const codec = new OpusTrackCodec({});
    const stream = new Stream('/o', { tracks: [codec] });
    const batches = collect(stream);
    const packets = parseOggOpus(OGG).packets;
    stream.tracks[0].push(packets[0], { pts: 0 });
    stream.tracks[0].push(packets.slice(1, 3), { pts: 20_000 });
    const stamps = batches.flatMap((b) => b.packets.map((p) => readRtpHeader(p)));
    assert.deepEqual(
      stamps.map((h) => [
        h.timestamp - stamps[0].timestamp,
        h.marker,
        (h.sequenceNumber - stamps[0].sequenceNumber) & 0xffff,
      ]),
      [
        [0, true, 0],
        [960, false, 1],
        [1920, false, 2],
      ],
    );
  });
});

describe('G711TrackCodec', () => {
  it('describes PCMU/8000 on PT 0 and PCMA/8000 on PT 8', () => {
    assert.deepEqual(mediaLines(new G711TrackCodec({ law: 'mulaw' }), new G711TrackCodec({ law: 'alaw' })), [
      'm=audio 0 RTP/AVP 0',
      'a=rtpmap:0 PCMU/8000',
      'a=control:trackID=0',
      'm=audio 0 RTP/AVP 8',
      'a=rtpmap:8 PCMA/8000',
      'a=control:trackID=1',
    ]);
    // A client's parser reads them back as the static types.
    const sdp = parseSdp(
      writeSdp(
        new Stream('/g', { tracks: [new G711TrackCodec({ law: 'alaw' })] }).sessionDescription(
          '127.0.0.1',
          '1',
        ),
      ),
    );
    assert.deepEqual(
      [sdp.media[0].encoding, sdp.media[0].clockRate, sdp.media[0].payloadType],
      ['PCMA', 8000, 8],
    );
  });

  it('encodes s16le input and cuts it into 20 ms packets', () => {
    const codec = new G711TrackCodec({ law: 'mulaw', input: 's16le' });
    const pcm = Int16Array.from({ length: 400 }, (_, i) => (i % 2 ? 1000 : -1000));
    const batch = codec.packetize(codec.toUnits(Buffer.from(pcm.buffer)), 0, writerFor(codec))!;
    assert.deepEqual(
      batch.packets.map((p) => p.length - 12),
      [160, 160, 80],
    );
    assert.deepEqual([...decodeMulaw(batch.packets[0].subarray(12, 14))], [-988, 988]);
    assert.throws(() => codec.toUnits(hex('00')), MediaFormatError);
  });
});

describe('MjpegTrackCodec', () => {
  it('describes JPEG/90000 on PT 26 with the picture size once a frame went out', () => {
    const codec = new MjpegTrackCodec({});
    assert.deepEqual(mediaLines(codec), [
      'm=video 0 RTP/AVP 26',
      'a=rtpmap:26 JPEG/90000',
      'a=control:trackID=0',
    ]);
    const stream = new Stream('/m', { tracks: [codec] });
    const batches = collect(stream);
    stream.tracks[0].push(JPEG, { pts: 0 });
    assert.equal(batches[0].keyframe, true);
    assert.deepEqual(mediaLines(codec), [
      'm=video 0 RTP/AVP 26',
      'a=rtpmap:26 JPEG/90000',
      'a=control:trackID=0',
      'a=x-dimensions:64,48',
    ]);
    assert.equal(stream.video, stream.tracks[0], 'MJPEG is the video track that clients start from');
  });
});

describe('GenericTrackCodec', () => {
  it('sends pushed payloads as they are: an array is one access unit with the marker on the last', () => {
    const codec = new GenericTrackCodec({
      kind: 'application',
      encoding: 'x-test',
      clockRate: 1000,
      payloadType: 120,
      fmtp: 'a=1;b=2',
    });
    assert.deepEqual(mediaLines(codec), [
      'm=application 0 RTP/AVP 120',
      'a=rtpmap:120 x-test/1000',
      'a=fmtp:120 a=1;b=2',
      'a=control:trackID=0',
    ]);
    const batch = codec.packetize(codec.toUnits([hex('aa'), hex('bb cc')]), 0x0a0b0c0d, writerFor(codec))!;
    assert.deepEqual(
      batch.framed,
      hex(
        '24 00 00 0d 80 78 01 00 0a 0b 0c 0d 01 02 03 04 aa 24 00 00 0e 80 f8 01 01 0a 0b 0c 0d 01 02 03 04 bb cc',
      ),
    );
    assert.equal(batch.keyframe, true);
    assert.throws(() => codec.packetize([Buffer.alloc(65524)], 0, writerFor(codec)), MediaFormatError);
  });

  it('calls the packetize and keyframe functions of the application', () => {
    const seen: number[] = [];
    const codec = new GenericTrackCodec({
      kind: 'video',
      encoding: 'x-frames',
      clockRate: 90000,
      channels: undefined,
      payloadType: 99,
      mtu: 4,
      packetize: (frame, mtu) => {
        seen.push(mtu);
        const out: Buffer[] = [];
        for (let i = 0; i < frame.length; i += mtu) out.push(frame.subarray(i, i + mtu));
        return out;
      },
      keyframe: (frame) => frame[0] === 0xff,
    });
    const key = codec.packetize(codec.toUnits(hex('ff 01 02 03 04 05')), 0, writerFor(codec))!;
    assert.deepEqual(
      key.packets.map((p) => p.subarray(12).toString('hex')),
      ['ff010203', '0405'],
    );
    assert.equal(key.keyframe, true);
    assert.equal(codec.packetize([hex('00 01')], 0, writerFor(codec))!.keyframe, false);
    assert.deepEqual(seen, [4, 4]);
    assert.throws(
      () => new GenericTrackCodec({ kind: 'audio', encoding: 'bad name', clockRate: 8000, payloadType: 96 }),
      RangeError,
    );
  });

  it('describes audio with channels', () => {
    const codec = new GenericTrackCodec({
      kind: 'audio',
      encoding: 'L16',
      clockRate: 44100,
      channels: 2,
      payloadType: 10,
    });
    assert.deepEqual(mediaLines(codec).slice(0, 2), ['m=audio 0 RTP/AVP 10', 'a=rtpmap:10 L16/44100/2']);
  });
});

describe('rtp-patch', () => {
  it('rewrites the timestamp and marker of one packet in place', () => {
    const packet = hex('80 60 00 01 00 00 00 00 00 00 00 01 aa');
    setPacketTimestamp(packet, 0x1_0000_0005);
    setPacketMarker(packet, true);
    assert.deepEqual(packet, hex('80 e0 00 01 00 00 00 05 00 00 00 01 aa'));
    setPacketMarker(packet, false);
    assert.equal(packet[1], 0x60);
  });
});
