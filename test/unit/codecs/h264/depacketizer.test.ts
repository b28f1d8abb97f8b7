import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { H264Depacketizer } from '../../../../src/codecs/h264/depacketizer.js';
import { H264Packetizer } from '../../../../src/codecs/h264/packetizer.js';
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

describe('H264Depacketizer', () => {
  it('passes single NAL unit packets through and emits on the marker', () => {
    const d = new H264Depacketizer();
    assert.equal(d.push(rtp(1, 3000, false, '67 42 c0 1e')), null);
    assert.equal(d.push(rtp(2, 3000, false, '68 ce 3c 80')), null);
    assert.deepEqual(d.push(rtp(3, 3000, true, '65 88 84 00')), {
      nalus: [hex('67 42 c0 1e'), hex('68 ce 3c 80'), hex('65 88 84 00')],
      timestamp: 3000,
      keyframe: true,
    });
    assert.deepEqual(d.push(rtp(4, 6000, true, '41 9a')), {
      nalus: [hex('41 9a')],
      timestamp: 6000,
      keyframe: false,
    });
    assert.equal(d.lostPackets, 0);
  });

  it('splits a STAP-A (RFC 6184 5.7.1: NRI 3 | 24, 16-bit sizes)', () => {
    const d = new H264Depacketizer();
    const au = d.push(rtp(1, 0, true, '78  00 04 67 42 c0 1e  00 02 68 ce  00 03 65 88 84'));
    assert.deepEqual(au?.nalus, [hex('67 42 c0 1e'), hex('68 ce'), hex('65 88 84')]);
    assert.equal(au?.keyframe, true);
  });

  it('reassembles FU-A fragments, restoring the NAL header from indicator and FU header', () => {
    const d = new H264Depacketizer();
    assert.equal(d.push(rtp(10, 0, false, '7c 85 01 02 03')), null);
    assert.equal(d.push(rtp(11, 0, false, '7c 05 04 05')), null);
    assert.deepEqual(d.push(rtp(12, 0, true, '7c 45 06')), {
      nalus: [hex('65 01 02 03 04 05 06')],
      timestamp: 0,
      keyframe: true,
    });
  });

  it('drops an FU-A broken by a lost fragment and counts the loss', () => {
    const d = new H264Depacketizer();
    d.push(rtp(10, 0, false, '41 aa'));
    d.push(rtp(11, 0, false, '5c 81 01 02'));
    // seq 12 lost
    const au = d.push(rtp(13, 0, true, '5c 41 05 06'));
    assert.deepEqual(au?.nalus, [hex('41 aa')]);
    assert.equal(d.lostPackets, 1);
    assert.equal(d.droppedFragmentCount, 2);
    // The next access unit is unaffected.
    assert.deepEqual(d.push(rtp(14, 3600, true, '41 bb'))?.nalus, [hex('41 bb')]);
  });

  it('drops an FU-A whose end never came when a new one starts', () => {
    const d = new H264Depacketizer();
    d.push(rtp(1, 0, false, '7c 85 01'));
    d.push(rtp(2, 0, false, '7c 85 09'));
    assert.deepEqual(d.push(rtp(3, 0, true, '7c 45 0a'))?.nalus, [hex('65 09 0a')]);
    assert.equal(d.droppedFragmentCount, 1);
    assert.equal(d.lostPackets, 0);
  });

  it('emits the previous access unit when the timestamp changes without a marker', () => {
    const d = new H264Depacketizer();
    assert.equal(d.push(rtp(1, 0, false, '41 01')), null);
    assert.deepEqual(d.push(rtp(2, 3600, false, '41 02')), {
      nalus: [hex('41 01')],
      timestamp: 0,
      keyframe: false,
    });
    // Marker lost again, and the next AU is a single marked packet: both complete in one call.
    assert.deepEqual(d.push(rtp(3, 7200, true, '41 03'))?.nalus, [hex('41 02')]);
    assert.deepEqual(d.push(rtp(4, 7200, false, '41 04'))?.nalus, [hex('41 03')]);
    assert.deepEqual(d.flush(), [{ nalus: [hex('41 04')], timestamp: 7200, keyframe: false }]);
    assert.deepEqual(d.flush(), []);
  });

  it('ignores late and duplicate packets but resyncs on a large jump', () => {
    const d = new H264Depacketizer();
    d.push(rtp(100, 0, false, '41 01'));
    assert.equal(d.push(rtp(100, 0, false, '41 01')), null); // duplicate
    assert.equal(d.push(rtp(60, 0, false, '41 02')), null); // late
    assert.deepEqual(d.push(rtp(101, 0, true, '41 03'))?.nalus, [hex('41 01'), hex('41 03')]);
    assert.equal(d.lostPackets, 0);
    // Across the 16-bit wrap.
    const w = new H264Depacketizer();
    w.push(rtp(65535, 0, true, '41 01'));
    assert.deepEqual(w.push(rtp(0, 3600, true, '41 02'))?.nalus, [hex('41 02')]);
    assert.equal(w.lostPackets, 0);
    w.push(rtp(5, 7200, true, '41 03'));
    assert.equal(w.lostPackets, 4);
  });

  it('rejects malformed or mode-1-forbidden payloads without disturbing the state', () => {
    const d = new H264Depacketizer();
    d.push(rtp(1, 0, false, '41 01'));
    assertRtpFormatError(() => d.push(rtp(2, 0, false, '')), /empty payload/);
    assertRtpFormatError(() => d.push(rtp(2, 0, false, '78 00 05 67 42')), /runs past/);
    assertRtpFormatError(() => d.push(rtp(2, 0, false, '78 00')), /STAP-A/);
    assertRtpFormatError(() => d.push(rtp(2, 0, false, '78 00 01 09 00')), /NAL size runs past/);
    assertRtpFormatError(() => d.push(rtp(2, 0, false, '7c')), /FU-A without FU header/);
    assertRtpFormatError(() => d.push(rtp(2, 0, false, '79 00 00 00 01 65')), /type 25/); // STAP-B
    assertRtpFormatError(() => d.push(rtp(2, 0, false, '7d 85 00 00 01')), /type 29/); // FU-B
    assertRtpFormatError(() => d.push(rtp(2, 0, false, '60 01')), /type 0/);
    assertRtpFormatError(() => d.push(hex('40 60 00 02')), /too short/);
    assert.deepEqual(d.push(rtp(2, 0, true, '41 02'))?.nalus, [hex('41 01'), hex('41 02')]);
    assert.equal(d.lostPackets, 0);
  });

  it('decodes a stream of packetized access units with one lost packet', () => {
    const packetizer = withRtpState(new H264Packetizer({ mtu: 100 }), { ssrc: 1, initialSequence: 65530 });
    const aus = [0, 1, 2].map((i) => [Buffer.concat([hex(i === 0 ? '65' : '41'), Buffer.alloc(250, i + 1)])]);
    const packets = aus.flatMap((au, i) => packetizer.packetize(au, i * 3600).packets);
    const d = new H264Depacketizer();
    const out = packets
      .filter((_, i) => i !== 4) // a middle fragment of the second access unit
      .map((p) => d.push(p))
      .filter((au) => au !== null);
    assert.deepEqual(
      out.map((au) => [au.timestamp, au.keyframe, au.nalus]),
      [
        [0, true, aus[0]],
        [7200, false, aus[2]],
      ],
    );
    assert.equal(d.lostPackets, 1);
  });

  it('throws nothing but RtpFormatError on arbitrary packets (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 10 }), (payloads) => {
        const d = new H264Depacketizer();
        payloads.forEach((payload, i) => {
          try {
            const au = d.push(rtp(i, i >> 2, (i & 3) === 3, Buffer.from(payload)));
            if (au) for (const n of au.nalus) assert.ok(n.length > 0);
          } catch (err) {
            if (!(err instanceof RtpFormatError)) throw err;
          }
        });
      }),
      { numRuns: 1000 },
    );
  });
});
