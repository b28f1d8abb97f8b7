// Fixture, made once with:
//   ffmpeg -f lavfi -i sine=frequency=1000:sample_rate=48000:duration=0.1 -ac 2 -c:a libopus -b:a 32k \
//     -fflags +bitexact -flags:a +bitexact -f ogg sine-48000-stereo.opus
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { MediaFormatError } from '../../../../src/codecs/errors.js';
import { OpusDepacketizer } from '../../../../src/codecs/opus/depacketizer.js';
import { opusPacketInfo, opusPacketSamples } from '../../../../src/codecs/opus/packet.js';
import { OpusPacketizer } from '../../../../src/codecs/opus/packetizer.js';
import { opusFmtp, parseOpusFmtp } from '../../../../src/codecs/opus/sdp.js';
import { RtpFormatError } from '../../../../src/rtp/errors.js';
import { readRtpHeader } from '../../../../src/rtp/packet.js';
import {
  OGG_BOS,
  OGG_CONTINUED,
  OGG_EOS,
  oggPageCrc,
  parseOggOpus,
  parseOggPages,
  readOggPackets,
} from '../../../helpers/ogg.js';
import { withRtpState } from '../../../helpers/rtp-state.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const FIXTURE = readFileSync(new URL('./fixtures/sine-48000-stereo.opus', import.meta.url));

/** One Ogg page with a correct CRC. */
function oggPage(
  headerType: number,
  granule: bigint,
  sequence: number,
  segments: number[],
  body: Buffer,
): Buffer {
  const header = Buffer.alloc(27 + segments.length);
  header.write('OggS', 0, 'latin1');
  header[5] = headerType;
  header.writeBigInt64LE(granule, 6);
  header.writeUInt32LE(0xcafe, 14);
  header.writeUInt32LE(sequence, 18);
  header[26] = segments.length;
  header.set(segments, 27);
  const page = Buffer.concat([header, body]);
  page.writeUInt32LE(oggPageCrc(page), 22);
  return page;
}

describe('Opus TOC (RFC 6716 3.1)', () => {
  it('gives the duration of every config and frame count code', () => {
    const cases: Array<[toc: number, extra: number[], samples: number, mode: string]> = [
      [0x00, [], 480, 'silk'], // config 0: SILK NB 10 ms, code 0
      [0x18, [], 2880, 'silk'], // config 3: SILK NB 60 ms
      [0x09, [0xaa, 0xbb], 1920, 'silk'], // config 1 (20 ms), code 1: 2 equal frames
      [0x62, [], 960, 'hybrid'], // config 12: hybrid SWB 10 ms, code 2: 2 frames
      [0x7c, [], 960, 'hybrid'], // config 15: hybrid FB 20 ms, stereo (ffmpeg's fixture)
      [0x83, [0x05], 600, 'celt'], // config 16: CELT NB 2.5 ms, code 3 with 5 frames
      [0xfb, [0x06], 5760, 'celt'], // config 31: CELT FB 20 ms x 6 = 120 ms
    ];
    for (const [toc, extra, samples, mode] of cases) {
      const info = opusPacketInfo(Buffer.from([toc, ...extra]));
      assert.equal(info.samples, samples, `toc 0x${toc.toString(16)}`);
      assert.equal(info.mode, mode);
    }
    assert.equal(opusPacketInfo(hex('7c')).stereo, true);
    assert.equal(opusPacketInfo(hex('78')).stereo, false);
  });

  it('rejects malformed packets (RFC 6716 3.4)', () => {
    for (const packet of ['', '09aa', '03', '0300', '1b03', 'fb07']) {
      assert.throws(() => opusPacketSamples(hex(packet)), MediaFormatError, packet);
    }
  });
});

describe('Ogg reader', () => {
  it("reads ffmpeg's Ogg Opus: pages with valid CRCs, OpusHead, and the audio packets", () => {
    const pages = parseOggPages(FIXTURE);
    assert.deepEqual(
      pages.map((p) => [p.headerType, p.granulePosition, p.sequence]),
      [
        [OGG_BOS, 0n, 0],
        [0, 0n, 1],
        [OGG_EOS, 5112n, 2],
      ],
    );
    const stream = parseOggOpus(FIXTURE);
    assert.deepEqual(stream.head, {
      version: 1,
      channels: 2,
      preSkip: 312,
      inputSampleRate: 48000,
      outputGain: 0,
      mappingFamily: 0,
    });
    assert.deepEqual(
      stream.packets.map((p) => p.length),
      [75, 69, 66, 67, 63, 64],
    );
    // 6 x 20 ms cover the 312 pre-skip samples and the 4800 of audio the last granule (5112) ends at.
    const total = stream.packets.reduce((n, p) => n + opusPacketSamples(p), 0);
    assert.equal(total, 5760);
    assert.ok(total >= 5112 && total - 960 < 5112);
  });

  it('joins a packet spread over pages and drops one whose start is missing', () => {
    const big = Buffer.alloc(600, 7);
    const small = hex('f8 01 02 03 04');
    const page1 = oggPage(OGG_BOS, -1n, 0, [255, 255], big.subarray(0, 510));
    const page2 = oggPage(OGG_CONTINUED, 960n, 1, [90, 5], Buffer.concat([big.subarray(510), small]));
    const packets = readOggPackets(Buffer.concat([page1, page2]));
    assert.deepEqual(
      packets.map((p) => [p.data.length, p.granulePosition]),
      [
        [600, undefined],
        [5, 960n],
      ],
    );
    assert.deepEqual(packets[0].data, big);
    // Without the first page the tail of the big packet is not a packet.
    assert.deepEqual(
      readOggPackets(page2).map((p) => p.data),
      [small],
    );
  });

  it('rejects a bad CRC, a cut-off page and a missing capture pattern', () => {
    const corrupt = Buffer.from(FIXTURE);
    corrupt[corrupt.length - 1] ^= 1;
    assert.throws(() => parseOggPages(corrupt), /bad CRC/);
    assert.equal(parseOggPages(corrupt, { verifyCrc: false }).length, 3);
    assert.throws(() => parseOggPages(FIXTURE.subarray(0, FIXTURE.length - 1)), MediaFormatError);
    assert.throws(() => parseOggPages(Buffer.concat([FIXTURE, hex('00')])), MediaFormatError);
    assert.throws(() => parseOggOpus(oggPage(OGG_BOS, 0n, 0, [4], hex('01020304'))), /no Opus stream/);
  });
});

describe('OpusPacketizer (RFC 7587)', () => {
  it('sends one Opus packet per RTP packet, timed by their TOC durations', () => {
    const packetizer = withRtpState(new OpusPacketizer(), { ssrc: 0x01020304, initialSequence: 10 });
    const a = hex('fc 11 22'); // CELT FB 20 ms
    const b = hex('f3 02 33'); // CELT FB 10 ms (config 30), code 3, 2 frames = 20 ms
    const batch = packetizer.packetize([a, b], 0xfffffe00);
    // PT 111 = 0x6f; the first packet starts a talkspurt (marker), the second is 960 ticks later.
    assert.deepEqual(
      batch.framed,
      hex(
        '24 00 00 0f 80 ef 00 0a ff ff fe 00 01 02 03 04 fc 11 22' +
          '24 00 00 0f 80 6f 00 0b 00 00 01 c0 01 02 03 04 f3 02 33',
      ),
    );
    // Continuing right after (+1920): no marker. After a gap: marker again.
    const next = packetizer.packetize([a], (0xfffffe00 + 1920) >>> 0);
    assert.equal(readRtpHeader(next.packets[0]).marker, false);
    const afterGap = packetizer.packetize([a], 5000);
    assert.equal(readRtpHeader(afterGap.packets[0]).marker, true);
    assert.throws(() => packetizer.packetize([Buffer.alloc(0)], 0), MediaFormatError);
  });

  it('round-trips through the depacketizer', () => {
    const packets = parseOggOpus(FIXTURE).packets;
    const batch = withRtpState(new OpusPacketizer(), { ssrc: 1, initialSequence: 65535 }).packetize(
      packets,
      100,
    );
    const depacketizer = new OpusDepacketizer();
    const frames = batch.packets.map((p) => depacketizer.push(p)!);
    assert.deepEqual(
      frames.map((f) => f.data),
      packets,
    );
    assert.deepEqual(
      frames.map((f) => f.timestamp),
      [100, 1060, 2020, 2980, 3940, 4900],
    );
    assert.throws(() => depacketizer.push(hex('80 6f 00 06 00 00 00 00 00 00 00 01')), RtpFormatError);
  });

  it('describes itself as opus/48000/2 with sprop-stereo', () => {
    assert.equal(opusFmtp(2), 'sprop-stereo=1');
    assert.equal(opusFmtp(1), 'sprop-stereo=0');
    const fmtp = parseOpusFmtp('111 sprop-stereo=1; stereo=0;maxaveragebitrate=64000');
    assert.equal(fmtp.spropStereo, true);
    assert.equal(fmtp.stereo, false);
    assert.equal(fmtp.maxAverageBitrate, 64000);
    assert.throws(() => parseOpusFmtp('stereo=2'), MediaFormatError);
  });
});
