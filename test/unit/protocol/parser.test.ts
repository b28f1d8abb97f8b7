import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { RtspError } from '../../../src/protocol/errors.js';
import {
  type InterleavedFrame,
  RtspHeaders,
  type RtspMessage,
  type RtspRequest,
  type RtspResponse,
} from '../../../src/protocol/message.js';
import { RtspParser, type RtspParserOptions, RtspRequestParseError } from '../../../src/protocol/parser.js';

/** Lines joined with CRLF, each line (including the last) terminated. */
function crlf(...lines: string[]): string {
  return lines.map((l) => `${l}\r\n`).join('');
}

function request(method: string, uri: string, headers: [string, string][], body = ''): RtspRequest {
  return {
    kind: 'request',
    method,
    uri,
    version: 'RTSP/1.0',
    headers: new RtspHeaders(headers),
    body: Buffer.from(body),
  };
}

function response(status: number, reason: string, headers: [string, string][], body = ''): RtspResponse {
  return {
    kind: 'response',
    version: 'RTSP/1.0',
    status,
    reason,
    headers: new RtspHeaders(headers),
    body: Buffer.from(body),
  };
}

function frame(channel: number, data: number[] | Buffer): InterleavedFrame {
  return { kind: 'interleaved', channel, data: Buffer.from(data) };
}

function parseChunks(chunks: (string | Buffer)[], options?: RtspParserOptions): RtspMessage[] {
  const parser = new RtspParser(options);
  const out: RtspMessage[] = [];
  for (const c of chunks) out.push(...parser.push(typeof c === 'string' ? Buffer.from(c, 'latin1') : c));
  return out;
}

function parseOne(bytes: string | Buffer, options?: RtspParserOptions): RtspMessage[] {
  return parseChunks([bytes], options);
}

/** Asserts that parsing `bytes` (in one chunk) throws an RtspRequestParseError with these fields. */
function assertParseError(
  bytes: string | Buffer,
  expected: { status: number; code?: string; cseq?: string },
  options?: RtspParserOptions,
): RtspRequestParseError {
  let caught: unknown;
  try {
    parseOne(bytes, options);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof RtspRequestParseError, `expected RtspRequestParseError, got ${String(caught)}`);
  assert.equal(caught.status, expected.status);
  assert.equal(caught.code, expected.code ?? 'ERR_RTSP_PARSE');
  assert.equal(caught.cseq, expected.cseq);
  assert.equal(caught.fatal, true);
  return caught;
}

// RFC 2326 section 14.2, with the Content-Length corrected: the RFC says 164, but its own SDP body
// (10 lines, CRLF-terminated) is 255 bytes.
const SDP_14_2 = crlf(
  'v=0',
  'o=- 2890844256 2890842807 IN IP4 172.16.2.93',
  's=RTSP Session',
  'i=An Example of RTSP Session Usage',
  'a=control:rtsp://foo/twister',
  't=0 0',
  'm=audio 0 RTP/AVP 0',
  'a=control:rtsp://foo/twister/audio',
  'm=video 0 RTP/AVP 26',
  'a=control:rtsp://foo/twister/video',
);

describe('RtspParser: RFC 2326 examples', () => {
  it('14.2 DESCRIBE and its 200 answer with an SDP body', () => {
    assert.equal(Buffer.byteLength(SDP_14_2), 255);
    const describeReq = crlf('DESCRIBE rtsp://foo/twister RTSP/1.0', 'CSeq: 1', '');
    const describeRes =
      crlf('RTSP/1.0 200 OK', 'CSeq: 1', 'Content-Type: application/sdp', 'Content-Length: 255', '') +
      SDP_14_2;
    assert.deepEqual(parseOne(describeReq + describeRes), [
      request('DESCRIBE', 'rtsp://foo/twister', [['CSeq', '1']]),
      response(
        200,
        'OK',
        [
          ['CSeq', '1'],
          ['Content-Type', 'application/sdp'],
          ['Content-Length', '255'],
        ],
        SDP_14_2,
      ),
    ]);
  });

  it('14.2 SETUP with a folded Transport header in the answer, PAUSE refused with 460', () => {
    const bytes =
      crlf(
        'SETUP rtsp://foo/twister/audio RTSP/1.0',
        'CSeq: 2',
        'Transport: RTP/AVP;unicast;client_port=8000-8001',
        '',
      ) +
      crlf(
        'RTSP/1.0 200 OK',
        'CSeq: 2',
        'Transport: RTP/AVP;unicast;client_port=8000-8001;',
        '           server_port=9000-9001',
        'Session: 12345678',
        '',
      ) +
      crlf('PLAY rtsp://foo/twister RTSP/1.0', 'CSeq: 4', 'Range: npt=0-', 'Session: 12345678', '') +
      crlf('RTSP/1.0 460 Only aggregate operation allowed', 'CSeq: 5', '');
    assert.deepEqual(parseOne(bytes), [
      request('SETUP', 'rtsp://foo/twister/audio', [
        ['CSeq', '2'],
        ['Transport', 'RTP/AVP;unicast;client_port=8000-8001'],
      ]),
      response(200, 'OK', [
        ['CSeq', '2'],
        ['Transport', 'RTP/AVP;unicast;client_port=8000-8001; server_port=9000-9001'],
        ['Session', '12345678'],
      ]),
      request('PLAY', 'rtsp://foo/twister', [
        ['CSeq', '4'],
        ['Range', 'npt=0-'],
        ['Session', '12345678'],
      ]),
      response(460, 'Only aggregate operation allowed', [['CSeq', '5']]),
    ]);
  });

  it('14.1 PLAY answer with a folded RTP-Info header', () => {
    const bytes = crlf(
      'RTSP/1.0 200 OK',
      'CSeq: 2',
      'Session: 23456789',
      'Range: smpte=0:10:00-0:20:00',
      'RTP-Info: url=rtsp://video.example.com/twister/video;',
      '  seq=12312232;rtptime=78712811',
      '',
    );
    assert.deepEqual(parseOne(bytes), [
      response(200, 'OK', [
        ['CSeq', '2'],
        ['Session', '23456789'],
        ['Range', 'smpte=0:10:00-0:20:00'],
        ['RTP-Info', 'url=rtsp://video.example.com/twister/video; seq=12312232;rtptime=78712811'],
      ]),
    ]);
  });

  it('10.12 interleaved: PLAY answer followed by $\\000 RTP and $\\001 RTCP frames', () => {
    // A 12-byte RTP header (V=2, PT=96, seq=1, ts=0x01020304, ssrc=0xdeadbeef) + 2 payload bytes.
    const rtp = [0x80, 0x60, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04, 0xde, 0xad, 0xbe, 0xef, 0x24, 0x0d];
    // An RTCP receiver report with no blocks: V=2, PT=201, length=1, ssrc.
    const rtcp = [0x80, 0xc9, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef];
    const bytes = Buffer.concat([
      Buffer.from(
        crlf(
          'RTSP/1.0 200 OK',
          'CSeq: 3',
          'Session: 12345678',
          'Date: 05 Jun 1997 18:59:15 GMT',
          'RTP-Info: url=rtsp://foo.com/bar.file;',
          '  seq=232433;rtptime=972948234',
          '',
        ),
      ),
      Buffer.from([0x24, 0x00, 0x00, rtp.length, ...rtp]),
      Buffer.from([0x24, 0x00, 0x00, rtp.length, ...rtp]),
      Buffer.from([0x24, 0x01, 0x00, rtcp.length, ...rtcp]),
    ]);
    assert.deepEqual(parseOne(bytes), [
      response(200, 'OK', [
        ['CSeq', '3'],
        ['Session', '12345678'],
        ['Date', '05 Jun 1997 18:59:15 GMT'],
        ['RTP-Info', 'url=rtsp://foo.com/bar.file; seq=232433;rtptime=972948234'],
      ]),
      frame(0, rtp),
      frame(0, rtp),
      frame(1, rtcp),
    ]);
  });

  it('10.12 interleaved: SETUP request with interleaved transport', () => {
    const bytes = crlf(
      'SETUP rtsp://foo.com/bar.file RTSP/1.0',
      'CSeq: 2',
      'Transport: RTP/AVP/TCP;interleaved=0-1',
      '',
    );
    assert.deepEqual(parseOne(bytes), [
      request('SETUP', 'rtsp://foo.com/bar.file', [
        ['CSeq', '2'],
        ['Transport', 'RTP/AVP/TCP;interleaved=0-1'],
      ]),
    ]);
  });

  it('OPTIONS * (section 6.1)', () => {
    assert.deepEqual(parseOne(crlf('OPTIONS * RTSP/1.0', 'CSeq: 1', '')), [
      request('OPTIONS', '*', [['CSeq', '1']]),
    ]);
  });
});

describe('RtspParser: framing', () => {
  const pipelined =
    crlf('OPTIONS rtsp://cam/live RTSP/1.0', 'CSeq: 1', 'User-Agent: test', '') +
    crlf('DESCRIBE rtsp://cam/live RTSP/1.0', 'CSeq: 2', 'Accept: application/sdp', '') +
    crlf('SET_PARAMETER rtsp://cam/live RTSP/1.0', 'CSeq: 3', 'Content-Length: 11', '') +
    'hello\r\nX: 1';
  const pipelinedExpected = [
    request('OPTIONS', 'rtsp://cam/live', [
      ['CSeq', '1'],
      ['User-Agent', 'test'],
    ]),
    request('DESCRIBE', 'rtsp://cam/live', [
      ['CSeq', '2'],
      ['Accept', 'application/sdp'],
    ]),
    request(
      'SET_PARAMETER',
      'rtsp://cam/live',
      [
        ['CSeq', '3'],
        ['Content-Length', '11'],
      ],
      'hello\r\nX: 1',
    ),
  ];

  it('returns pipelined requests from one chunk in order', () => {
    assert.deepEqual(parseOne(pipelined), pipelinedExpected);
  });

  it('gives the same result for every split point, and byte by byte', () => {
    const bytes = Buffer.from(pipelined);
    for (let i = 0; i <= bytes.length; i++) {
      assert.deepEqual(
        parseChunks([bytes.subarray(0, i), bytes.subarray(i)]),
        pipelinedExpected,
        `split at ${i}`,
      );
    }
    const single = [...bytes].map((b) => Buffer.from([b]));
    assert.deepEqual(parseChunks(single), pipelinedExpected);
  });

  it('returns a message only once it is complete', () => {
    const parser = new RtspParser();
    assert.deepEqual(parser.push(Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 7\r\n')), []);
    assert.deepEqual(parser.push(Buffer.from('\r')), []);
    assert.deepEqual(parser.push(Buffer.from('\n')), [request('OPTIONS', '*', [['CSeq', '7']])]);
    assert.deepEqual(parser.push(Buffer.from('ANNOUNCE * RTSP/1.0\r\nContent-Length: 3\r\n\r\nab')), []);
    assert.deepEqual(parser.push(Buffer.from('c')), [
      request('ANNOUNCE', '*', [['Content-Length', '3']], 'abc'),
    ]);
  });

  it('matches header names case-insensitively (cseq, CONTENT-LENGTH) and keeps their spelling', () => {
    const msgs = parseOne(
      crlf('ANNOUNCE rtsp://h/x RTSP/1.0', 'cseq: 9', 'CONTENT-LENGTH: 4', '') +
        'abcdOPTIONS * RTSP/1.0\r\n\r\n',
    );
    assert.deepEqual(msgs, [
      request(
        'ANNOUNCE',
        'rtsp://h/x',
        [
          ['cseq', '9'],
          ['CONTENT-LENGTH', '4'],
        ],
        'abcd',
      ),
      request('OPTIONS', '*', []),
    ]);
    const req = msgs[0] as RtspRequest;
    assert.equal(req.headers.get('CSeq'), '9');
    assert.equal(req.headers.get('content-length'), '4');
  });

  it('accepts bare LF line endings', () => {
    assert.deepEqual(
      parseOne('PLAY rtsp://h/x RTSP/1.0\nCSeq: 4\nSession: 1234\n\nRTSP/1.0 200 OK\nCSeq: 4\n\n'),
      [
        request('PLAY', 'rtsp://h/x', [
          ['CSeq', '4'],
          ['Session', '1234'],
        ]),
        response(200, 'OK', [['CSeq', '4']]),
      ],
    );
  });

  it('accepts mixed CRLF/LF endings and a CRLF blank line after LF lines', () => {
    assert.deepEqual(parseOne('PLAY * RTSP/1.0\nCSeq: 4\r\nA: b\n\r\n'), [
      request('PLAY', '*', [
        ['CSeq', '4'],
        ['A', 'b'],
      ]),
    ]);
  });

  it('skips blank lines before and between messages, including before a $ frame', () => {
    assert.deepEqual(
      parseOne('\r\n\n\r\nOPTIONS * RTSP/1.0\r\n\r\n\r\n\n$\x05\x00\x01z\r\nTEARDOWN * RTSP/1.0\n\n'),
      [request('OPTIONS', '*', []), frame(5, [0x7a]), request('TEARDOWN', '*', [])],
    );
  });

  it('trims optional whitespace around the colon and around values', () => {
    assert.deepEqual(
      parseOne(crlf('OPTIONS * RTSP/1.0', 'CSeq:5', 'Session \t:  abc def \t', 'X-Empty:', 'Y:   ', '')),
      [
        request('OPTIONS', '*', [
          ['CSeq', '5'],
          ['Session', 'abc def'],
          ['X-Empty', ''],
          ['Y', ''],
        ]),
      ],
    );
  });

  it('keeps repeated headers as separate entries in order', () => {
    const [msg] = parseOne(
      crlf('OPTIONS * RTSP/1.0', 'Require: a', 'CSeq: 1', 'require: b', ''),
    ) as RtspRequest[];
    assert.deepEqual(msg.headers.getAll('Require'), ['a', 'b']);
    assert.deepEqual(
      [...msg.headers],
      [
        ['Require', 'a'],
        ['CSeq', '1'],
        ['require', 'b'],
      ],
    );
  });

  it('decodes UTF-8 in header values and URIs', () => {
    assert.deepEqual(
      parseOne(Buffer.from(crlf('DESCRIBE rtsp://h/caméra RTSP/1.0', 'User-Agent: 日本', ''))),
      [request('DESCRIBE', 'rtsp://h/caméra', [['User-Agent', '日本']])],
    );
  });

  it('parses responses: reason with spaces, empty reason, missing reason, any 3-digit code', () => {
    assert.deepEqual(
      parseOne(
        'RTSP/1.0 454 Session Not Found\r\nCSeq: 1\r\n\r\n' +
          'RTSP/1.0 200 \r\n\r\n' +
          'RTSP/1.0 302\r\nLocation: rtsp://other/x\r\n\r\n' +
          'RTSP/1.0 799 Made Up\r\nContent-Length: 2\r\n\r\nhi',
      ),
      [
        response(454, 'Session Not Found', [['CSeq', '1']]),
        response(200, '', []),
        response(302, '', [['Location', 'rtsp://other/x']]),
        response(799, 'Made Up', [['Content-Length', '2']], 'hi'),
      ],
    );
  });

  it('Content-Length: 0 and duplicated equal Content-Length are fine', () => {
    assert.deepEqual(
      parseOne(
        'A * RTSP/1.0\r\nContent-Length: 0\r\n\r\nB * RTSP/1.0\r\nContent-Length: 2\r\nContent-length: 002\r\n\r\nxy',
      ),
      [
        request('A', '*', [['Content-Length', '0']]),
        request(
          'B',
          '*',
          [
            ['Content-Length', '2'],
            ['Content-length', '002'],
          ],
          'xy',
        ),
      ],
    );
  });

  it('reads bytes after a message without Content-Length as the next message', () => {
    assert.throws(
      () => parseOne('OPTIONS * RTSP/1.0\r\n\r\n{"x":1}'),
      (err: unknown) => err instanceof RtspRequestParseError && err.status === 400,
    );
  });
});

describe('RtspParser: interleaved frames', () => {
  const data = Buffer.from([0x24, 0x00, 0x0d, 0x0a, 0x52, 0x54, 0x53, 0x50, 0xff]);
  const stream = Buffer.concat([
    Buffer.from([0x24, 0x02, 0x00, data.length]),
    data,
    Buffer.from([0x24, 0xff, 0x00, 0x00]), // zero-length frame on channel 255
    Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n'),
    Buffer.from([0x24, 0x03, 0x01, 0x02]),
    Buffer.alloc(0x0102, 0x24),
  ]);
  const expected = [
    frame(2, data),
    frame(255, []),
    request('OPTIONS', '*', [['CSeq', '1']]),
    frame(3, Buffer.alloc(0x0102, 0x24)),
  ];

  it('parses frames (data containing $, CR, LF), a zero-length frame and a request between them', () => {
    assert.deepEqual(parseOne(stream), expected);
  });

  it('survives a split at every position (inside the 4-byte header and inside data)', () => {
    for (let i = 0; i <= stream.length; i++) {
      assert.deepEqual(parseChunks([stream.subarray(0, i), stream.subarray(i)]), expected, `split at ${i}`);
    }
    for (let i = 1; i < 4; i++) {
      for (let j = i + 1; j <= 4 + data.length; j++) {
        const chunks = [stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)];
        assert.deepEqual(parseChunks(chunks), expected, `split at ${i},${j}`);
      }
    }
  });

  it('returns a view of the chunk when the frame is wholly inside it, a copy when it spans chunks', () => {
    // Small Buffers share Node's pool, so sharing is checked by offset and by mutation, not by .buffer alone.
    const chunk = Buffer.from([0x24, 0x00, 0x00, 0x02, 0xaa, 0xbb, 0x24, 0x01, 0x00, 0x03, 0xcc]);
    const parser = new RtspParser();
    const [first] = parser.push(chunk) as InterleavedFrame[];
    assert.deepEqual(first, frame(0, [0xaa, 0xbb]));
    assert.equal(first.data.buffer, chunk.buffer);
    assert.equal(first.data.byteOffset, chunk.byteOffset + 4);
    chunk[4] = 0x11;
    assert.equal(first.data[0], 0x11);

    const next = Buffer.from([0xdd, 0xee]);
    const [second] = parser.push(next) as InterleavedFrame[];
    assert.deepEqual(second, frame(1, [0xcc, 0xdd, 0xee]));
    next.fill(0);
    chunk.fill(0);
    assert.deepEqual(second, frame(1, [0xcc, 0xdd, 0xee]));

    // Data wholly in the second chunk after a header split across chunks is a view too.
    const p2 = new RtspParser();
    assert.deepEqual(p2.push(Buffer.from([0x24, 0x07])), []);
    const tail = Buffer.from([0x00, 0x01, 0x99]);
    const [third] = p2.push(tail) as InterleavedFrame[];
    assert.deepEqual(third, frame(7, [0x99]));
    assert.equal(third.data.buffer, tail.buffer);
    assert.equal(third.data.byteOffset, tail.byteOffset + 2);
  });

  it('handles a maximum-size (65535 byte) frame delivered in small chunks', () => {
    const payload = Buffer.alloc(0xffff);
    for (let i = 0; i < payload.length; i++) payload[i] = i * 7;
    const bytes = Buffer.concat([Buffer.from([0x24, 0x01, 0xff, 0xff]), payload]);
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 1000) chunks.push(bytes.subarray(i, i + 1000));
    assert.deepEqual(parseChunks(chunks), [frame(1, payload)]);
  });
});

describe('RtspParser: errors', () => {
  it('431 when the header block exceeds maxHeaderBytes, detected before the blank line arrives', () => {
    const max = 64;
    const parser = new RtspParser({ maxHeaderBytes: max });
    const line = Buffer.from(`OPTIONS * RTSP/1.0\r\nCSeq: 12\r\nX-Pad: ${'a'.repeat(100)}`);
    // Exactly `max` bytes buffered: still waiting.
    for (let i = 0; i < max; i++) assert.deepEqual(parser.push(line.subarray(i, i + 1)), []);
    let caught: unknown;
    try {
      parser.push(line.subarray(max, max + 1));
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof RtspRequestParseError);
    assert.equal(caught.status, 431);
    assert.equal(caught.code, 'ERR_RTSP_HEADER_TOO_LARGE');
    assert.equal(caught.cseq, '12');
    assert.equal(parser.closed, true);
  });

  it('431 on one big chunk without a blank line, and on a too-long complete block', () => {
    assertParseError(
      `OPTIONS * RTSP/1.0\r\nX: ${'b'.repeat(100)}`,
      { status: 431, code: 'ERR_RTSP_HEADER_TOO_LARGE' },
      { maxHeaderBytes: 64 },
    );
    assertParseError(
      `OPTIONS * RTSP/1.0\r\nCSeq: 3\r\nX: ${'b'.repeat(100)}\r\n\r\n`,
      { status: 431, code: 'ERR_RTSP_HEADER_TOO_LARGE', cseq: '3' },
      { maxHeaderBytes: 64 },
    );
  });

  it('accepts a header block of exactly maxHeaderBytes (blank line included), rejects one more byte', () => {
    const block = crlf('OPTIONS * RTSP/1.0', 'X: abc', '');
    assert.deepEqual(parseOne(block, { maxHeaderBytes: block.length }), [
      request('OPTIONS', '*', [['X', 'abc']]),
    ]);
    assertParseError(
      block,
      { status: 431, code: 'ERR_RTSP_HEADER_TOO_LARGE' },
      { maxHeaderBytes: block.length - 1 },
    );
    // The limit applies per message, and skipped blank lines do not count.
    assert.equal(parseOne(`\r\n\r\n${block}${block}`, { maxHeaderBytes: block.length }).length, 2);
  });

  it('400 on a Content-Length that is not a non-negative decimal integer', () => {
    for (const value of ['abc', '-1', '1.5', '12a', '0x10', '+3', '', '1 2']) {
      assertParseError(crlf('ANNOUNCE * RTSP/1.0', 'CSeq: 8', `Content-Length: ${value}`, ''), {
        status: 400,
        cseq: '8',
      });
    }
  });

  it('400 on duplicated Content-Length with different values', () => {
    assertParseError(crlf('ANNOUNCE * RTSP/1.0', 'Content-Length: 3', 'CSeq: 2', 'content-length: 4', ''), {
      status: 400,
      cseq: '2',
    });
  });

  it('413 when Content-Length exceeds maxBodyBytes (before the body arrives)', () => {
    assertParseError(
      crlf('ANNOUNCE * RTSP/1.0', 'CSeq: 5', 'Content-Length: 101', ''),
      { status: 413, code: 'ERR_RTSP_BODY_TOO_LARGE', cseq: '5' },
      { maxBodyBytes: 100 },
    );
    assertParseError(crlf('ANNOUNCE * RTSP/1.0', 'Content-Length: 99999999999999999999999', ''), {
      status: 413,
      code: 'ERR_RTSP_BODY_TOO_LARGE',
    });
    assert.equal(
      parseOne(crlf('A * RTSP/1.0', 'Content-Length: 100', '') + 'x'.repeat(100), { maxBodyBytes: 100 })
        .length,
      1,
    );
  });

  it('400 on malformed request lines', () => {
    for (const line of [
      'OPTIONS',
      'OPTIONS *',
      'OPTIONS  * RTSP/1.0',
      'OPTIONS * RTSP/1.0 extra',
      'OPTIONS * RTSP/1.0\r',
      'OPT(IONS * RTSP/1.0',
      'OPTIONS rtsp://h/\x01 RTSP/1.0',
      'OPTIONS * rtsp/1.0x',
      'OPTIONS * RTSP/1',
    ]) {
      assertParseError(`${line}\r\nCSeq: 4\r\n\r\n`, { status: 400, cseq: '4' });
    }
  });

  it('400 on malformed status lines', () => {
    for (const line of [
      'RTSP/1.0',
      'RTSP/1.0 20 OK',
      'RTSP/1.0 2000 OK',
      'RTSP/1.0 2x0 OK',
      'RTSP/1.0 200 O\x00K',
      'RTSP/1.0x 200 OK',
    ]) {
      assertParseError(`${line}\r\nCSeq: 4\r\n\r\n`, { status: 400, cseq: '4' });
    }
  });

  it('400 on malformed header lines: no colon, empty or non-token name, control characters', () => {
    for (const header of [
      'NoColonHere',
      ': value',
      'Bad Name: x',
      'Bad(Name): x',
      'Naïve: x',
      'X: a\x00b',
      'X: a\x7fb',
      'X: a\rb',
      'X: a\r',
    ]) {
      assertParseError(crlf('OPTIONS * RTSP/1.0', 'CSeq: 6', header, ''), { status: 400, cseq: '6' });
    }
    // A continuation line with nothing to continue.
    assertParseError(crlf('OPTIONS * RTSP/1.0', ' CSeq: 6', ''), { status: 400 });
  });

  it('400 when a message starts with a byte that is neither $ nor a token character', () => {
    for (const b of [0x00, 0x20, 0x09, 0x7b, 0x3a, 0x80, 0xff, 0x7f]) {
      assertParseError(Buffer.from([b, 0x41, 0x0d, 0x0a]), { status: 400 });
    }
    // Also after a complete message.
    const parser = new RtspParser();
    assert.deepEqual(parser.push(Buffer.from('OPTIONS * RTSP/1.0\r\n\r\n')).length, 1);
    assert.throws(() => parser.push(Buffer.from('\x16\x03\x01')), { status: 400, code: 'ERR_RTSP_PARSE' });
  });

  it('505 on a well-formed request with another version, echoing CSeq', () => {
    assertParseError(crlf('OPTIONS * RTSP/2.0', 'CSeq: 11', ''), {
      status: 505,
      code: 'ERR_RTSP_VERSION',
      cseq: '11',
    });
    assertParseError(crlf('GET / HTTP/1.1', 'Host: x', ''), { status: 505, code: 'ERR_RTSP_VERSION' });
    assertParseError(crlf('RTSP/2.0 200 OK', 'CSeq: 1', ''), {
      status: 505,
      code: 'ERR_RTSP_VERSION',
      cseq: '1',
    });
  });

  it('reports CSeq only when it is a plain number', () => {
    assertParseError(crlf('OPTIONS * RTSP/1.0', 'CSeq: 1\x01', ''), { status: 400 });
    assertParseError(crlf('OPTIONS * RTSP/1.0', 'CSeq: abc', 'Bad', ''), { status: 400 });
    assertParseError(crlf('OPTIONS * RTSP/1.0', 'Bad', 'cseq :  42 ', ''), { status: 400, cseq: '42' });
  });

  it('carries the messages completed before the error in the same push', () => {
    const err = assertParseError(
      crlf('OPTIONS * RTSP/1.0', 'CSeq: 1', '') + '$\x00\x00\x01x' + crlf('BROKEN', 'CSeq: 2', ''),
      { status: 400, cseq: '2' },
    );
    assert.deepEqual(err.precedingMessages, [request('OPTIONS', '*', [['CSeq', '1']]), frame(0, [0x78])]);
  });

  it('is dead after an error: every further push throws the same error class and status', () => {
    const parser = new RtspParser();
    assert.throws(() => parser.push(Buffer.from(crlf('OPTIONS * RTSP/2.0', 'CSeq: 3', ''))), {
      status: 505,
    });
    for (const more of ['OPTIONS * RTSP/1.0\r\n\r\n', '', '$\x00\x00\x00']) {
      let caught: unknown;
      try {
        parser.push(Buffer.from(more));
      } catch (err) {
        caught = err;
      }
      assert.ok(caught instanceof RtspRequestParseError);
      assert.ok(caught instanceof RtspError);
      assert.equal(caught.status, 505);
      assert.equal(caught.code, 'ERR_RTSP_VERSION');
      assert.equal(caught.cseq, '3');
      assert.deepEqual(caught.precedingMessages, []);
    }
    assert.equal(parser.closed, true);
  });

  it('rejects invalid options', () => {
    assert.throws(() => new RtspParser({ maxHeaderBytes: 0 }), RangeError);
    assert.throws(() => new RtspParser({ maxBodyBytes: -1 }), RangeError);
    assert.throws(() => new RtspParser({ maxBodyBytes: 1.5 }), RangeError);
  });
});
