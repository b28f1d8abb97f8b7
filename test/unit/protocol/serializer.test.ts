import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { RtspError } from '../../../src/protocol/errors.js';
import { RtspHeaders } from '../../../src/protocol/message.js';
import { RtspParser } from '../../../src/protocol/parser.js';
import {
  serializeInterleavedFrame,
  serializeInterleavedHeader,
  serializeRequest,
  serializeResponse,
} from '../../../src/protocol/serializer.js';

function isInjection(err: unknown): boolean {
  return err instanceof RtspError && err.status === 500 && err.code === 'ERR_RTSP_HEADER_INJECTION';
}

describe('serializeResponse', () => {
  it('writes status line, headers in order, blank line', () => {
    const out = serializeResponse({
      status: 200,
      headers: new RtspHeaders([
        ['CSeq', '1'],
        ['Public', 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN'],
      ]),
    });
    assert.equal(
      out.toString('latin1'),
      'RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n',
    );
  });

  it('defaults the reason from STATUS_REASONS, keeps an explicit one, empty for unknown codes', () => {
    assert.equal(
      serializeResponse({ status: 454, headers: {} }).toString(),
      'RTSP/1.0 454 Session Not Found\r\n\r\n',
    );
    assert.equal(
      serializeResponse({ status: 200, reason: 'Fine', headers: [] }).toString(),
      'RTSP/1.0 200 Fine\r\n\r\n',
    );
    assert.equal(serializeResponse({ status: 299, headers: [] }).toString(), 'RTSP/1.0 299 \r\n\r\n');
  });

  it('adds Content-Length for a non-empty body, after the other headers', () => {
    const sdp = Buffer.from('v=0\r\ns=x\r\n');
    const out = serializeResponse({
      status: 200,
      headers: [
        ['CSeq', '2'],
        ['Content-Type', 'application/sdp'],
      ],
      body: sdp,
    });
    assert.deepEqual(
      out,
      Buffer.concat([
        Buffer.from(
          'RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\nContent-Length: 10\r\n\r\n',
        ),
        sdp,
      ]),
    );
  });

  it('does not duplicate a given Content-Length; the real body length wins at its position', () => {
    const out = serializeResponse({
      status: 200,
      headers: [
        ['content-length', '999'],
        ['CSeq', '3'],
        ['Content-Length', '5'],
      ],
      body: Buffer.from('hello'),
    });
    assert.equal(out.toString(), 'RTSP/1.0 200 OK\r\ncontent-length: 5\r\nCSeq: 3\r\n\r\nhello');
    // Empty body: no Content-Length at all.
    assert.equal(
      serializeResponse({ status: 200, headers: { 'Content-Length': '4', CSeq: '4' } }).toString(),
      'RTSP/1.0 200 OK\r\nCSeq: 4\r\n\r\n',
    );
  });

  it('encodes non-ASCII header values as UTF-8 and counts the body in bytes', () => {
    const out = serializeResponse({ status: 200, headers: { Server: 'smölrtsp' }, body: Buffer.from('é') });
    assert.deepEqual(
      out,
      Buffer.from('RTSP/1.0 200 OK\r\nServer: smölrtsp\r\nContent-Length: 2\r\n\r\né', 'utf8'),
    );
  });

  it('rejects header injection: CR, LF, NUL in names or values, non-token names', () => {
    const cases: Record<string, string>[] = [
      { Session: '1\r\nX-Evil: 1' },
      { Session: '1\nX' },
      { Session: 'a\rb' },
      { Session: 'a\x00b' },
      { Session: 'a\x7fb' },
      { 'X-Evil\r\nA': 'b' },
      { 'Bad Name': 'x' },
      { 'Bad:Name': 'x' },
      { '': 'x' },
      { Naïve: 'x' },
    ];
    for (const headers of cases) {
      assert.throws(() => serializeResponse({ status: 200, headers }), isInjection, JSON.stringify(headers));
    }
    assert.throws(() => serializeResponse({ status: 200, reason: 'OK\r\nX: y', headers: [] }), isInjection);
    assert.throws(
      () => serializeResponse({ status: 200, headers: { CSeq: 5 as unknown as string } }),
      isInjection,
    );
  });

  it('rejects invalid status codes and versions', () => {
    for (const status of [99, 1000, 200.5, Number.NaN]) {
      assert.throws(() => serializeResponse({ status, headers: [] }), {
        status: 500,
        code: 'ERR_RTSP_BAD_STATUS',
      });
    }
    assert.throws(
      () => serializeResponse({ status: 200, headers: [], version: 'RTSP/1.0\r\n' }),
      isInjection,
    );
  });

  it('allows HT inside values', () => {
    assert.equal(
      serializeResponse({ status: 200, headers: { X: 'a\tb' } }).toString(),
      'RTSP/1.0 200 OK\r\nX: a\tb\r\n\r\n',
    );
  });
});

describe('serializeRequest', () => {
  it('writes the request line, headers and body with Content-Length', () => {
    assert.equal(
      serializeRequest({ method: 'OPTIONS', uri: '*', headers: [['CSeq', '1']] }).toString(),
      'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n',
    );
    assert.equal(
      serializeRequest({
        method: 'SET_PARAMETER',
        uri: 'rtsp://cam/live',
        headers: { CSeq: '9', 'Content-Type': 'text/parameters' },
        body: Buffer.from('barparam: barstuff\r\n'),
      }).toString(),
      'SET_PARAMETER rtsp://cam/live RTSP/1.0\r\nCSeq: 9\r\nContent-Type: text/parameters\r\nContent-Length: 20\r\n\r\nbarparam: barstuff\r\n',
    );
  });

  it('rejects bad methods and URIs', () => {
    for (const method of ['', 'GET PARAM', 'A\r\nB', '$PLAY', 'PL:AY']) {
      assert.throws(() => serializeRequest({ method, uri: '*', headers: [] }), isInjection, method);
    }
    for (const uri of ['', 'rtsp://h/a b', 'rtsp://h/\r\nX: y', 'rtsp://h/\x00']) {
      assert.throws(() => serializeRequest({ method: 'PLAY', uri, headers: [] }), isInjection, uri);
    }
  });

  it('round-trips through the parser', () => {
    const bytes = serializeRequest({
      method: 'ANNOUNCE',
      uri: 'rtsp://h/x',
      headers: new RtspHeaders([
        ['CSeq', '3'],
        ['Content-Type', 'application/sdp'],
      ]),
      body: Buffer.from('v=0\r\n'),
    });
    assert.deepEqual(new RtspParser().push(bytes), [
      {
        kind: 'request',
        method: 'ANNOUNCE',
        uri: 'rtsp://h/x',
        version: 'RTSP/1.0',
        headers: new RtspHeaders([
          ['CSeq', '3'],
          ['Content-Type', 'application/sdp'],
          ['Content-Length', '5'],
        ]),
        body: Buffer.from('v=0\r\n'),
      },
    ]);
  });
});

describe('interleaved serialization', () => {
  it('writes $, channel and a big-endian 16-bit length', () => {
    assert.deepEqual(serializeInterleavedHeader(0, 0x1234), Buffer.from([0x24, 0x00, 0x12, 0x34]));
    assert.deepEqual(serializeInterleavedHeader(255, 0xffff), Buffer.from([0x24, 0xff, 0xff, 0xff]));
    assert.deepEqual(serializeInterleavedHeader(1, 0), Buffer.from([0x24, 0x01, 0x00, 0x00]));
  });

  it('writes into a target at an offset and returns the target', () => {
    const target = Buffer.alloc(8, 0xee);
    assert.equal(serializeInterleavedHeader(3, 300, target, 2), target);
    assert.deepEqual(target, Buffer.from([0xee, 0xee, 0x24, 0x03, 0x01, 0x2c, 0xee, 0xee]));
  });

  it('rejects out-of-range channel, length or offset with an RtspError', () => {
    const range = { status: 500, code: 'ERR_RTSP_INTERLEAVED_RANGE' };
    assert.throws(() => serializeInterleavedHeader(256, 1), range);
    assert.throws(() => serializeInterleavedHeader(-1, 1), range);
    assert.throws(() => serializeInterleavedHeader(0, 0x10000), range);
    assert.throws(() => serializeInterleavedHeader(0, 1.5), range);
    assert.throws(() => serializeInterleavedHeader(0, 1, Buffer.alloc(4), 1), range);
    assert.throws(() => serializeInterleavedFrame(0, new Uint8Array(0x10000)), range);
  });

  it('serializeInterleavedFrame builds header + data that the parser reads back', () => {
    const data = Buffer.from([0x24, 0x0d, 0x0a, 0x00]);
    const bytes = serializeInterleavedFrame(9, data);
    assert.deepEqual(bytes, Buffer.from([0x24, 0x09, 0x00, 0x04, 0x24, 0x0d, 0x0a, 0x00]));
    assert.deepEqual(new RtspParser().push(bytes), [{ kind: 'interleaved', channel: 9, data }]);
  });
});
