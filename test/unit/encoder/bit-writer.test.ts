import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BitWriter } from '../../../src/codecs/h264/encoder/bit-writer.js';
import { bitString, TestBitReader } from './bits.js';

function written(fn: (w: BitWriter) => void): string {
  const w = new BitWriter(16);
  fn(w);
  const bits = w.bitLength;
  w.alignZero();
  return bitString(w.bytes(), bits);
}

describe('BitWriter', () => {
  it('writes ue(v) as Exp-Golomb codes (Table 9-2)', () => {
    const expected: [number, string][] = [
      [0, '1'],
      [1, '010'],
      [2, '011'],
      [3, '00100'],
      [4, '00101'],
      [6, '00111'],
      [7, '0001000'],
      [25, '000011010'],
      [30, '000011111'],
      [254, '000000011111111'],
      [255, '00000000100000000'],
    ];
    for (const [v, bits] of expected)
      assert.equal(
        written((w) => w.writeUe(v)),
        bits,
        `ue(${v})`,
      );
  });

  it('writes se(v) with the positive value first (Table 9-3)', () => {
    const expected: [number, string][] = [
      [0, '1'],
      [1, '010'],
      [-1, '011'],
      [2, '00100'],
      [-2, '00101'],
      [3, '00110'],
      [-3, '00111'],
    ];
    for (const [v, bits] of expected)
      assert.equal(
        written((w) => w.writeSe(v)),
        bits,
        `se(${v})`,
      );
  });

  it('writes u(n) MSB first across byte boundaries, including 32-bit values', () => {
    assert.equal(
      written((w) => w.writeBits(0b101, 3)),
      '101',
    );
    assert.equal(
      written((w) => {
        w.writeBits(1, 1);
        w.writeBits(0xdeadbeef, 32);
      }),
      '1' + (0xdeadbeef).toString(2),
    );
    assert.equal(
      written((w) => w.writeBits(0x1ff, 4)),
      '1111',
      'only the low bits are written',
    );
  });

  it('writes trailing bits and pads with zeros to the byte boundary', () => {
    const w = new BitWriter();
    w.writeBits(0b11, 2);
    w.writeTrailingBits();
    assert.deepEqual([...w.bytes()], [0b11100000]);
    w.writeTrailingBits();
    assert.deepEqual([...w.bytes()], [0b11100000, 0x80], 'aligned: a whole 0x80 byte');
  });

  it('grows past its initial capacity and resets without reallocating', () => {
    const w = new BitWriter(16);
    for (let i = 0; i < 1000; i++) w.writeBits(i & 0xff, 8);
    assert.equal(w.bytes().length, 1000);
    assert.equal(w.bytes()[999], 999 & 0xff);
    const store = w.buffer;
    w.reset();
    w.writeUe(5);
    assert.equal(w.bitLength, 5);
    assert.equal(w.buffer, store);
  });

  it('writeBytes / reserveBytes require byte alignment', () => {
    const w = new BitWriter();
    w.writeBit(1);
    assert.throws(() => w.writeBytes(new Uint8Array(2)));
    assert.throws(() => w.reserveBytes(2));
    w.alignZero();
    w.writeBytes(Uint8Array.of(1, 2));
    const at = w.reserveBytes(2);
    w.buffer[at] = 9;
    w.buffer[at + 1] = 8;
    assert.deepEqual([...w.bytes()], [0x80, 1, 2, 9, 8]);
  });

  it('round-trips random sequences of u/ue/se through an independent reader', () => {
    const item = fc.oneof(
      fc.record({ kind: fc.constant('u' as const), n: fc.integer({ min: 1, max: 32 }), v: fc.nat() }),
      fc.record({ kind: fc.constant('ue' as const), v: fc.integer({ min: 0, max: 2 ** 31 - 2 }) }),
      fc.record({ kind: fc.constant('se' as const), v: fc.integer({ min: -(2 ** 30), max: 2 ** 30 }) }),
    );
    fc.assert(
      fc.property(fc.array(item, { maxLength: 40 }), (items) => {
        const w = new BitWriter(8);
        for (const it of items) {
          if (it.kind === 'u') w.writeBits(it.v, it.n);
          else if (it.kind === 'ue') w.writeUe(it.v);
          else w.writeSe(it.v);
        }
        w.writeTrailingBits();
        const r = new TestBitReader(w.bytes());
        for (const it of items) {
          if (it.kind === 'u') assert.equal(r.u(it.n), it.n === 32 ? it.v >>> 0 : it.v % 2 ** it.n);
          else if (it.kind === 'ue') assert.equal(r.ue(), it.v);
          else assert.equal(r.se(), it.v);
        }
        assert.equal(r.u(1), 1, 'stop bit');
      }),
    );
  });
});
