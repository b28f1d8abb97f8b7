import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { NalType, nalType } from '../../../../src/codecs/h264/annexb.js';
import { H264Depacketizer } from '../../../../src/codecs/h264/depacketizer.js';
import { H264Packetizer } from '../../../../src/codecs/h264/packetizer.js';
import type { RtpPacketBatch } from '../../../../src/rtp/batch.js';
import { readRtpHeader } from '../../../../src/rtp/packet.js';
import { withRtpState } from '../../../helpers/rtp-state.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const SPS = hex('6742c01ed900a03db011000003000100000300320f162e48');
const PPS = hex('68cb83cb20');
const SPS_B = hex('67640028acd940780227e5c044000003000400000300f03c60c658');
const PPS_B = hex('68ebe3cb22c0');

/** A NAL unit of `length` bytes with header byte `header` and a recognisable body. */
function nal(header: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  buf[0] = header;
  for (let i = 1; i < length; i++) buf[i] = (i * 7 + length) & 0xff;
  return buf;
}

function depacketize(batch: RtpPacketBatch): Buffer[] {
  const depacketizer = new H264Depacketizer();
  const aus = batch.packets.map((p) => depacketizer.push(p)).filter((au) => au !== null);
  assert.equal(aus.length, batch.packets.length > 0 ? 1 : 0, 'one access unit, completed by the marker');
  assert.deepEqual(depacketizer.flush(), []);
  return aus.length ? aus[0].nalus : [];
}

function payloads(batch: RtpPacketBatch): Buffer[] {
  return batch.packets.map((p) => p.subarray(readRtpHeader(p).payloadOffset));
}

/** Structural rules every batch must follow. */
function assertBatchRules(batch: RtpPacketBatch, mtu: number, firstSeq: number, timestamp: number): void {
  let pos = 0;
  batch.packets.forEach((packet, i) => {
    const h = readRtpHeader(packet);
    assert.equal(h.payloadType, 96);
    assert.equal(h.sequenceNumber, (firstSeq + i) & 0xffff);
    assert.equal(h.timestamp, timestamp);
    assert.equal(h.marker, i === batch.packets.length - 1, `marker only on the last packet (${i})`);
    assert.ok(h.payloadLength <= mtu, `payload ${h.payloadLength} > mtu ${mtu}`);
    const payload = packet.subarray(h.payloadOffset);
    if ((payload[0] & 0x1f) === NalType.FU_A) assert.notEqual(payload[1] & 0xc0, 0xc0, 'FU-A with S and E');
    // framed mirrors the packets.
    assert.deepEqual(
      batch.framed.subarray(pos, pos + 4),
      Buffer.from([0x24, 0, packet.length >> 8, packet.length & 0xff]),
    );
    assert.equal(packet.byteOffset, batch.framed.byteOffset + pos + 4);
    pos += 4 + packet.length;
  });
  assert.equal(pos, batch.framed.length);
}

describe('H264Packetizer', () => {
  it('writes single NAL and FU-A packets byte for byte (mtu 8)', () => {
    const packetizer = withRtpState(new H264Packetizer({ mtu: 8 }), {
      ssrc: 0x01020304,
      initialSequence: 65535,
    });
    const idr = hex('65 01 02 03 04 05 06 07 08 09 0a 0b 0c');
    const batch = packetizer.packetize([hex('67 42 c0 1e'), hex('68 ce 3c 80'), idr], 90000);
    const rtp = (marker: boolean, seq: string) => `80 ${marker ? 'e0' : '60'} ${seq} 00 01 5f 90 01 02 03 04`;
    assert.deepEqual(
      batch.framed,
      hex(
        `24 00 00 10 ${rtp(false, 'ff ff')} 67 42 c0 1e` +
          `24 00 00 10 ${rtp(false, '00 00')} 68 ce 3c 80` +
          // FU indicator 0x7c = NRI 3 | 28; FU header 0x85 = S | type 5; the 0x65 header byte is not sent.
          `24 00 00 14 ${rtp(false, '00 01')} 7c 85 01 02 03 04 05 06` +
          `24 00 00 14 ${rtp(true, '00 02')} 7c 45 07 08 09 0a 0b 0c`,
      ),
    );
    assert.equal(batch.keyframe, true);
    assert.equal(batch.firstSeq, 65535);
    assert.equal(batch.rtpTimestamp, 90000);
    assert.equal(batch.payloadOctets, 24);
    assert.equal(packetizer.nextSequence, 3);
    assertBatchRules(batch, 8, 65535, 90000);
  });

  it('copies F and NRI into the FU indicator and keeps the type in the FU header', () => {
    const packetizer = withRtpState(new H264Packetizer({ mtu: 8 }), { ssrc: 1, initialSequence: 0 });
    const [first, last] = payloads(packetizer.packetize([nal(0x41, 13)], 0));
    assert.deepEqual([first[0], first[1], last[0], last[1]], [0x5c, 0x81, 0x5c, 0x41]);
    const [fFirst, , fLast] = payloads(packetizer.packetize([nal(0x81, 14)], 0));
    assert.deepEqual([fFirst[0], fFirst[1], fLast[0], fLast[1]], [0x9c, 0x81, 0x9c, 0x41]);
    const middle = payloads(packetizer.packetize([nal(0x01, 20)], 0));
    assert.deepEqual(
      middle.map((p) => p[1]),
      [0x81, 0x01, 0x01, 0x41],
    );
  });

  it('fragments around the MTU boundary and round-trips through the depacketizer', () => {
    const mtu = 1400;
    const cases: [number, number][] = [
      [1, 1],
      [mtu - 1, 1],
      [mtu, 1],
      [mtu + 1, 2],
      [2 * (mtu - 2), 2],
      [2 * (mtu - 2) + 1, 2], // exactly two full fragments of mtu - 2
      [2 * (mtu - 2) + 2, 3],
      [100 * 1024, 74],
    ];
    for (const [length, packets] of cases) {
      const packetizer = withRtpState(new H264Packetizer(), { ssrc: 5, initialSequence: 100 });
      const input = nal(0x41, length);
      const batch = packetizer.packetize([input], 3000);
      assert.equal(batch.packets.length, packets, `length ${length}`);
      assertBatchRules(batch, mtu, 100, 3000);
      const sent = payloads(batch);
      if (packets > 1) {
        // Greedy fragments: all full but the last.
        for (const p of sent.slice(0, -1)) assert.equal(p.length, mtu);
        assert.equal(sent.at(-1)!.length, length - 1 - (mtu - 2) * (packets - 1) + 2);
      }
      assert.equal(batch.payloadOctets, packets === 1 ? length : length - 1 + 2 * packets);
      assert.deepEqual(depacketize(batch), [input], `round trip of ${length}`);
    }
  });

  it('wraps the sequence number 65535 → 0 across access units', () => {
    const packetizer = withRtpState(new H264Packetizer({ mtu: 100 }), { ssrc: 5, initialSequence: 65534 });
    const a = packetizer.packetize([nal(0x41, 50)], 0);
    const b = packetizer.packetize([nal(0x41, 150)], 3600);
    assert.deepEqual(
      [...a.packets, ...b.packets].map((p) => readRtpHeader(p).sequenceNumber),
      [65534, 65535, 0],
    );
    assert.equal(b.firstSeq, 65535);
    assert.equal(packetizer.nextSequence, 1);
  });

  it('drops AUD and filler NAL units; an AU of only those is an empty batch', () => {
    const packetizer = withRtpState(new H264Packetizer(), { ssrc: 5, initialSequence: 10 });
    const slice = nal(0x41, 30);
    const batch = packetizer.packetize([hex('09 f0'), slice, nal(0x0c, 40), Buffer.alloc(0)], 0);
    assert.equal(batch.packets.length, 1);
    assert.deepEqual(depacketize(batch), [slice]);
    const empty = packetizer.packetize([hex('09 f0')], 3600);
    assert.deepEqual(empty.packets, []);
    assert.equal(empty.framed.length, 0);
    assert.equal(packetizer.nextSequence, 11);
  });

  it('inserts in-band SPS/PPS in front of a later IDR that lacks them', () => {
    const packetizer = withRtpState(new H264Packetizer(), { ssrc: 5, initialSequence: 0 });
    const idr1 = nal(0x65, 3000);
    const first = packetizer.packetize([hex('09 f0'), SPS, PPS, idr1], 0);
    assert.deepEqual(depacketize(first), [SPS, PPS, idr1]);
    assert.deepEqual(packetizer.parameterSets, { sps: SPS, pps: PPS });

    const p = nal(0x41, 500);
    const second = packetizer.packetize([p], 3600);
    assert.equal(second.keyframe, false);
    assert.deepEqual(depacketize(second), [p]);

    const sei = nal(0x06, 20);
    const idr2 = nal(0x65, 2000);
    const third = packetizer.packetize([hex('09 f0'), sei, idr2], 7200);
    assert.equal(third.keyframe, true);
    assert.deepEqual(depacketize(third), [SPS, PPS, sei, idr2]);
  });

  it('uses the latest in-band parameter sets', () => {
    const packetizer = withRtpState(new H264Packetizer(), { ssrc: 5, initialSequence: 0 });
    packetizer.packetize([SPS, PPS, nal(0x65, 100)], 0);
    packetizer.packetize([SPS_B, PPS_B, nal(0x65, 100)], 3600);
    const idr = nal(0x65, 100);
    assert.deepEqual(depacketize(packetizer.packetize([idr], 7200)), [SPS_B, PPS_B, idr]);
  });

  it('inserts out-of-band parameter sets, copied so the caller may reuse its buffers', () => {
    const packetizer = withRtpState(new H264Packetizer(), { ssrc: 5, initialSequence: 0 });
    assert.equal(packetizer.parameterSets, null);
    const sps = Buffer.from(SPS);
    const pps = Buffer.from(PPS);
    packetizer.setParameterSets(sps, pps);
    sps.fill(0);
    pps.fill(0);
    assert.deepEqual(packetizer.parameterSets, { sps: SPS, pps: PPS });
    const idr = nal(0x65, 100);
    assert.deepEqual(depacketize(packetizer.packetize([idr], 0)), [SPS, PPS, idr]);
  });

  it('completes only the missing parameter set, PPS right after an in-band SPS', () => {
    const packetizer = withRtpState(new H264Packetizer(), { ssrc: 5, initialSequence: 0 });
    packetizer.setParameterSets(SPS, PPS);
    const idr = nal(0x65, 100);
    assert.deepEqual(depacketize(packetizer.packetize([SPS, idr], 0)), [SPS, PPS, idr]);
    assert.deepEqual(depacketize(packetizer.packetize([PPS, idr], 0)), [SPS, PPS, idr]);
    assert.deepEqual(depacketize(packetizer.packetize([SPS, PPS, idr], 0)), [SPS, PPS, idr]);
  });

  it('sends an IDR as it is when no parameter sets are known', () => {
    const packetizer = withRtpState(new H264Packetizer(), { ssrc: 5, initialSequence: 0 });
    const idr = nal(0x65, 100);
    const batch = packetizer.packetize([idr], 0);
    assert.equal(batch.keyframe, true);
    assert.deepEqual(depacketize(batch), [idr]);
  });

  it('validates the mtu', () => {
    assert.throws(
      () => withRtpState(new H264Packetizer({ mtu: 2 }), { ssrc: 1, initialSequence: 0 }),
      RangeError,
    );
    assert.throws(
      () => withRtpState(new H264Packetizer({ mtu: 65524 }), { ssrc: 1, initialSequence: 0 }),
      RangeError,
    );
    const tiny = withRtpState(new H264Packetizer({ mtu: 3 }), { ssrc: 1, initialSequence: 0 });
    const input = nal(0x65, 5);
    const batch = tiny.packetize([input], 0);
    assert.equal(batch.packets.length, 4); // one byte per FU-A
    assert.deepEqual(depacketize(batch), [input]);
  });

  it('round-trips any access unit at any mtu (property)', () => {
    const unit = fc
      .record({
        type: fc.constantFrom(1, 6, 9, 12),
        nri: fc.integer({ min: 0, max: 3 }),
        length: fc.integer({ min: 1, max: 5000 }),
      })
      .map(({ type, nri, length }) => nal((nri << 5) | type, length));
    fc.assert(
      fc.property(
        fc.array(unit, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 3, max: 2000 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (nalus, mtu, initialSequence, timestamp) => {
          const packetizer = withRtpState(new H264Packetizer({ mtu }), { ssrc: 9, initialSequence });
          const batch = packetizer.packetize(nalus, timestamp);
          assertBatchRules(batch, mtu, initialSequence, timestamp);
          const kept = nalus.filter((n) => nalType(n) !== NalType.AUD && nalType(n) !== NalType.FILLER);
          assert.deepEqual(depacketize(batch), kept);
          assert.equal(packetizer.nextSequence, (initialSequence + batch.packets.length) & 0xffff);
        },
      ),
      { numRuns: 300 },
    );
  });
});
