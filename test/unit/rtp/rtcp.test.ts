import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RtspError } from '../../../src/protocol/errors.js';
import { RtcpFormatError } from '../../../src/rtp/errors.js';
import {
  buildByeCompound,
  buildReceiverReport,
  buildSenderReport,
  buildSrSdesCompound,
  findCname,
  parseRtcpCompound,
  type RtcpReportBlock,
  SDES_CNAME,
  SDES_NAME,
  SDES_TOOL,
} from '../../../src/rtp/rtcp.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const sender = {
  ntpSeconds: 0xe2000000,
  ntpFraction: 0x80000000,
  rtpTimestamp: 90000,
  packetCount: 10,
  octetCount: 12345,
};
const SR_BYTES = '80 c8 00 06  01 02 03 04  e2 00 00 00  80 00 00 00  00 01 5f 90  00 00 00 0a  00 00 30 39';

const block: RtcpReportBlock = {
  ssrc: 0x01020304,
  fractionLost: 0x40,
  cumulativeLost: -2,
  highestSequence: 0x00010005,
  jitter: 0x20,
  lastSr: 0x00008000,
  delaySinceLastSr: 0x00010000,
};
const BLOCK_BYTES = '01 02 03 04  40 ff ff fe  00 01 00 05  00 00 00 20  00 00 80 00  00 01 00 00';

function assertRtcpFormatError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof RtcpFormatError, `expected RtcpFormatError, got ${err}`);
    assert.ok(err instanceof RtspError);
    assert.equal(err.status, 400);
    assert.equal(err.code, 'ERR_RTCP_FORMAT');
    assert.match(err.message, message);
    return true;
  });
}

describe('RTCP building', () => {
  it('builds a sender report byte for byte', () => {
    assert.deepEqual(buildSenderReport({ ssrc: 0x01020304, ...sender }), hex(SR_BYTES));
  });

  it('builds a sender report with a report block', () => {
    assert.deepEqual(
      buildSenderReport({ ssrc: 0x01020304, ...sender, reportBlocks: [block] }),
      hex(`81 c8 00 0c ${SR_BYTES.slice(12)} ${BLOCK_BYTES}`),
    );
  });

  it('builds receiver reports, empty and with blocks, clamping cumulative loss to 24 bits', () => {
    assert.deepEqual(buildReceiverReport({ ssrc: 0xaabbccdd }), hex('80 c9 00 01  aa bb cc dd'));
    assert.deepEqual(
      buildReceiverReport({ ssrc: 0xaabbccdd, reportBlocks: [block] }),
      hex(`81 c9 00 07  aa bb cc dd  ${BLOCK_BYTES}`),
    );
    const clamped = buildReceiverReport({
      ssrc: 1,
      reportBlocks: [
        { ...block, cumulativeLost: 10_000_000 },
        { ...block, cumulativeLost: -10_000_000 },
      ],
    });
    assert.deepEqual(clamped.subarray(8 + 5, 8 + 8), hex('7f ff ff'));
    assert.deepEqual(clamped.subarray(32 + 5, 32 + 8), hex('80 00 00'));
    assert.throws(
      () => buildReceiverReport({ ssrc: 1, reportBlocks: new Array(32).fill(block) }),
      RangeError,
    );
  });

  it('builds SR + SDES CNAME, padding the item list with at least one null octet', () => {
    // "smol": 2 + 4 = 6 octets of items, 2 nulls to 8.
    assert.deepEqual(
      buildSrSdesCompound({ ssrc: 0x01020304, ...sender, cname: 'smol' }),
      hex(`${SR_BYTES}  81 ca 00 03  01 02 03 04  01 04 73 6d 6f 6c 00 00`),
    );
    // "ab": items fill exactly 4 octets, so a whole word of nulls follows.
    assert.deepEqual(
      buildSrSdesCompound({ ssrc: 0x01020304, ...sender, cname: 'ab' }).subarray(28),
      hex('81 ca 00 03  01 02 03 04  01 02 61 62  00 00 00 00'),
    );
    assert.deepEqual(
      buildSrSdesCompound({ ssrc: 0x01020304, ...sender, cname: 'abc' }).subarray(28),
      hex('81 ca 00 03  01 02 03 04  01 03 61 62 63 00 00 00'),
    );
    assert.deepEqual(
      buildSrSdesCompound({ ssrc: 0x01020304, ...sender, cname: '' }).subarray(28),
      hex('81 ca 00 02  01 02 03 04  01 00 00 00'),
    );
    assert.throws(() => buildSrSdesCompound({ ssrc: 1, ...sender, cname: 'x'.repeat(256) }), RangeError);
    // 255 bytes is the limit, counted in UTF-8.
    const long = buildSrSdesCompound({ ssrc: 1, ...sender, cname: 'é'.repeat(127) + 'x' });
    assert.equal(long[28 + 9], 255);
  });

  it('builds RR + SDES + BYE when nothing was sent (RFC 3550 6.1)', () => {
    assert.deepEqual(
      buildByeCompound({ ssrc: 0x01020304, cname: 'smol' }),
      hex(
        '80 c9 00 01  01 02 03 04' +
          '81 ca 00 03  01 02 03 04  01 04 73 6d 6f 6c 00 00' +
          '81 cb 00 01  01 02 03 04',
      ),
    );
  });

  it('builds SR + SDES + BYE with a padded reason for a sender', () => {
    assert.deepEqual(
      buildByeCompound({ ssrc: 0x01020304, cname: 'smol', reason: 'teardown', sender }),
      hex(
        SR_BYTES +
          '81 ca 00 03  01 02 03 04  01 04 73 6d 6f 6c 00 00' +
          '81 cb 00 04  01 02 03 04  08 74 65 61 72 64 6f 77 6e 00 00 00',
      ),
    );
    assert.deepEqual(
      buildByeCompound({ ssrc: 0x01020304, cname: 'smol', reason: 'bye' }).subarray(24),
      hex('81 cb 00 02  01 02 03 04  03 62 79 65'),
    );
  });
});

describe('parseRtcpCompound', () => {
  it('parses SR + SDES as built', () => {
    const packets = parseRtcpCompound(
      buildSrSdesCompound({ ssrc: 0x01020304, ...sender, reportBlocks: [block], cname: 'cam@host' }),
    );
    assert.deepEqual(packets, [
      { type: 'sr', ssrc: 0x01020304, ...sender, reportBlocks: [block] },
      { type: 'sdes', chunks: [{ ssrc: 0x01020304, items: [{ type: SDES_CNAME, value: 'cam@host' }] }] },
    ]);
    assert.equal(findCname(packets), 'cam@host');
    assert.equal(findCname(packets, 0x01020304), 'cam@host');
    assert.equal(findCname(packets, 5), null);
  });

  it('parses a receiver report from a client, with its sign-extended cumulative loss', () => {
    const [rr] = parseRtcpCompound(hex(`81 c9 00 07  aa bb cc dd  ${BLOCK_BYTES}`));
    assert.deepEqual(rr, { type: 'rr', ssrc: 0xaabbccdd, reportBlocks: [block] });
  });

  it('parses the BYE compounds it builds', () => {
    assert.deepEqual(
      parseRtcpCompound(buildByeCompound({ ssrc: 7, cname: 'c', reason: 'teardown', sender })),
      [
        { type: 'sr', ssrc: 7, ...sender, reportBlocks: [] },
        { type: 'sdes', chunks: [{ ssrc: 7, items: [{ type: SDES_CNAME, value: 'c' }] }] },
        { type: 'bye', ssrcs: [7], reason: 'teardown' },
      ],
    );
    assert.deepEqual(parseRtcpCompound(buildByeCompound({ ssrc: 7, cname: 'c' })).at(-1), {
      type: 'bye',
      ssrcs: [7],
      reason: null,
    });
  });

  it('parses SDES with several chunks and items', () => {
    const sdes = hex(
      '82 ca 00 07' +
        '00 00 00 01  01 01 61  02 03 62 62 62  00  00 00 00' + // CNAME "a", NAME "bbb", END + 3 pad: 16 bytes
        '00 00 00 02  06 03 66 66 6d  00 00 00', // TOOL "ffm", END + 2 pad: 12 bytes
    );
    assert.deepEqual(parseRtcpCompound(sdes), [
      {
        type: 'sdes',
        chunks: [
          {
            ssrc: 1,
            items: [
              { type: SDES_CNAME, value: 'a' },
              { type: SDES_NAME, value: 'bbb' },
            ],
          },
          { ssrc: 2, items: [{ type: SDES_TOOL, value: 'ffm' }] },
        ],
      },
    ]);
  });

  it('parses BYE with several SSRCs, APP, and keeps unknown types (PSFB PLI) generic', () => {
    const packets = parseRtcpCompound(
      hex(
        '82 cb 00 03  00 00 00 01  00 00 00 02  02 68 69 00' +
          '85 cc 00 03  00 00 00 09  54 45 53 54  de ad be ef' +
          '81 ce 00 02  00 00 00 01  00 00 00 02',
      ),
    );
    assert.equal(packets.length, 3);
    assert.deepEqual(packets[0], { type: 'bye', ssrcs: [1, 2], reason: 'hi' });
    assert.deepEqual(packets[1], {
      type: 'app',
      subtype: 5,
      ssrc: 9,
      name: 'TEST',
      data: hex('de ad be ef'),
    });
    assert.deepEqual(packets[2], {
      type: 'unknown',
      packetType: 206,
      count: 1,
      body: hex('00000001 00000002'),
    });
  });

  it('removes padding of the last packet', () => {
    const packets = parseRtcpCompound(hex('80 c9 00 01  00 00 00 01  a1 cb 00 02  00 00 00 05  00 00 00 04'));
    assert.deepEqual(packets[1], { type: 'bye', ssrcs: [5], reason: null });
  });

  it('rejects malformed packets with RtcpFormatError', () => {
    assertRtcpFormatError(() => parseRtcpCompound(hex('')), /too short/);
    assertRtcpFormatError(() => parseRtcpCompound(hex('40 c9 00 01 00 00 00 01')), /version 1/);
    assertRtcpFormatError(() => parseRtcpCompound(hex('80 c9 00 02 00 00 00 01')), /runs past the end/);
    assertRtcpFormatError(() => parseRtcpCompound(hex('80 c9 00 01 00 00 00 01 80 c9')), /header runs past/);
    assertRtcpFormatError(() => parseRtcpCompound(hex('a0 c9 00 01 00 00 00 00')), /padding 0/);
    assertRtcpFormatError(() => parseRtcpCompound(hex('a0 c9 00 01 00 00 00 05')), /padding 5/);
    assertRtcpFormatError(() => parseRtcpCompound(hex('81 c9 00 01 00 00 00 01')), /RR with 1 report blocks/);
    assertRtcpFormatError(() => parseRtcpCompound(hex(`81 c8 00 06 ${SR_BYTES.slice(12)}`)), /SR with 1/);
    assertRtcpFormatError(() => parseRtcpCompound(hex('81 ca 00 02 00 00 00 01 01 05 61 62')), /item text/);
    assertRtcpFormatError(
      () => parseRtcpCompound(hex('82 ca 00 02 00 00 00 01 00 00 00 00')),
      /chunk 2 of 2/,
    );
    assertRtcpFormatError(() => parseRtcpCompound(hex('82 cb 00 01 00 00 00 01')), /BYE with 2 SSRCs/);
    assertRtcpFormatError(() => parseRtcpCompound(hex('81 cb 00 02 00 00 00 01 05 61 62 63')), /reason/);
    assertRtcpFormatError(() => parseRtcpCompound(hex('80 cc 00 01 00 00 00 01')), /APP/);
  });

  it('throws nothing but RtcpFormatError on arbitrary bytes (property)', () => {
    const check = (bytes: Uint8Array) => {
      try {
        parseRtcpCompound(Buffer.from(bytes));
      } catch (err) {
        if (!(err instanceof RtcpFormatError)) throw err;
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), check), { numRuns: 2000 });
    // Well-framed packets with random types, counts and bodies reach the per-type decoders.
    const packet = fc
      .record({
        padding: fc.boolean(),
        count: fc.integer({ min: 0, max: 31 }),
        packetType: fc.integer({ min: 198, max: 208 }),
        body: fc.uint8Array({ maxLength: 80 }),
      })
      .map(({ padding, count, packetType, body }) => {
        const words = Math.ceil(body.length / 4);
        const out = Buffer.alloc(4 + words * 4);
        out[0] = 0x80 | (padding ? 0x20 : 0) | count;
        out[1] = packetType;
        out.writeUInt16BE(words, 2);
        out.set(body, 4);
        return out;
      });
    fc.assert(
      fc.property(fc.array(packet, { minLength: 1, maxLength: 4 }), (parts) => check(Buffer.concat(parts))),
      { numRuns: 2000 },
    );
  });

  it('round-trips report blocks (property)', () => {
    // fast-check records have a null prototype; spread them so deepEqual compares plain objects.
    const arbitraryBlock = fc
      .record({
        ssrc: fc.integer({ min: 0, max: 0xffffffff }),
        fractionLost: fc.integer({ min: 0, max: 255 }),
        cumulativeLost: fc.integer({ min: -0x800000, max: 0x7fffff }),
        highestSequence: fc.integer({ min: 0, max: 0xffffffff }),
        jitter: fc.integer({ min: 0, max: 0xffffffff }),
        lastSr: fc.integer({ min: 0, max: 0xffffffff }),
        delaySinceLastSr: fc.integer({ min: 0, max: 0xffffffff }),
      })
      .map((b) => ({ ...b }));
    fc.assert(
      fc.property(
        fc.array(arbitraryBlock, { maxLength: 31 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (blocks, ssrc) => {
          assert.deepEqual(parseRtcpCompound(buildReceiverReport({ ssrc, reportBlocks: blocks })), [
            { type: 'rr', ssrc, reportBlocks: blocks },
          ]);
        },
      ),
    );
  });
});
