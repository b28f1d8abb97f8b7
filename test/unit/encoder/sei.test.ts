import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  parseTimestampSei,
  SMOLRTSP_TIMESTAMP_SEI_UUID,
  writeTimestampSei,
} from '../../../src/codecs/h264/encoder/sei.js';
import { stripEpb } from './bits.js';

describe('timestamp SEI', () => {
  it('is a user_data_unregistered message: type 5, size 28, our UUID, time, frame number', () => {
    const ms = Date.UTC(2025, 5, 1, 12, 0, 0, 123) + 0.456;
    const nal = writeTimestampSei(ms, 77);
    assert.equal(nal[0], 0x06, 'nal_ref_idc 0, type 6');
    const rbsp = Buffer.from(stripEpb(nal.subarray(1)));
    assert.equal(rbsp[0], 5);
    assert.equal(rbsp[1], 28);
    assert.deepEqual(rbsp.subarray(2, 18), SMOLRTSP_TIMESTAMP_SEI_UUID);
    assert.equal(rbsp.readBigUInt64BE(18), BigInt(Math.round(ms * 1000)));
    assert.equal(rbsp.readUInt32BE(26), 77);
    assert.equal(rbsp[30], 0x80, 'rbsp_trailing_bits');
    assert.equal(rbsp.length, 31);
    assert.equal(SMOLRTSP_TIMESTAMP_SEI_UUID.length, 16);
  });

  it('round-trips time and frame number, including values that need emulation prevention', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constant(0), fc.constant(2 ** 32 / 1000), fc.double({ min: 0, max: 4e12, noNaN: true })),
        fc.oneof(fc.constant(0), fc.constant(2 ** 32 - 1), fc.nat()),
        (ms, frame) => {
          const got = parseTimestampSei(writeTimestampSei(ms, frame));
          assert.ok(got);
          assert.equal(got.wallClockUs, Math.round(ms * 1000));
          assert.equal(got.wallClockMs, Math.round(ms * 1000) / 1000);
          assert.equal(got.frameNumber, frame);
        },
      ),
    );
    // Zero time and frame put long zero runs in the payload: 03 bytes must be inserted and removed.
    const zero = writeTimestampSei(0, 0);
    assert.ok(zero.length > 32, 'escaped');
    assert.deepEqual(parseTimestampSei(zero), { wallClockUs: 0, wallClockMs: 0, frameNumber: 0 });
  });

  it('wraps the frame number at 2^32', () => {
    assert.equal(parseTimestampSei(writeTimestampSei(1, 2 ** 32 + 5))?.frameNumber, 5);
  });

  it('finds our message after another SEI message in the same NAL unit', () => {
    const ours = Buffer.from(stripEpb(writeTimestampSei(1234.5, 9).subarray(1)));
    // A recovery point SEI (type 6, size 1) first, then ours.
    const nal = Buffer.concat([Buffer.of(0x06, 6, 1, 0x84), ours]);
    assert.deepEqual(parseTimestampSei(nal), { wallClockUs: 1234500, wallClockMs: 1234.5, frameNumber: 9 });
  });

  it('returns null for other NAL units, other UUIDs and truncated input', () => {
    const good = writeTimestampSei(1000, 1);
    assert.equal(parseTimestampSei(Buffer.of(0x65, 0x88)), null);
    assert.equal(parseTimestampSei(Buffer.of(0x06)), null);
    const other = Buffer.from(good);
    other[5] ^= 0xff; // inside the UUID
    assert.equal(parseTimestampSei(other), null);
    for (let len = 0; len < good.length - 1; len++)
      assert.equal(parseTimestampSei(good.subarray(0, len)), null, `truncated to ${len}`);
    assert.equal(parseTimestampSei(Buffer.of(0x06, 0xff, 0xff)), null);
  });
});
