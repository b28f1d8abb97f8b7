import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BitReader, removeEmulationPrevention } from '../../../src/codecs/bitreader.js';
import { MediaFormatError } from '../../../src/codecs/errors.js';
import { addEmulationPrevention, BitWriter } from './bitwriter.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Bits given as a string of 0/1 (spaces ignored), zero-padded to bytes. */
function bits(s: string): Buffer {
  const w = new BitWriter();
  for (const c of s.replace(/\s+/g, '')) w.u(1, c === '1' ? 1 : 0);
  return w.toBuffer();
}

describe('removeEmulationPrevention', () => {
  it('drops the 03 of every 00 00 03', () => {
    assert.deepEqual(removeEmulationPrevention(hex('00 00 03 01')), hex('00 00 01'));
    assert.deepEqual(
      removeEmulationPrevention(hex('aa 00 00 03 00 00 03 00 bb')),
      hex('aa 00 00 00 00 00 bb'),
    );
    assert.deepEqual(removeEmulationPrevention(hex('00 00 03')), hex('00 00'));
    // Only the first 03 after two zeros is an emulation prevention byte.
    assert.deepEqual(removeEmulationPrevention(hex('00 00 03 03 00 00 03 03')), hex('00 00 03 00 00 03'));
    // Zeros counted before an emulation prevention byte do not carry over it.
    assert.deepEqual(removeEmulationPrevention(hex('00 00 03 00 03')), hex('00 00 00 03'));
  });

  it('returns the input itself when there is nothing to remove', () => {
    const nal = hex('67 42 c0 1e 00 03 00 00 01');
    assert.equal(removeEmulationPrevention(nal), nal);
  });

  it('inverts emulation prevention (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (rbsp) => {
        assert.deepEqual(removeEmulationPrevention(addEmulationPrevention(rbsp)), Buffer.from(rbsp));
      }),
    );
  });
});

describe('BitReader', () => {
  it('reads fixed-width fields MSB first', () => {
    const r = new BitReader(hex('b3 0f ff ff ff ff'));
    assert.equal(r.u(1), 1);
    assert.equal(r.u(3), 0b011);
    assert.equal(r.u(4), 0b0011);
    assert.equal(r.position, 8);
    assert.equal(r.u(0), 0);
    assert.equal(r.u(8), 0x0f);
    assert.equal(r.u(32), 0xffffffff);
    assert.equal(r.bitsLeft, 0);
  });

  it('starts at a byte offset', () => {
    const r = new BitReader(hex('67 80'), 1);
    assert.equal(r.flag(), true);
    assert.equal(r.flag(), false);
  });

  it('decodes ue(v) and se(v) per H.264 table 9-2 / 9-3', () => {
    const r = new BitReader(bits('1 010 011 00100 00111 0001000 010 011 00100 00101'));
    assert.deepEqual([r.ue(), r.ue(), r.ue(), r.ue(), r.ue(), r.ue()], [0, 1, 2, 3, 6, 7]);
    assert.deepEqual([r.se(), r.se(), r.se(), r.se()], [1, -1, 2, -2]);
    assert.equal(new BitReader(bits('1')).se(), 0); // strict: not -0
  });

  it('reads the largest ue(v), 2^32 - 2, and refuses a longer code', () => {
    assert.equal(new BitReader(bits('0'.repeat(31) + '1'.repeat(32))).ue(), 2 ** 32 - 2);
    assert.throws(() => new BitReader(bits('0'.repeat(32) + '1'.repeat(33))).ue(), MediaFormatError);
  });

  it('throws MediaFormatError instead of reading past the end', () => {
    assert.throws(() => new BitReader(hex('ff')).u(9), MediaFormatError);
    assert.throws(() => new BitReader(hex('00')).ue(), MediaFormatError);
    assert.throws(() => new BitReader(hex('01')).ue(), /truncated/); // 7 zeros, then 7 bits needed
    assert.throws(() => new BitReader(hex('')).flag(), MediaFormatError);
    assert.throws(() => new BitReader(hex('ff')).skip(9), MediaFormatError);
    const r = new BitReader(hex('ff'));
    assert.throws(() => r.u(9));
    assert.equal(r.position, 0, 'a failed read consumes nothing');
  });

  it('finds the end of RBSP data at the stop bit', () => {
    const r = new BitReader(hex('a0 00 00')); // 1 0 [1] 00000 + cabac_zero_words
    assert.equal(r.moreRbspData(), true);
    r.u(2);
    assert.equal(r.moreRbspData(), false);
    const s = new BitReader(hex('ff 80'));
    s.u(8);
    assert.equal(s.moreRbspData(), false);
    assert.equal(new BitReader(hex('ff 80')).moreRbspData(), true);
    assert.equal(new BitReader(hex('00 00')).moreRbspData(), false);
    assert.equal(new BitReader(hex('01')).moreRbspData(), true);
  });

  it('reads back what an exp-Golomb writer wrote (property)', () => {
    const field = fc.oneof(
      fc.record({ kind: fc.constant('ue' as const), value: fc.integer({ min: 0, max: 2 ** 32 - 2 }) }),
      fc.record({ kind: fc.constant('se' as const), value: fc.integer({ min: -(2 ** 30), max: 2 ** 30 }) }),
      fc.record({ kind: fc.constant('u' as const), value: fc.integer({ min: 0, max: 2 ** 20 - 1 }) }),
    );
    fc.assert(
      fc.property(fc.array(field, { maxLength: 30 }), (fields) => {
        const w = new BitWriter();
        for (const f of fields) {
          if (f.kind === 'ue') w.ue(f.value);
          else if (f.kind === 'se') w.se(f.value);
          else w.u(20, f.value);
        }
        w.trailing();
        const r = new BitReader(w.toBuffer());
        for (const f of fields) {
          const got = f.kind === 'ue' ? r.ue() : f.kind === 'se' ? r.se() : r.u(20);
          assert.equal(got, f.value);
        }
        assert.equal(r.moreRbspData(), false);
      }),
    );
  });
});
