import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  msToNtp,
  msToNtpShort,
  NTP_UNIX_OFFSET_SECONDS,
  ntpMiddle32,
  ntpShortToMs,
  ntpToMs,
  roundTripMs,
} from '../../../src/rtp/ntp.js';

describe('NTP timestamps', () => {
  it('maps the Unix epoch to NTP second 2208988800', () => {
    assert.equal(NTP_UNIX_OFFSET_SECONDS, 2208988800);
    assert.deepEqual(msToNtp(0), { seconds: 2208988800, fraction: 0 });
  });

  it('puts milliseconds in the binary fraction', () => {
    assert.deepEqual(msToNtp(1500), { seconds: 2208988801, fraction: 0x80000000 });
    assert.deepEqual(msToNtp(250), { seconds: 2208988800, fraction: 0x40000000 });
    // 1 ms = 2^32 / 1000 = 4294967.296 → floor
    assert.deepEqual(msToNtp(1), { seconds: 2208988800, fraction: 4294967 });
    assert.deepEqual(msToNtp(999.9999999999), { seconds: 2208988800, fraction: 0xffffffff });
  });

  it('converts a known date', () => {
    // 2024-01-01T00:00:00Z
    assert.deepEqual(msToNtp(Date.UTC(2024, 0, 1)), { seconds: 3913056000, fraction: 0 });
    assert.equal(ntpToMs(3913056000, 0), Date.UTC(2024, 0, 1));
  });

  it('wraps to era 1 on 2036-02-07T06:28:16Z and maps back', () => {
    const eraStart = Date.UTC(2036, 1, 7, 6, 28, 16);
    assert.deepEqual(msToNtp(eraStart), { seconds: 0, fraction: 0 });
    assert.deepEqual(msToNtp(eraStart - 500), { seconds: 0xffffffff, fraction: 0x80000000 });
    assert.equal(ntpToMs(0, 0), eraStart);
    assert.equal(ntpToMs(0xffffffff, 0x80000000), eraStart - 500);
  });

  it('round-trips within a microsecond (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 4e12, noNaN: true }), (ms) => {
        const { seconds, fraction } = msToNtp(ms);
        assert.ok(Number.isInteger(seconds) && seconds >= 0 && seconds <= 0xffffffff);
        assert.ok(Number.isInteger(fraction) && fraction >= 0 && fraction <= 0xffffffff);
        assert.ok(Math.abs(ntpToMs(seconds, fraction) - ms) < 0.001);
      }),
    );
  });

  it('takes the middle 32 bits', () => {
    assert.equal(ntpMiddle32(0x12345678, 0x9abcdef0), 0x56789abc);
    assert.equal(ntpMiddle32(0xffffffff, 0xffffffff), 0xffffffff);
  });

  it('converts 1/65536 s units', () => {
    assert.equal(ntpShortToMs(65536), 1000);
    assert.equal(ntpShortToMs(0x00054000), 5250);
    assert.equal(msToNtpShort(500), 32768);
    assert.equal(msToNtpShort(5250), 0x00054000);
  });

  it('computes round-trip time like the RFC 3550 6.4.1 example', () => {
    // A = 0xb710:8000 (46864.500 s), LSR = 0xb705:2000 (46853.125 s), DLSR = 0x0005:4000 (5.250 s)
    assert.equal(roundTripMs(0xb7108000, 0xb7052000, 0x00054000), 6125);
    assert.equal(roundTripMs(0xb7108000, 0, 0x00054000), null, 'no SR received yet');
    assert.equal(roundTripMs(0xb7052000, 0xb7052000, 0x00054000), null, 'negative');
    // Across the 16-bit seconds wrap of the middle word.
    assert.equal(roundTripMs(0x00008000, 0xffff8000, 0), 1000);
  });
});
