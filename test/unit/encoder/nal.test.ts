import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { buildNalUnit, nalHeaderByte, unescapeRbsp } from '../../../src/codecs/h264/encoder/nal.js';
import { stripEpb } from './bits.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('buildNalUnit (emulation prevention)', () => {
  it('puts the header byte first', () => {
    assert.equal(nalHeaderByte(3, 7), 0x67);
    assert.equal(nalHeaderByte(2, 1), 0x41);
    assert.equal(nalHeaderByte(0, 6), 0x06);
    assert.deepEqual(buildNalUnit(0x65, hex('88 84')), hex('65 88 84'));
  });

  it('inserts 03 after 00 00 when the next byte is 00..03, and only then', () => {
    const cases: [string, string][] = [
      ['00 00 00', '00 00 03 00'],
      ['00 00 01', '00 00 03 01'],
      ['00 00 02', '00 00 03 02'],
      ['00 00 03', '00 00 03 03'],
      ['00 00 04', '00 00 04'],
      ['00 01 00 00 05', '00 01 00 00 05'],
      // A run of zeros: the counter restarts after each inserted byte.
      ['00 00 00 00 00 00', '00 00 03 00 00 03 00 00 03'],
      // Trailing 00 00 (cannot happen after rbsp_trailing_bits, but the output must still be safe).
      ['aa 00 00', 'aa 00 00 03'],
      ['00 00 01 00 00 01', '00 00 03 01 00 00 03 01'],
    ];
    for (const [rbsp, escaped] of cases)
      assert.deepEqual(buildNalUnit(0x06, hex(rbsp)).subarray(1), hex(escaped), rbsp);
  });

  it('never leaves a start code prefix and unescapes back to the input', () => {
    const bytes = fc.uint8Array({ maxLength: 200 }).map((a) => a.map((b) => (b < 128 ? b & 3 : b)));
    fc.assert(
      fc.property(bytes, (rbsp) => {
        const nal = buildNalUnit(0x41, rbsp);
        const payload = nal.subarray(1);
        for (let i = 0; i + 2 < payload.length; i++)
          assert.ok(!(payload[i] === 0 && payload[i + 1] === 0 && payload[i + 2] <= 2), `00 00 0x at ${i}`);
        assert.deepEqual(stripEpb(payload), Uint8Array.from(rbsp));
        assert.deepEqual(Uint8Array.from(unescapeRbsp(payload)), Uint8Array.from(rbsp));
      }),
    );
  });

  it('returns a fresh buffer, not a view of the scratch input', () => {
    const scratch = hex('11 22 33');
    const nal = buildNalUnit(0x41, scratch);
    scratch[0] = 0;
    assert.equal(nal[1], 0x11);
  });
});
