import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { G711Depacketizer } from '../../../../src/codecs/g711/depacketizer.js';
import {
  alawToLinear,
  decodeAlaw,
  decodeMulaw,
  encodeAlaw,
  encodeMulaw,
  linearToAlaw,
  linearToMulaw,
  mulawToLinear,
} from '../../../../src/codecs/g711/g711.js';
import { G711Packetizer } from '../../../../src/codecs/g711/packetizer.js';
import { readRtpHeader } from '../../../../src/rtp/packet.js';
import { withRtpState } from '../../../helpers/rtp-state.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Width of the quantization interval a code stands for, in 16-bit units (T.81-style segments). */
const muStep = (code: number) => 8 << (((~code & 0xff) >> 4) & 7);
const aStep = (code: number) => {
  const exponent = (((code ^ 0x55) & 0xff) >> 4) & 7;
  return exponent <= 1 ? 16 : 16 << (exponent - 1);
};

const LAWS = [
  { name: 'mu-law', encode: linearToMulaw, decode: mulawToLinear, step: muStep },
  { name: 'A-law', encode: linearToAlaw, decode: alawToLinear, step: aStep },
] as const;

describe('G.711 companding', () => {
  it('matches the ITU-T G.711 code points', () => {
    // [linear, mu-law, A-law]: zero, the one's-complement -1, full scale, and segment edges.
    const cases: Array<[number, number, number]> = [
      [0, 0xff, 0xd5],
      [-1, 0x7f, 0x55],
      [32767, 0x80, 0xaa],
      [-32768, 0x00, 0x2a],
      [100, 0xf2, 0xd3],
      [-100, 0x73, 0x53],
      [40000, 0x80, 0xaa], // clamped
      [-40000, 0x00, 0x2a],
    ];
    for (const [linear, mu, a] of cases) {
      assert.equal(linearToMulaw(linear), mu, `mu-law(${linear})`);
      assert.equal(linearToAlaw(linear), a, `A-law(${linear})`);
    }
    // Decoding: each code is the middle of its interval.
    assert.deepEqual([0xff, 0x7f, 0x80, 0x00, 0xfe, 0xef].map(mulawToLinear), [0, 0, 32124, -32124, 8, 132]);
    assert.deepEqual([0xd5, 0x55, 0xaa, 0x2a, 0xd4, 0xc5].map(alawToLinear), [8, -8, 32256, -32256, 24, 264]);
  });

  for (const law of LAWS) {
    it(`${law.name}: every 16-bit sample lands in its interval, monotonically, within half a step`, () => {
      // G.711 truncates into the decision interval and decodes to its middle: so the decoded value
      // never decreases as the input grows, and is at most half an interval away (saturating at the ends).
      const max = law.decode(law.encode(32767));
      const min = law.decode(law.encode(-32768));
      let previous = -Infinity;
      for (let s = -32768; s <= 32767; s++) {
        const code = law.encode(s);
        const got = law.decode(code);
        assert.ok(got >= previous, `not monotonic at ${s}`);
        previous = got;
        if (s > max) assert.equal(got, max);
        else if (s < min) assert.equal(got, min);
        else assert.ok(Math.abs(got - s) <= law.step(code) / 2, `${s} -> ${got} (step ${law.step(code)})`);
      }
    });

    it(`${law.name}: decode then encode gives the code back`, () => {
      for (let code = 0; code < 256; code++) {
        const back = law.encode(law.decode(code));
        // mu-law has two zeros (0xff and 0x7f): both encode back as +0.
        assert.equal(
          back,
          law.name === 'mu-law' && code === 0x7f ? 0xff : code,
          `code 0x${code.toString(16)}`,
        );
      }
    });
  }

  it('encodes Int16Array and s16le Buffers alike, and decodes arrays', () => {
    const pcm = Int16Array.from([0, -1, 1000, -1000, 32767, -32768]);
    const bytes = Buffer.from(pcm.buffer);
    assert.deepEqual(encodeMulaw(pcm), hex('ff 7f ce 4e 80 00'));
    assert.deepEqual(encodeMulaw(bytes), encodeMulaw(pcm));
    assert.deepEqual(encodeAlaw(pcm), hex('d5 55 fa 7a aa 2a'));
    assert.deepEqual(encodeAlaw(bytes), encodeAlaw(pcm));
    assert.deepEqual([...decodeMulaw(hex('ff 80'))], [0, 32124]);
    assert.deepEqual([...decodeAlaw(hex('d5 2a'))], [8, -32256]);
  });
});

describe('G711Packetizer', () => {
  it('cuts a push into 160-sample packets, each timed by its first sample; PT 0 for mu-law', () => {
    const packetizer = withRtpState(new G711Packetizer({ law: 'mulaw' }), {
      ssrc: 0x01020304,
      initialSequence: 0xfffe,
    });
    const samples = Buffer.alloc(400);
    for (let i = 0; i < 400; i++) samples[i] = i & 0xff;
    const batch = packetizer.packetize(samples, 0xffffff00);
    assert.equal(batch.packets.length, 3);
    assert.deepEqual(
      batch.packets.map((p) => {
        const h = readRtpHeader(p);
        return [h.payloadType, h.sequenceNumber, h.timestamp, h.marker, h.payloadLength];
      }),
      [
        [0, 0xfffe, 0xffffff00, true, 160], // the first packet starts a talkspurt
        [0, 0xffff, 0xffffffa0, false, 160],
        [0, 0x0000, 0x00000040, false, 80],
      ],
    );
    assert.deepEqual(batch.packets[2].subarray(0, 14), hex('80 00 00 00 00 00 00 40 01 02 03 04 40 41'));
    assert.deepEqual(Buffer.concat(batch.packets.map((p) => p.subarray(12))), samples);
    // The next push continues where this one ended: no marker. One after a gap: marker.
    assert.equal(readRtpHeader(packetizer.packetize(Buffer.alloc(160), 0x00000090).packets[0]).marker, false);
    assert.equal(readRtpHeader(packetizer.packetize(Buffer.alloc(160), 0x00010000).packets[0]).marker, true);
    assert.equal(packetizer.packetize(Buffer.alloc(0), 5).packets.length, 0);
  });

  it('uses PT 8 for A-law and honours samplesPerPacket', () => {
    const packetizer = withRtpState(new G711Packetizer({ law: 'alaw', samplesPerPacket: 80 }), {
      ssrc: 1,
      initialSequence: 0,
    });
    const batch = packetizer.packetize(Buffer.alloc(160, 0xd5), 0);
    assert.deepEqual(
      batch.packets.map((p) => [readRtpHeader(p).payloadType, readRtpHeader(p).timestamp]),
      [
        [8, 0],
        [8, 80],
      ],
    );
    assert.throws(() =>
      withRtpState(new G711Packetizer({ law: 'alaw', samplesPerPacket: 0 }), { ssrc: 1, initialSequence: 0 }),
    );
  });

  it('round-trips through the depacketizer', () => {
    const samples = encodeAlaw(
      Int16Array.from({ length: 1000 }, (_, i) => Math.round(8000 * Math.sin(i / 5))),
    );
    const batch = withRtpState(new G711Packetizer({ law: 'alaw' }), {
      ssrc: 1,
      initialSequence: 65530,
    }).packetize(samples, 7);
    const depacketizer = new G711Depacketizer();
    const chunks = batch.packets.map((p) => depacketizer.push(p)!);
    assert.deepEqual(Buffer.concat(chunks.map((c) => c.samples)), samples);
    assert.deepEqual(
      chunks.map((c) => c.timestamp),
      [7, 167, 327, 487, 647, 807, 967],
    );
    assert.equal(depacketizer.lostPackets, 0);
  });
});
