import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseAdts } from '../../../../src/codecs/aac/adts.js';
import { type AacAccessUnit, AacDepacketizer } from '../../../../src/codecs/aac/depacketizer.js';
import { AacPacketizer } from '../../../../src/codecs/aac/packetizer.js';
import { parseMpeg4GenericFmtp } from '../../../../src/codecs/aac/sdp.js';
import { MediaFormatError } from '../../../../src/codecs/errors.js';
import type { RtpPacketBatch } from '../../../../src/rtp/batch.js';
import { RtpFormatError } from '../../../../src/rtp/errors.js';
import { readRtpHeader, writeRtpHeader } from '../../../../src/rtp/packet.js';
import { withRtpState } from '../../../helpers/rtp-state.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const FIXTURE = readFileSync(new URL('./fixtures/sine-44100-stereo.aac', import.meta.url));

/** RTP header bytes for PT 97, SSRC 0x01020304. */
const rtp = (marker: boolean, seq: string, ts: string) =>
  `80 ${marker ? 'e1' : '61'} ${seq} ${ts} 01 02 03 04`;

function au(length: number, seed: number): Buffer {
  const buf = Buffer.alloc(length);
  for (let i = 0; i < length; i++) buf[i] = (i * 31 + seed * 7 + 3) & 0xff;
  return buf;
}

function depacketize(batch: RtpPacketBatch, depacketizer = new AacDepacketizer()): AacAccessUnit[] {
  return batch.packets.flatMap((p) => depacketizer.push(p));
}

/** An RTP packet with `payload`, for hand-made depacketizer input. */
function packet(payload: Buffer, seq: number, marker = true, timestamp = 1000): Buffer {
  const buf = Buffer.alloc(12 + payload.length);
  writeRtpHeader(buf, 0, { marker, payloadType: 97, sequenceNumber: seq, timestamp, ssrc: 1 });
  payload.copy(buf, 12);
  return buf;
}

describe('AacPacketizer (RFC 3640 AAC-hbr)', () => {
  it('puts consecutive AUs in one packet: AU-headers-length, 13+3-bit AU-headers, then the AUs', () => {
    const packetizer = withRtpState(new AacPacketizer(), { ssrc: 0x01020304, initialSequence: 0x1234 });
    const batch = packetizer.packetize([hex('aa bb cc'), hex('dd ee')], 0x10000);
    // 2 headers = 32 bits; AU-size 3 << 3 = 0x0018, 2 << 3 = 0x0010, indexes 0.
    assert.deepEqual(
      batch.framed,
      hex(`24 00 00 17 ${rtp(true, '12 34', '00 01 00 00')} 00 20 00 18 00 10 aa bb cc dd ee`),
    );
    assert.equal(batch.keyframe, true);
    assert.equal(batch.payloadOctets, 11);
    assert.equal(packetizer.nextSequence, 0x1235);
  });

  it('fragments an AU larger than the mtu: each fragment states the whole AU size, marker on the last', () => {
    const packetizer = withRtpState(new AacPacketizer({ mtu: 8 }), {
      ssrc: 0x01020304,
      initialSequence: 0xffff,
    });
    const batch = packetizer.packetize([hex('00 01 02 03 04 05 06 07 08 09')], 0xfffffc00);
    // AU-size 10 << 3 = 0x0050 in every fragment; 4 payload bytes fit beside the 4 header bytes.
    assert.deepEqual(
      batch.framed,
      hex(
        `24 00 00 14 ${rtp(false, 'ff ff', 'ff ff fc 00')} 00 10 00 50 00 01 02 03` +
          `24 00 00 14 ${rtp(false, '00 00', 'ff ff fc 00')} 00 10 00 50 04 05 06 07` +
          `24 00 00 12 ${rtp(true, '00 01', 'ff ff fc 00')} 00 10 00 50 08 09`,
      ),
    );
  });

  it('times each packet by its first AU and never mixes a fragment with whole AUs', () => {
    const packetizer = withRtpState(new AacPacketizer({ mtu: 8 }), { ssrc: 0x01020304, initialSequence: 7 });
    const aus = [hex('a1 a2 a3'), hex('b0 b1 b2 b3 b4 b5'), hex('c1'), hex('d1')];
    const batch = packetizer.packetize(aus, 0xfffffc00);
    assert.deepEqual(
      batch.framed,
      hex(
        `24 00 00 13 ${rtp(true, '00 07', 'ff ff fc 00')} 00 10 00 18 a1 a2 a3` +
          // AU 1 (6 bytes) does not fit beside 4 header bytes in 8: fragments, timed 1024 later.
          `24 00 00 14 ${rtp(false, '00 08', '00 00 00 00')} 00 10 00 30 b0 b1 b2 b3` +
          `24 00 00 12 ${rtp(true, '00 09', '00 00 00 00')} 00 10 00 30 b4 b5` +
          // AUs 2 and 3 share a packet: 2 + 2 + 2 + 1 + 1 = 8 bytes, timed by AU 2.
          `24 00 00 14 ${rtp(true, '00 0a', '00 00 04 00')} 00 20 00 08 00 08 c1 d1`,
      ),
    );
    assert.deepEqual(
      depacketize(batch).map((a) => [a.data.toString('hex'), a.timestamp]),
      aus.map((a, i) => [a.toString('hex'), (0xfffffc00 + i * 1024) >>> 0]),
    );
  });

  it('uses the configured frame duration', () => {
    const packetizer = withRtpState(new AacPacketizer({ mtu: 5, samplesPerFrame: 960 }), {
      ssrc: 1,
      initialSequence: 0,
    });
    const batch = packetizer.packetize([hex('01'), hex('02'), hex('03')], 100);
    assert.deepEqual(
      batch.packets.map((p) => readRtpHeader(p).timestamp),
      [100, 1060, 2020],
    );
  });

  it('round-trips any AU sizes and mtus through the depacketizer, within the mtu', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 5, max: 1500 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (sizes, mtu, ts) => {
          const aus = sizes.map((s, i) => au(s, i));
          const batch = withRtpState(new AacPacketizer({ mtu }), {
            ssrc: 9,
            initialSequence: 65530,
          }).packetize(aus, ts);
          for (const p of batch.packets) assert.ok(readRtpHeader(p).payloadLength <= mtu);
          const out = depacketize(batch);
          assert.equal(out.length, aus.length);
          out.forEach((a, i) => {
            assert.deepEqual(a.data, aus[i]);
            assert.equal(a.timestamp, (ts + i * 1024) >>> 0);
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it("round-trips ffmpeg's AAC frames fragmented at a 100-byte mtu and packed at 1400", () => {
    const aus = parseAdts(FIXTURE).map((f) => f.data);
    for (const mtu of [100, 1400]) {
      const batch = withRtpState(new AacPacketizer({ mtu }), { ssrc: 9, initialSequence: 0 }).packetize(
        aus,
        5,
      );
      // At 100: AUs of 154, 269, 202, 161, 221 bytes in 96-byte fragments (2+3+3+2+3), the 7-byte one whole.
      assert.equal(batch.packets.length, mtu === 1400 ? 1 : 14);
      assert.deepEqual(
        depacketize(batch).map((a) => a.data),
        aus,
      );
    }
  });

  it('rejects an empty AU or one over 8191 bytes', () => {
    const packetizer = withRtpState(new AacPacketizer(), { ssrc: 9, initialSequence: 0 });
    assert.throws(() => packetizer.packetize([Buffer.alloc(0)], 0), MediaFormatError);
    assert.throws(() => packetizer.packetize([Buffer.alloc(8192)], 0), MediaFormatError);
    assert.equal(packetizer.packetize([Buffer.alloc(8191)], 0).packets.length, 6);
    assert.throws(
      () => withRtpState(new AacPacketizer({ mtu: 4 }), { ssrc: 9, initialSequence: 0 }),
      RangeError,
    );
  });
});

describe('AacDepacketizer', () => {
  it('drops an AU whose fragment was lost and goes on with the next one', () => {
    const aus = [au(30, 1), au(30, 2), au(5, 3)];
    const packets = aus.flatMap(
      (a, i) =>
        withRtpState(new AacPacketizer({ mtu: 14 }), { ssrc: 1, initialSequence: i * 10 }).packetize(
          [a],
          i * 1024,
        ).packets,
    );
    // Renumber so the stream is contiguous, then lose the 2nd fragment of AU 0.
    packets.forEach((p, i) => {
      p.writeUInt16BE(i, 2);
    });
    const depacketizer = new AacDepacketizer();
    const out = packets.filter((_, i) => i !== 1).flatMap((p) => depacketizer.push(p));
    assert.deepEqual(
      out.map((a) => a.data),
      [aus[1], aus[2]],
    );
    assert.equal(depacketizer.lostPackets, 1);
    assert.equal(depacketizer.droppedFragmentCount, 2);
  });

  it('reads other AU-header layouts: AAC-lbr (6+2 bits)', () => {
    const layout = parseMpeg4GenericFmtp(
      'mode=AAC-lbr;sizelength=6;indexlength=2;indexdeltalength=2;config=1210',
    );
    const depacketizer = new AacDepacketizer({ layout });
    // 16 bits of headers: size 3 (000011|00), size 2 (000010|00).
    const out = depacketizer.push(packet(hex('00 10 0c 08 11 22 33 44 55'), 1));
    assert.deepEqual(
      out.map((a) => [a.data.toString('hex'), a.timestamp]),
      [
        ['112233', 1000],
        ['4455', 2024],
      ],
    );
  });

  it('reads CTS, DTS, RAP and stream-state fields and skips an auxiliary section', () => {
    const depacketizer = new AacDepacketizer({
      layout: {
        sizeLength: 13,
        indexLength: 3,
        indexDeltaLength: 3,
        ctsDeltaLength: 4,
        dtsDeltaLength: 4,
        randomAccessIndication: true,
        streamStateIndication: 2,
        auxiliaryDataSizeLength: 8,
      },
    });
    // Header: size 2 (13 bits) | index 0 (3) | CTS-flag 0 | DTS-flag 1, delta 1010 | RAP 1 | state 01
    //   = 0000000000010 000 0 1 1010 1 01 = 25 bits (0x19), then 7 bits of padding.
    // Aux: size 8 bits = 16 (0x10), 2 bytes of aux data.
    const headerBits = '0000000000010' + '000' + '0' + '1' + '1010' + '1' + '01';
    const section = Buffer.from((headerBits + '0000000').match(/.{8}/g)!.map((b) => Number.parseInt(b, 2)));
    const payload = Buffer.concat([hex('00 19'), section, hex('10 ee ee'), hex('ab cd')]);
    const out = depacketizer.push(packet(payload, 1));
    assert.deepEqual(
      out.map((a) => a.data.toString('hex')),
      ['abcd'],
    );
  });

  it('throws RtpFormatError on malformed payloads', () => {
    const bad = (payload: string, message: RegExp) =>
      assert.throws(() => new AacDepacketizer().push(packet(hex(payload), 1)), {
        name: 'RtpFormatError',
        message,
      });
    bad('', /AU-headers-length/);
    bad('00 20 00 18', /AU-header section runs past/);
    bad('00 20 00 18 00 18 aa bb cc', /runs past the packet end/);
    bad('00 20 00 18 00 19 aa bb cc aa bb cc', /interleaved/);
    bad('00 0c 00 10 aa bb', /runs past its section/);
    bad('00 00 aa', /no AU-header/);
    assert.ok(new RtpFormatError('x') instanceof Error);
  });
});
