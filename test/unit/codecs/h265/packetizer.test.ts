import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MediaFormatError } from '../../../../src/codecs/errors.js';
import { H265NalType, h265NalType } from '../../../../src/codecs/h265/annexb.js';
import { H265Depacketizer } from '../../../../src/codecs/h265/depacketizer.js';
import { H265Packetizer } from '../../../../src/codecs/h265/packetizer.js';
import type { RtpPacketBatch } from '../../../../src/rtp/batch.js';
import { readRtpHeader } from '../../../../src/rtp/packet.js';
import { withRtpState } from '../../../helpers/rtp-state.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// Parameter sets of the interop clip (libx265, 640x480).
const VPS = hex('40010c01ffff01600000030090000003000003005aba0240');
const SPS = hex('42010101600000030090000003000003005aa0050201e165ba4a4c2f016808000003000800000300c840');
const PPS = hex('4401c073c189');
const SPS_B = hex('420101016000000300900000030000030078a003c0801107cb965654a4c2f0168080000003008000000f04');
const AUD = hex('4601 50');

/** A NAL unit of `length` bytes (>= 2) of `type`, layer and TemporalId, with a recognisable body. */
function nal(type: number, length: number, layerId = 0, tid = 0, forbidden = 0): Buffer {
  const buf = Buffer.alloc(length);
  buf[0] = (forbidden << 7) | (type << 1) | (layerId >> 5);
  buf[1] = ((layerId & 0x1f) << 3) | (tid + 1);
  for (let i = 2; i < length; i++) buf[i] = (i * 7 + length) & 0xff;
  return buf;
}

function depacketize(batch: RtpPacketBatch): Buffer[] {
  const depacketizer = new H265Depacketizer();
  const aus = batch.packets.map((p) => depacketizer.push(p)).filter((au) => au !== null);
  assert.equal(aus.length, batch.packets.length > 0 ? 1 : 0, 'one access unit, completed by the marker');
  assert.deepEqual(depacketizer.flush(), []);
  return aus.length ? aus[0].nalus : [];
}

function payloads(batch: RtpPacketBatch): Buffer[] {
  return batch.packets.map((p) => p.subarray(readRtpHeader(p).payloadOffset));
}

const payloadType = (payload: Buffer) => (payload[0] >> 1) & 0x3f;

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
    const type = payloadType(payload);
    if (type === H265NalType.FU) assert.notEqual(payload[2] & 0xc0, 0xc0, 'FU with S and E');
    if (type === H265NalType.AP) {
      let units = 0;
      for (let p = 2; p < payload.length; p += 2 + payload.readUInt16BE(p)) units++;
      assert.ok(units >= 2, 'an AP aggregates at least two NAL units');
    }
    assert.deepEqual(
      batch.framed.subarray(pos, pos + 4),
      Buffer.from([0x24, 0, packet.length >> 8, packet.length & 0xff]),
    );
    assert.equal(packet.byteOffset, batch.framed.byteOffset + pos + 4);
    pos += 4 + packet.length;
  });
  assert.equal(pos, batch.framed.length);
}

const rtp = (marker: boolean, seq: string) => `80 ${marker ? 'e0' : '60'} ${seq} 00 01 5f 90 01 02 03 04`;

describe('H265Packetizer', () => {
  it('writes single NAL unit and FU packets byte for byte (mtu 8, no aggregation)', () => {
    const packetizer = withRtpState(new H265Packetizer({ mtu: 8, aggregate: false }), {
      ssrc: 0x01020304,
      initialSequence: 65535,
    });
    const idr = hex('26 01 af 01 02 03 04 05 06 07 08 09'); // IDR_W_RADL, 12 bytes
    const batch = packetizer.packetize([hex('40 01 0c 01'), hex('42 01 01 01'), hex('44 01 c1'), idr], 90000);
    assert.deepEqual(
      batch.framed,
      hex(
        `24 00 00 10 ${rtp(false, 'ff ff')} 40 01 0c 01` +
          `24 00 00 10 ${rtp(false, '00 00')} 42 01 01 01` +
          `24 00 00 0f ${rtp(false, '00 01')} 44 01 c1` +
          // PayloadHdr 62 01 = type 49, layer 0, TID+1 1; FU header 93 = S | type 19, 53 = E | type 19.
          // The 2-byte NAL header (26 01) is not sent.
          `24 00 00 14 ${rtp(false, '00 02')} 62 01 93 af 01 02 03 04` +
          `24 00 00 14 ${rtp(true, '00 03')} 62 01 53 05 06 07 08 09`,
      ),
    );
    assert.equal(batch.keyframe, true);
    assert.equal(batch.firstSeq, 65535);
    assert.equal(batch.rtpTimestamp, 90000);
    assert.equal(batch.payloadOctets, 27);
    assert.equal(packetizer.nextSequence, 4);
    assertBatchRules(batch, 8, 65535, 90000);
    assert.deepEqual(depacketize(batch).at(-1), idr);
  });

  it('aggregates small NAL units into one AP byte for byte', () => {
    const packetizer = withRtpState(new H265Packetizer({ mtu: 20 }), {
      ssrc: 0x01020304,
      initialSequence: 7,
    });
    const vps = hex('40 01 0c 01');
    const sps = hex('42 01 01 01');
    const pps = hex('44 01 c1');
    const idr = hex(
      '28 01 af 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14 15 16 17 18 19 1a 1b',
    );
    const batch = packetizer.packetize([vps, sps, pps, idr], 90000);
    assert.deepEqual(
      batch.framed,
      hex(
        // AP: PayloadHdr 60 01 (type 48, layer 0, TID+1 1), then size + NAL unit for each: 2+6+6+5 = 19 bytes.
        // The IDR does not fit with them (19 + 2 + 30 > 20), so it goes in FUs of 17 bytes of payload.
        `24 00 00 1f ${rtp(false, '00 07')} 60 01 00 04 40 01 0c 01 00 04 42 01 01 01 00 03 44 01 c1` +
          `24 00 00 20 ${rtp(false, '00 08')} 62 01 94 af 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10` +
          `24 00 00 1a ${rtp(true, '00 09')} 62 01 54 11 12 13 14 15 16 17 18 19 1a 1b`,
      ),
    );
    assert.equal(batch.payloadOctets, 19 + 20 + 14);
    assertBatchRules(batch, 20, 7, 90000);
    assert.deepEqual(depacketize(batch), [vps, sps, pps, idr]);
  });

  it('sets the AP header F bit to the OR and LayerId / TID to the minimum of its NAL units', () => {
    const packetizer = withRtpState(new H265Packetizer(), { ssrc: 1, initialSequence: 0 });
    const a = nal(39, 10, 2, 3); // prefix SEI, layer 2, TID 3: header 4e 14
    const b = nal(1, 12, 1, 5, 1); // TRAIL_R, layer 1, TID 5, F set: header 82 0e
    const c = nal(1, 12, 40, 2); // layer 40 (the high bit in the first byte), TID 2: header 03 43
    assert.deepEqual(
      [a.subarray(0, 2), b.subarray(0, 2), c.subarray(0, 2)],
      [hex('4e14'), hex('820e'), hex('0343')],
    );
    const [ap] = payloads(packetizer.packetize([a, b, c], 0));
    // F 1, type 48, layer min(2, 1, 40) = 1, TID+1 min(4, 6, 3) = 3.
    assert.deepEqual(ap.subarray(0, 2), hex('e0 0b'));
    const [single] = payloads(packetizer.packetize([a, c], 0));
    // layer min(2, 40) = 2, TID+1 min(4, 3) = 3; layer 40 alone would set the first byte's low bit.
    assert.deepEqual(single.subarray(0, 2), hex('60 13'));
  });

  it('copies F, LayerId and TID into the FU PayloadHdr and keeps the type in the FU header', () => {
    const packetizer = withRtpState(new H265Packetizer({ mtu: 8 }), { ssrc: 1, initialSequence: 0 });
    // TRAIL_R of layer 34 (high bit in byte 0), TID 0: header 03 11; 3 fragments.
    const input = nal(1, 15, 34, 0);
    assert.deepEqual(input.subarray(0, 2), hex('03 11'));
    const sent = payloads(packetizer.packetize([input], 0));
    assert.deepEqual(
      sent.map((p) => p.subarray(0, 3)),
      [hex('63 11 81'), hex('63 11 01'), hex('63 11 41')],
    );
    // F set, type 21 (CRA), layer 0, TID 6.
    const cra = nal(21, 10, 0, 6, 1);
    const fu = payloads(packetizer.packetize([cra], 0));
    assert.deepEqual(
      fu.map((p) => p.subarray(0, 3)),
      [hex('e2 07 95'), hex('e2 07 55')],
    );
    assert.deepEqual(depacketize(packetizer.packetize([input, cra], 0)), [input, cra]);
  });

  it('fragments around the mtu boundary and round-trips through the depacketizer', () => {
    const mtu = 1400;
    const cases: [number, number][] = [
      [2, 1],
      [mtu - 1, 1],
      [mtu, 1],
      [mtu + 1, 2],
      [2 * (mtu - 3) + 2, 2], // exactly two full fragments of mtu - 3
      [2 * (mtu - 3) + 3, 3],
      [100 * 1024, 74],
    ];
    for (const [length, packets] of cases) {
      const packetizer = withRtpState(new H265Packetizer(), { ssrc: 5, initialSequence: 100 });
      const input = nal(1, length);
      const batch = packetizer.packetize([input], 3000);
      assert.equal(batch.packets.length, packets, `length ${length}`);
      assertBatchRules(batch, mtu, 100, 3000);
      const sent = payloads(batch);
      if (packets > 1) {
        // Greedy fragments: all full but the last.
        for (const p of sent.slice(0, -1)) assert.equal(p.length, mtu);
        assert.equal(sent.at(-1)!.length, length - 2 - (mtu - 3) * (packets - 1) + 3);
      }
      assert.equal(batch.payloadOctets, packets === 1 ? length : length - 2 + 3 * packets);
      assert.deepEqual(depacketize(batch), [input], `round trip of ${length}`);
    }
  });

  it('aggregates greedily: an AP closes when the next NAL unit would pass the mtu', () => {
    const mtu = 100;
    const packetizer = withRtpState(new H265Packetizer({ mtu }), { ssrc: 5, initialSequence: 0 });
    // 2 + (2+40) + (2+54) = 100: fits exactly; the next one starts a new packet.
    const units = [nal(32, 40), nal(33, 54), nal(34, 30), nal(39, 64), nal(1, 300)];
    const batch = packetizer.packetize(units, 0);
    const sent = payloads(batch);
    assert.deepEqual(sent.map(payloadType), [48, 48, 49, 49, 49, 49]);
    assert.deepEqual(
      sent.map((p) => p.length),
      [100, 2 + 32 + 66, 100, 100, 100, 300 - 2 - 3 * 97 + 3],
    );
    assertBatchRules(batch, mtu, 0, 0);
    assert.deepEqual(depacketize(batch), units);
    // A NAL unit that fits alone but not with its neighbour is a single NAL unit packet.
    const lone = [nal(1, 97), nal(1, 50), nal(1, 44)];
    assert.deepEqual(payloads(packetizer.packetize(lone, 0)).map(payloadType), [1, 48]);
    // Each aggregated unit costs its 2-byte size field: 2 + (2+40) + (2+55) = 101 does not fit.
    assert.deepEqual(payloads(packetizer.packetize([nal(1, 40), nal(1, 55)], 0)).map(payloadType), [1, 1]);
    assert.deepEqual(payloads(packetizer.packetize([nal(1, 40), nal(1, 54)], 0)).map(payloadType), [48]);
  });

  it('sends no APs with aggregate: false', () => {
    const packetizer = withRtpState(new H265Packetizer({ aggregate: false }), {
      ssrc: 5,
      initialSequence: 0,
    });
    const batch = packetizer.packetize([VPS, SPS, PPS, nal(19, 3000)], 0);
    assert.deepEqual(payloads(batch).map(payloadType), [32, 33, 34, 49, 49, 49]);
  });

  it('marks IRAP access units (types 16..21) as keyframes, others not', () => {
    const packetizer = withRtpState(new H265Packetizer(), { ssrc: 5, initialSequence: 0 });
    for (let type = 0; type <= 21; type++) {
      if (type >= 10 && type <= 15) continue; // reserved non-IRAP VCL types
      const batch = packetizer.packetize([nal(39, 20), nal(type, 50)], 0);
      assert.equal(batch.keyframe, type >= 16, `type ${type}`);
    }
    assert.equal(packetizer.packetize([VPS, SPS, PPS], 0).keyframe, false);
  });

  it('wraps the sequence number 65535 → 0 across access units', () => {
    const packetizer = withRtpState(new H265Packetizer({ mtu: 100 }), { ssrc: 5, initialSequence: 65534 });
    const a = packetizer.packetize([nal(1, 50)], 0);
    const b = packetizer.packetize([nal(1, 150)], 3600);
    assert.deepEqual(
      [...a.packets, ...b.packets].map((p) => readRtpHeader(p).sequenceNumber),
      [65534, 65535, 0],
    );
    assert.equal(b.firstSeq, 65535);
    assert.equal(packetizer.nextSequence, 1);
  });

  it('drops AUD and filler data and empty NAL units; an AU of only those is an empty batch', () => {
    const packetizer = withRtpState(new H265Packetizer(), { ssrc: 5, initialSequence: 10 });
    const slice = nal(1, 30);
    const batch = packetizer.packetize([AUD, slice, nal(38, 40), Buffer.alloc(0)], 0);
    assert.equal(batch.packets.length, 1);
    assert.deepEqual(depacketize(batch), [slice]);
    const empty = packetizer.packetize([AUD, nal(38, 10)], 3600);
    assert.deepEqual(empty.packets, []);
    assert.equal(empty.framed.length, 0);
    assert.equal(packetizer.nextSequence, 11);
  });

  it('throws MediaFormatError for a 1-byte NAL unit, without consuming sequence numbers', () => {
    const packetizer = withRtpState(new H265Packetizer(), { ssrc: 5, initialSequence: 10 });
    assert.throws(() => packetizer.packetize([nal(1, 30), hex('02')], 0), MediaFormatError);
    assert.equal(packetizer.nextSequence, 10);
  });

  it('inserts remembered VPS/SPS/PPS in front of a later IRAP access unit that lacks them', () => {
    for (const aggregate of [true, false]) {
      const packetizer = withRtpState(new H265Packetizer({ aggregate }), { ssrc: 5, initialSequence: 0 });
      assert.equal(packetizer.parameterSets, null);
      const idr1 = nal(19, 3000);
      assert.deepEqual(depacketize(packetizer.packetize([AUD, VPS, SPS, PPS, idr1], 0)), [
        VPS,
        SPS,
        PPS,
        idr1,
      ]);
      assert.deepEqual(packetizer.parameterSets, { vps: VPS, sps: SPS, pps: PPS });

      const p = nal(1, 500);
      const second = packetizer.packetize([p], 3600);
      assert.equal(second.keyframe, false);
      assert.deepEqual(depacketize(second), [p]);

      // AUD dropped; the sets go after it and before the prefix SEI.
      const sei = nal(39, 20);
      const cra = nal(21, 2000);
      const suffix = nal(40, 10);
      const third = packetizer.packetize([AUD, sei, cra, suffix], 7200);
      assert.equal(third.keyframe, true);
      assert.deepEqual(depacketize(third), [VPS, SPS, PPS, sei, cra, suffix]);
    }
  });

  it('completes only the missing sets, each in its place (VPS < SPS < PPS < the rest)', () => {
    const packetizer = withRtpState(new H265Packetizer(), { ssrc: 5, initialSequence: 0 });
    packetizer.setParameterSets(VPS, SPS, PPS);
    const idr = nal(20, 100);
    assert.deepEqual(depacketize(packetizer.packetize([SPS, idr], 0)), [VPS, SPS, PPS, idr]);
    assert.deepEqual(depacketize(packetizer.packetize([PPS, idr], 0)), [VPS, SPS, PPS, idr]);
    assert.deepEqual(depacketize(packetizer.packetize([VPS, idr], 0)), [VPS, SPS, PPS, idr]);
    assert.deepEqual(depacketize(packetizer.packetize([VPS, PPS, idr], 0)), [VPS, SPS, PPS, idr]);
    assert.deepEqual(depacketize(packetizer.packetize([VPS, SPS, PPS, idr], 0)), [VPS, SPS, PPS, idr]);
  });

  it('uses the latest in-band parameter sets', () => {
    const packetizer = withRtpState(new H265Packetizer(), { ssrc: 5, initialSequence: 0 });
    packetizer.packetize([VPS, SPS, PPS, nal(19, 100)], 0);
    packetizer.packetize([SPS_B, nal(19, 100)], 3600);
    const idr = nal(19, 100);
    assert.deepEqual(depacketize(packetizer.packetize([idr], 7200)), [VPS, SPS_B, PPS, idr]);
  });

  it('inserts out-of-band parameter sets, copied so the caller may reuse its buffers', () => {
    const packetizer = withRtpState(new H265Packetizer(), { ssrc: 5, initialSequence: 0 });
    const [vps, sps, pps] = [Buffer.from(VPS), Buffer.from(SPS), Buffer.from(PPS)];
    packetizer.setParameterSets(vps, sps, pps);
    for (const b of [vps, sps, pps]) b.fill(0);
    assert.deepEqual(packetizer.parameterSets, { vps: VPS, sps: SPS, pps: PPS });
    const idr = nal(19, 100);
    assert.deepEqual(depacketize(packetizer.packetize([idr], 0)), [VPS, SPS, PPS, idr]);
    // In-band sets are copied too.
    const inband = Buffer.from(SPS_B);
    packetizer.packetize([inband, nal(1, 10)], 0);
    inband.fill(0);
    assert.deepEqual(packetizer.parameterSets?.sps, SPS_B);
  });

  it('refuses out-of-band parameter sets of the wrong types', () => {
    const packetizer = withRtpState(new H265Packetizer(), { ssrc: 5, initialSequence: 0 });
    assert.throws(() => packetizer.setParameterSets(SPS, VPS, PPS), MediaFormatError);
    assert.throws(() => packetizer.setParameterSets(VPS, SPS, hex('44')), MediaFormatError);
    assert.equal(packetizer.parameterSets, null);
  });

  it('sends an IRAP as it is when no parameter sets are known', () => {
    const packetizer = withRtpState(new H265Packetizer(), { ssrc: 5, initialSequence: 0 });
    const idr = nal(19, 100);
    const batch = packetizer.packetize([idr], 0);
    assert.equal(batch.keyframe, true);
    assert.deepEqual(depacketize(batch), [idr]);
  });

  it('validates the mtu', () => {
    assert.throws(
      () => withRtpState(new H265Packetizer({ mtu: 3 }), { ssrc: 1, initialSequence: 0 }),
      RangeError,
    );
    assert.throws(
      () => withRtpState(new H265Packetizer({ mtu: 65524 }), { ssrc: 1, initialSequence: 0 }),
      RangeError,
    );
    const tiny = withRtpState(new H265Packetizer({ mtu: 4 }), { ssrc: 1, initialSequence: 0 });
    const input = nal(19, 7);
    const batch = tiny.packetize([input], 0);
    assert.equal(batch.packets.length, 5); // one byte per FU
    assert.deepEqual(depacketize(batch), [input]);
  });

  it('round-trips any access unit at any mtu, with or without APs (property)', () => {
    const unit = fc
      .record({
        type: fc.constantFrom(0, 1, 19, 21, 32, 33, 34, 35, 38, 39, 40),
        layer: fc.integer({ min: 0, max: 63 }),
        tid: fc.integer({ min: 0, max: 6 }),
        length: fc.oneof(fc.integer({ min: 2, max: 40 }), fc.integer({ min: 2, max: 5000 })),
      })
      .map(({ type, layer, tid, length }) => nal(type, length, layer, tid));
    fc.assert(
      fc.property(
        fc.array(unit, { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 4, max: 2000 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (nalus, mtu, aggregate, initialSequence, timestamp) => {
          const packetizer = withRtpState(new H265Packetizer({ mtu, aggregate }), {
            ssrc: 9,
            initialSequence,
          });
          const batch = packetizer.packetize(nalus, timestamp);
          assertBatchRules(batch, mtu, initialSequence, timestamp);
          if (!aggregate) assert.ok(payloads(batch).every((p) => payloadType(p) !== H265NalType.AP));
          const kept = nalus.filter(
            (n) => h265NalType(n) !== H265NalType.AUD && h265NalType(n) !== H265NalType.FD,
          );
          assert.deepEqual(depacketize(batch), kept);
          assert.equal(packetizer.nextSequence, (initialSequence + batch.packets.length) & 0xffff);
        },
      ),
      { numRuns: 300 },
    );
  });
});
