import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RtspError } from '../../../src/protocol/errors.js';
import { RtpFormatError } from '../../../src/rtp/errors.js';
import { RTP_HEADER_SIZE, readRtpHeader, writeRtpHeader } from '../../../src/rtp/packet.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function assertRtpFormatError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof RtpFormatError, `expected RtpFormatError, got ${err}`);
    assert.ok(err instanceof RtspError);
    assert.equal(err.status, 400);
    assert.equal(err.code, 'ERR_RTP_FORMAT');
    assert.match(err.message, message);
    return true;
  });
}

describe('readRtpHeader', () => {
  it('reads the fixed header fields', () => {
    const pkt = hex('80 60 12 34 00 00 30 39 de ad be ef  aa bb cc');
    assert.deepEqual(readRtpHeader(pkt), {
      version: 2,
      padding: false,
      extension: false,
      csrcCount: 0,
      marker: false,
      payloadType: 96,
      sequenceNumber: 0x1234,
      timestamp: 12345,
      ssrc: 0xdeadbeef,
      payloadOffset: 12,
      payloadLength: 3,
    });
  });

  it('reads the marker bit and uint32 extremes without sign', () => {
    const h = readRtpHeader(hex('80 e1 ff ff ff ff ff ff ff ff ff fe'));
    assert.equal(h.marker, true);
    assert.equal(h.payloadType, 97);
    assert.equal(h.sequenceNumber, 65535);
    assert.equal(h.timestamp, 0xffffffff);
    assert.equal(h.ssrc, 0xfffffffe);
    assert.equal(h.payloadLength, 0);
  });

  it('skips CSRCs', () => {
    const h = readRtpHeader(hex('82 60 00 01 00 00 00 02 00 00 00 03  11111111 22222222  aa'));
    assert.equal(h.csrcCount, 2);
    assert.equal(h.payloadOffset, 20);
    assert.equal(h.payloadLength, 1);
  });

  it('skips a header extension (RFC 5285 one-byte form)', () => {
    // Profile 0xBEDE, length 1 word, then one word of extension data.
    const h = readRtpHeader(hex('90 60 00 01 00 00 00 02 00 00 00 03  be de 00 01  10 aa 00 00  cc dd'));
    assert.equal(h.extension, true);
    assert.equal(h.payloadOffset, 20);
    assert.equal(h.payloadLength, 2);
  });

  it('removes padding counted by the last octet', () => {
    const h = readRtpHeader(hex('a0 60 00 01 00 00 00 02 00 00 00 03  aa bb  00 00 00 04'));
    assert.equal(h.padding, true);
    assert.equal(h.payloadOffset, 12);
    assert.equal(h.payloadLength, 2);
    const onlyPadding = readRtpHeader(hex('a0 60 00 01 00 00 00 02 00 00 00 03  01'));
    assert.equal(onlyPadding.payloadLength, 0);
  });

  it('rejects malformed packets with RtpFormatError', () => {
    assertRtpFormatError(() => readRtpHeader(hex('80 60 00 01 00 00 00 02 00 00 00')), /too short/);
    assertRtpFormatError(() => readRtpHeader(hex('40 60 00 01 00 00 00 02 00 00 00 03')), /version 1/);
    assertRtpFormatError(() => readRtpHeader(hex('81 60 00 01 00 00 00 02 00 00 00 03 00 00 00')), /CSRC/);
    assertRtpFormatError(
      () => readRtpHeader(hex('90 60 00 01 00 00 00 02 00 00 00 03 be de 00')),
      /extension/,
    );
    assertRtpFormatError(
      () => readRtpHeader(hex('90 60 00 01 00 00 00 02 00 00 00 03 be de 00 02 00 00 00 00')),
      /extension/,
    );
    assertRtpFormatError(
      () => readRtpHeader(hex('a0 60 00 01 00 00 00 02 00 00 00 03 aa 00')),
      /padding length 0/,
    );
    assertRtpFormatError(
      () => readRtpHeader(hex('a0 60 00 01 00 00 00 02 00 00 00 03 aa 03')),
      /padding length 3/,
    );
    assertRtpFormatError(() => readRtpHeader(hex('a0 60 00 01 00 00 00 02 00 00 00 03')), /padding length/);
  });

  it('never throws anything but RtpFormatError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          const h = readRtpHeader(bytes);
          assert.ok(h.payloadOffset + h.payloadLength <= bytes.length);
          assert.ok(h.payloadLength >= 0);
        } catch (err) {
          if (!(err instanceof RtpFormatError)) throw err;
        }
      }),
    );
  });
});

describe('writeRtpHeader', () => {
  it('writes exact header bytes', () => {
    const buf = Buffer.alloc(14, 0xee);
    const end = writeRtpHeader(buf, 1, {
      marker: true,
      payloadType: 96,
      sequenceNumber: 0xabcd,
      timestamp: 0x89abcdef,
      ssrc: 0x01020304,
    });
    assert.equal(end, 13);
    assert.deepEqual(buf, hex('ee 80 e0 ab cd 89 ab cd ef 01 02 03 04 ee'));
  });

  it('refuses to write past the target', () => {
    const fields = { marker: false, payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0 };
    assert.throws(() => writeRtpHeader(Buffer.alloc(12), 1, fields), RangeError);
  });

  it('round-trips any field values through readRtpHeader', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.integer({ min: 0, max: 127 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (marker, payloadType, sequenceNumber, timestamp, ssrc) => {
          const buf = Buffer.alloc(RTP_HEADER_SIZE);
          writeRtpHeader(buf, 0, { marker, payloadType, sequenceNumber, timestamp, ssrc });
          const h = readRtpHeader(buf);
          assert.deepEqual(
            [h.version, h.marker, h.payloadType, h.sequenceNumber, h.timestamp, h.ssrc, h.payloadLength],
            [2, marker, payloadType, sequenceNumber, timestamp, ssrc, 0],
          );
        },
      ),
    );
  });
});
