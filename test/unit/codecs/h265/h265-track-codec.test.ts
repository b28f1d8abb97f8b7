import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { splitAnnexB } from '../../../../src/codecs/h264/annexb.js';
import { H265AnnexBReader, h265NalType } from '../../../../src/codecs/h265/annexb.js';
import { H265Depacketizer } from '../../../../src/codecs/h265/depacketizer.js';
import { H265TrackCodec } from '../../../../src/media/formats/h265.js';
import { Stream } from '../../../../src/media/stream.js';
import type { Track } from '../../../../src/media/track.js';
import { parseSdp, writeSdp } from '../../../../src/protocol/sdp.js';
import { RtpBatchWriter, type RtpPacketBatch } from '../../../../src/rtp/batch.js';
import { readRtpHeader } from '../../../../src/rtp/packet.js';

const CLIP = readFileSync(new URL('./fixtures/clip-640x480-25fps.hevc', import.meta.url));
const AUS = (() => {
  const reader = new H265AnnexBReader();
  return [...reader.push(CLIP), ...reader.flush()];
})();
const [VPS, SPS, PPS] = AUS[0];
/** RTP state for the codec driven without a track (a track's sender gives it otherwise). */
const writer = () => new RtpBatchWriter({ payloadType: 96, ssrc: 0x11223344, initialSequence: 1000 });
const annexB = (nalus: Buffer[]) => Buffer.concat(nalus.flatMap((n) => [Buffer.from([0, 0, 0, 1]), n]));

const FMTP =
  'profile-space=0;profile-id=1;tier-flag=0;level-id=90;interop-constraints=900000000000;' +
  `sprop-vps=${VPS.toString('base64')};sprop-sps=${SPS.toString('base64')};sprop-pps=${PPS.toString('base64')}`;

describe('H265TrackCodec', () => {
  it('is a 90 kHz H265 video format on payload type 96 by default', () => {
    const codec = new H265TrackCodec({});
    assert.equal(codec.encoding, 'H265');
    assert.equal(codec.clockRate, 90000);
    assert.equal(codec.kind, 'video');
    assert.equal(codec.payloadType, 96);
    assert.equal(new H265TrackCodec({ payloadType: 98 }).payloadType, 98);
  });

  it('becomes ready and describes itself from the in-band VPS/SPS/PPS', () => {
    const codec = new H265TrackCodec({});
    assert.equal(codec.ready, false);
    assert.deepEqual(codec.describe(), {
      kind: 'video',
      payloadType: 96,
      encoding: 'H265',
      clockRate: 90000,
      fmtp: undefined,
      attributes: [],
    });
    const units = codec.toUnits(annexB(AUS[0]));
    assert.deepEqual(units, AUS[0]);
    const batch = codec.packetize(units, 1234, writer());
    assert.equal(batch?.keyframe, true);
    assert.equal(codec.ready, true);
    assert.deepEqual(codec.videoInfo, { width: 640, height: 480, frameRate: 25 });
    assert.deepEqual(codec.describe(), {
      kind: 'video',
      payloadType: 96,
      encoding: 'H265',
      clockRate: 90000,
      fmtp: FMTP,
      attributes: [
        ['framerate', '25'],
        ['x-dimensions', '640,480'],
      ],
    });
  });

  it('is ready at once with out-of-band parameter sets', () => {
    const codec = new H265TrackCodec({ vps: VPS, sps: SPS, pps: PPS });
    assert.equal(codec.ready, true);
    assert.equal(codec.describe().fmtp, FMTP);
  });

  it('gives null for an empty access unit and packs with the given mtu, without APs on request', () => {
    const codec = new H265TrackCodec({ mtu: 500, aggregate: false });
    assert.equal(codec.packetize([], 0, writer()), null);
    const batch = codec.packetize(AUS[0], 0, writer())!;
    for (const packet of batch.packets) assert.ok(readRtpHeader(packet).payloadLength <= 500);
    const types = batch.packets.map((p) => (p[12] >> 1) & 0x3f);
    assert.deepEqual(types.slice(0, 3), [32, 33, 34]);
    assert.ok(!types.includes(48));
  });

  it('in a Stream: Annex-B pushed in, the same NAL units out of the batches, SDP from the track', () => {
    const stream = new Stream('/h265', { tracks: [new H265TrackCodec({})] });
    const track = stream.tracks[0];
    const batches: RtpPacketBatch[] = [];
    track.subscribe({ deliver: (batch: RtpPacketBatch, _t: Track) => batches.push(batch) });
    for (let i = 0; i < 30; i++) track.push(annexB(AUS[i]), { pts: i * 40_000 });
    assert.equal(batches.length, 30);
    assert.deepEqual(
      batches.map((b, i) => (b.keyframe ? i : -1)).filter((i) => i >= 0),
      [0, 25],
    );
    // 40 ms apart on the 90 kHz clock.
    assert.equal((batches[1].rtpTimestamp - batches[0].rtpTimestamp) >>> 0, 3600);
    const depacketizer = new H265Depacketizer();
    const out = batches.flatMap((b) =>
      b.packets.map((p) => depacketizer.push(p)).filter((au) => au !== null),
    );
    assert.deepEqual(
      out.map((au) => au.nalus),
      AUS.slice(0, 30),
    );
    const sdp = writeSdp(stream.sessionDescription('127.0.0.1', '1'));
    assert.match(sdp, /\r\nm=video 0 RTP\/AVP 96\r\na=rtpmap:96 H265\/90000\r\na=fmtp:96 profile-space=0;/);
    const media = parseSdp(sdp).media[0];
    assert.equal(media.encoding, 'H265');
    assert.equal(media.fmtp, FMTP);
    assert.equal(media.control, 'trackID=0');
  });

  it('keeps serving with an SPS it cannot read (sprop-* only in the fmtp)', () => {
    const codec = new H265TrackCodec({});
    const badSps = Buffer.from(SPS.subarray(0, 10));
    assert.equal(h265NalType(badSps), 33);
    const idr = AUS[0][4];
    assert.ok(codec.packetize(splitAnnexB(annexB([VPS, badSps, PPS, idr])), 0, writer()));
    assert.equal(codec.ready, true);
    assert.equal(
      codec.describe().fmtp,
      `sprop-vps=${VPS.toString('base64')};sprop-sps=${badSps.toString('base64')};sprop-pps=${PPS.toString('base64')}`,
    );
    assert.deepEqual(codec.describe().attributes, []);
  });
});
