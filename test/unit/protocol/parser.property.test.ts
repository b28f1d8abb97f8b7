import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RtspError } from '../../../src/protocol/errors.js';
import { equalsIgnoreCase, RtspHeaders, type RtspMessage } from '../../../src/protocol/message.js';
import { RtspParser, type RtspParserOptions } from '../../../src/protocol/parser.js';
import {
  serializeInterleavedFrame,
  serializeRequest,
  serializeResponse,
} from '../../../src/protocol/serializer.js';

// Header value / reason characters: visible ASCII, Latin-1 and a few CJK (multi-byte UTF-8).
const VISIBLE = '[!-~\\u00a0-\\u00ff\\u4e00-\\u4e0f]';

const method = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_\-.!#$%&'*+^`|~]{0,15}$/);
const uri = fc.oneof(
  fc.constant('*'),
  fc.stringMatching(/^rtsp:\/\/[a-z0-9.]{1,12}(:[0-9]{1,5})?\/[!-~]{0,30}$/),
  fc.stringMatching(new RegExp(`^${VISIBLE}{1,20}$`)),
);
const headerName = fc
  .stringMatching(/^[A-Za-z0-9!#$%&'*+\-.^_`|~]{1,20}$/)
  .filter((n) => !equalsIgnoreCase(n, 'content-length'));
// Values never start or end with whitespace (the parser trims optional whitespace).
const headerValue = fc.stringMatching(
  new RegExp(`^(${VISIBLE}([ \\t]|${VISIBLE}){0,30}${VISIBLE}|${VISIBLE})?$`),
);
const headerList = fc.array(fc.tuple(headerName, headerValue), { maxLength: 6 });
const body = fc.uint8Array({ maxLength: 80 });
// Bytes that matter to framing are over-represented.
const frameData = fc
  .array(fc.oneof(fc.constantFrom(0x24, 0x0d, 0x0a, 0x00), fc.integer({ min: 0, max: 255 })), {
    maxLength: 300,
  })
  .map((bytes) => Buffer.from(bytes));

interface Generated {
  bytes: Buffer;
  expected: RtspMessage;
}

function withContentLength(headers: [string, string][], length: number): RtspHeaders {
  const h = new RtspHeaders(headers);
  if (length > 0) h.append('Content-Length', String(length));
  return h;
}

const requestMsg: fc.Arbitrary<Generated> = fc
  .record({ method, uri, headers: headerList, body })
  .map(({ method, uri, headers, body }) => ({
    bytes: serializeRequest({ method, uri, headers, body }),
    expected: {
      kind: 'request',
      method,
      uri,
      version: 'RTSP/1.0',
      headers: withContentLength(headers, body.length),
      body: Buffer.from(body),
    },
  }));

const responseMsg: fc.Arbitrary<Generated> = fc
  .record({
    status: fc.integer({ min: 100, max: 999 }),
    reason: fc.stringMatching(new RegExp(`^([ \\t]|${VISIBLE}){0,30}$`)),
    headers: headerList,
    body,
  })
  .map(({ status, reason, headers, body }) => ({
    bytes: serializeResponse({ status, reason, headers, body }),
    expected: {
      kind: 'response',
      version: 'RTSP/1.0',
      status,
      reason,
      headers: withContentLength(headers, body.length),
      body: Buffer.from(body),
    },
  }));

const frameMsg: fc.Arbitrary<Generated> = fc
  .record({ channel: fc.integer({ min: 0, max: 255 }), data: frameData })
  .map(({ channel, data }) => ({
    bytes: serializeInterleavedFrame(channel, data),
    expected: { kind: 'interleaved', channel, data },
  }));

// Optional blank lines clients put between messages.
const separator = fc.constantFrom('', '', '', '\r\n', '\n', '\r\n\r\n');

const stream = fc.array(fc.tuple(separator, fc.oneof(requestMsg, responseMsg, frameMsg)), {
  minLength: 1,
  maxLength: 8,
});

/** Fractions in [0, 1) turned into sorted cut positions. */
const cuts = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 12 });

function split(bytes: Buffer, fractions: number[]): Buffer[] {
  const points = fractions.map((f) => Math.floor((f / 0x10000) * (bytes.length + 1))).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(prev, p));
    prev = p;
  }
  chunks.push(bytes.subarray(prev));
  return chunks;
}

/** Feeds chunks; any throw must be an RtspError, and so must every push after it. */
function feedExpectingOnlyRtspErrors(chunks: Buffer[], options?: RtspParserOptions): void {
  const parser = new RtspParser(options);
  let failed = false;
  for (const chunk of chunks) {
    try {
      const msgs = parser.push(chunk);
      assert.equal(failed, false, 'a closed parser returned messages');
      for (const m of msgs) assert.ok(Buffer.isBuffer(m.kind === 'interleaved' ? m.data : m.body));
    } catch (err) {
      if (!(err instanceof RtspError)) throw err;
      assert.equal(err.fatal, true);
      failed = true;
    }
  }
}

describe('RtspParser properties', () => {
  it('parses any serialized message stream, cut anywhere, back to the original messages', () => {
    fc.assert(
      fc.property(stream, cuts, (items, fractions) => {
        const bytes = Buffer.concat(items.flatMap(([sep, g]) => [Buffer.from(sep), g.bytes]));
        const parser = new RtspParser();
        const parsed: RtspMessage[] = [];
        for (const chunk of split(bytes, fractions)) parsed.push(...parser.push(chunk));
        assert.deepEqual(
          parsed,
          items.map(([, g]) => g.expected),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('throws nothing but RtspError on arbitrary bytes in arbitrary chunks', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), cuts, (bytes, fractions) => {
        feedExpectingOnlyRtspErrors(split(Buffer.from(bytes), fractions));
        feedExpectingOnlyRtspErrors(split(Buffer.from(bytes), fractions), {
          maxHeaderBytes: 16,
          maxBodyBytes: 4,
        });
      }),
      { numRuns: 300 },
    );
  });

  it('throws nothing but RtspError on mutated valid streams', () => {
    const mutation = fc.record({
      at: fc.integer({ min: 0, max: 0xffff }),
      kind: fc.constantFrom('replace', 'insert', 'delete'),
      byte: fc.oneof(
        fc.constantFrom(0x24, 0x0d, 0x0a, 0x3a, 0x20, 0x00, 0x30),
        fc.integer({ min: 0, max: 255 }),
      ),
    });
    fc.assert(
      fc.property(
        stream,
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        cuts,
        (items, mutations, fractions) => {
          const bytes = [...Buffer.concat(items.flatMap(([sep, g]) => [Buffer.from(sep), g.bytes]))];
          for (const m of mutations) {
            const i = Math.floor((m.at / 0x10000) * bytes.length);
            if (m.kind === 'replace' && bytes.length > 0) bytes[i] = m.byte;
            else if (m.kind === 'insert') bytes.splice(i, 0, m.byte);
            else bytes.splice(i, 1);
          }
          const mutated = Buffer.from(bytes);
          feedExpectingOnlyRtspErrors(split(mutated, fractions));
          feedExpectingOnlyRtspErrors(split(mutated, fractions), { maxHeaderBytes: 40, maxBodyBytes: 10 });
        },
      ),
      { numRuns: 300 },
    );
  });
});
