import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { H265Depacketizer } from '../../../../src/codecs/h265/depacketizer.js';
import { H265Packetizer } from '../../../../src/codecs/h265/packetizer.js';
import { RtpFormatError } from '../../../../src/rtp/errors.js';
import { writeRtpHeader } from '../../../../src/rtp/packet.js';
import { withRtpState } from '../../../helpers/rtp-state.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** An RTP packet (PT 96, SSRC 1) around `payload`. */
function rtp(seq: number, timestamp: number, marker: boolean, payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? hex(payload) : payload;
  const packet = Buffer.alloc(12 + body.length);
  writeRtpHeader(packet, 0, { marker, payloadType: 96, sequenceNumber: seq, timestamp, ssrc: 1 });
  body.copy(packet, 12);
  return packet;
}

function assertRtpFormatError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof RtpFormatError && message.test(err.message));
}

describe('H265Depacketizer', () => {
  it('passes single NAL unit packets through and emits on the marker', () => {
    const d = new H265Depacketizer();
    assert.equal(d.push(rtp(1, 3000, false, '40 01 0c 01')), null);
    assert.equal(d.push(rtp(2, 3000, false, '42 01 01 01')), null);
    assert.equal(d.push(rtp(3, 3000, false, '44 01 c1')), null);
    assert.deepEqual(d.push(rtp(4, 3000, true, '26 01 af 09')), {
      nalus: [hex('40 01 0c 01'), hex('42 01 01 01'), hex('44 01 c1'), hex('26 01 af 09')],
      timestamp: 3000,
      keyframe: true,
    });
    assert.deepEqual(d.push(rtp(5, 6000, true, '02 01 d0 00')), {
      nalus: [hex('02 01 d0 00')],
      timestamp: 6000,
      keyframe: false,
    });
    assert.equal(d.lostPackets, 0);
  });

  it('splits an AP (RFC 7798 4.4.2: PayloadHdr type 48, 16-bit NALU sizes)', () => {
    const d = new H265Depacketizer();
    const au = d.push(rtp(1, 0, true, '60 01  00 04 40 01 0c 01  00 02 42 01  00 03 2a 01 af'));
    assert.deepEqual(au?.nalus, [hex('40 01 0c 01'), hex('42 01'), hex('2a 01 af')]);
    assert.equal(au?.keyframe, true); // type 21 (CRA) is IRAP
  });

  it('reassembles FU fragments, restoring the NAL header from PayloadHdr and FU header', () => {
    const d = new H265Depacketizer();
    // PayloadHdr 63 11: F 0, type 49, layer 34, TID+1 1; FuType 19 (IDR_W_RADL).
    assert.equal(d.push(rtp(10, 0, false, '63 11 93 01 02 03')), null);
    assert.equal(d.push(rtp(11, 0, false, '63 11 13 04 05')), null);
    assert.deepEqual(d.push(rtp(12, 0, true, '63 11 53 06')), {
      // Type 19 << 1 = 0x26, plus the layer's high bit: 0x27; second byte as sent.
      nalus: [hex('27 11 01 02 03 04 05 06')],
      timestamp: 0,
      keyframe: true,
    });
    // F bit and TID 6 kept.
    assert.deepEqual(d.push(rtp(13, 10, false, 'e2 07 81 aa'))?.nalus, undefined);
    assert.deepEqual(d.push(rtp(14, 10, true, 'e2 07 41 bb'))?.nalus, [hex('82 07 aa bb')]);
  });

  it('refuses what RFC 7798 does not allow or this reader does not take', () => {
    const d = new H265Depacketizer();
    assertRtpFormatError(() => d.push(rtp(1, 0, true, '')), /no payload header/);
    assertRtpFormatError(() => d.push(rtp(1, 0, true, '02')), /no payload header/);
    assertRtpFormatError(() => d.push(rtp(1, 0, true, '64 01 00 00')), /type 50 not supported/); // PACI
    assertRtpFormatError(() => d.push(rtp(1, 0, true, '7e 01 00 00')), /type 63 not supported/);
    assertRtpFormatError(() => d.push(rtp(1, 0, true, '62 01')), /FU without FU header/);
    assertRtpFormatError(() => d.push(rtp(1, 0, true, '62 01 d3 00')), /both start and end/);
    assertRtpFormatError(() => d.push(rtp(1, 0, true, '62 01 b0 00')), /type 48/);
    assertRtpFormatError(() => d.push(rtp(1, 0, true, '62 01 b1 00')), /type 49/);
    assertRtpFormatError(() => d.push(rtp(1, 0, true, '60 01')), /without aggregation units/);
    assertRtpFormatError(() => d.push(rtp(1, 0, true, '60 01 00')), /size runs past/);
    assertRtpFormatError(() => d.push(rtp(1, 0, true, '60 01 00 05 40 01 0c')), /runs past the payload end/);
    assertRtpFormatError(() => d.push(rtp(1, 0, true, '60 01 00 01 40 00 02 42 01')), /NAL unit of 1 bytes/);
    // Nothing was taken from the refused packets.
    assert.deepEqual(d.flush(), []);
    assert.equal(d.lostPackets, 0);
  });

  it('drops an FU whose middle fragment was lost and counts the loss', () => {
    const d = new H265Depacketizer();
    d.push(rtp(1, 0, false, '62 01 93 01'));
    d.push(rtp(3, 0, false, '62 01 13 03')); // 2 lost
    const au = d.push(rtp(4, 0, true, '62 01 53 04'));
    assert.equal(au, null, 'no NAL unit completed, so no access unit');
    assert.equal(d.lostPackets, 1);
    assert.equal(d.droppedFragmentCount, 3);
    // The next access unit is fine.
    assert.deepEqual(d.push(rtp(5, 3000, true, '02 01 d0'))?.nalus, [hex('02 01 d0')]);
  });

  it('emits an access unit whose marker was lost when the timestamp changes', () => {
    const d = new H265Depacketizer();
    assert.equal(d.push(rtp(1, 0, false, '02 01 d0')), null);
    // The marker packet (seq 2) is lost; seq 3 starts the next access unit.
    const au = d.push(rtp(3, 3000, false, '02 01 c0'));
    assert.deepEqual(au, { nalus: [hex('02 01 d0')], timestamp: 0, keyframe: false });
    assert.equal(d.lostPackets, 1);
    assert.deepEqual(d.flush(), [{ nalus: [hex('02 01 c0')], timestamp: 3000, keyframe: false }]);
  });

  it('drops late and duplicate packets', () => {
    const d = new H265Depacketizer();
    d.push(rtp(100, 0, false, '02 01 d0'));
    assert.equal(d.push(rtp(100, 0, false, '02 01 d0')), null);
    assert.equal(d.push(rtp(60, 0, false, '02 01 d0')), null);
    assert.deepEqual(d.push(rtp(101, 0, true, '02 01 50'))?.nalus, [hex('02 01 d0'), hex('02 01 50')]);
  });

  it('reads past DONL and DOND when sprop-max-don-diff > 0', () => {
    const d = new H265Depacketizer({ donl: true });
    // Single NAL unit: header, DONL, rest.
    assert.equal(d.push(rtp(1, 0, false, '40 01 00 07 0c 01')), null);
    // AP: DONL before the first unit, DOND before the others.
    assert.equal(d.push(rtp(2, 0, false, '60 01  00 08 00 02 42 01  01 00 03 44 01 c1')), null);
    // FU: DONL after the FU header of the first fragment only.
    assert.equal(d.push(rtp(3, 0, false, '62 01 93 00 0a 01 02')), null);
    assert.deepEqual(d.push(rtp(4, 0, true, '62 01 53 03')), {
      nalus: [hex('40 01 0c 01'), hex('42 01'), hex('44 01 c1'), hex('26 01 01 02 03')],
      timestamp: 0,
      keyframe: true,
    });
    assertRtpFormatError(() => d.push(rtp(5, 0, true, '40 01 00')), /without DONL/);
    assertRtpFormatError(() => d.push(rtp(5, 0, true, '62 01 93 00')), /FU start without DONL/);
    assertRtpFormatError(() => d.push(rtp(5, 0, true, '60 01 00 08 00 02 42 01 01')), /size runs past/);
  });

  it('recovers the access units of a packetized stream through reordering-free loss (property)', () => {
    // Any subset of a packetized stream's packets: no exception, and every access unit that comes out
    // is made of NAL units that were sent, in order.
    const packetizer = withRtpState(new H265Packetizer({ mtu: 50 }), { ssrc: 1, initialSequence: 65500 });
    const sent: Buffer[][] = [];
    const packets: Buffer[] = [];
    for (let i = 0; i < 20; i++) {
      const au = [
        hex('4e01 05 aa 80'),
        Buffer.concat([hex(i % 5 === 0 ? '2601' : '0201'), Buffer.alloc(20 + i * 9, i)]),
      ];
      sent.push(au);
      packets.push(...packetizer.packetize(au, i * 3000).packets);
    }
    const sentNals = new Set(sent.flat().map((n) => n.toString('hex')));
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { minLength: packets.length, maxLength: packets.length }),
        (keep) => {
          const d = new H265Depacketizer();
          const aus = packets.filter((_, i) => keep[i]).flatMap((p) => d.push(p) ?? []);
          aus.push(...d.flush());
          for (const au of aus) for (const nal of au.nalus) assert.ok(sentNals.has(nal.toString('hex')));
          if (keep.every(Boolean))
            assert.deepEqual(
              aus.map((au) => au.nalus),
              sent,
            );
        },
      ),
      { numRuns: 200 },
    );
  });
});
