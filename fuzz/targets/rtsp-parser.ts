/**
 * The RTSP stream parser on raw bytes, as a TCP connection feeds it.
 *
 * Invariants:
 *  - push() throws nothing but RtspRequestParseError (an RtspError subclass);
 *  - after it throws, the parser reports closed and every later push() throws RtspRequestParseError;
 *  - differential: the same bytes pushed in several chunks (boundaries drawn from the input's hash)
 *    give the same messages, the same error (code, status, CSeq, text) and the same `partial`
 *    state as one push. Checked with the default limits and with small ones (so the header and
 *    body limits are reachable with short inputs);
 *  - the header codecs the server applies to a parsed request (URL, CSeq, Session, Transport,
 *    Range, Require, RTP-Info, Public, Authorization, SDP body) throw nothing but RtspError.
 */
import { Buffer } from 'node:buffer';
import { RtspError } from '../../src/protocol/errors.js';
import { parseAuthorization } from '../../src/protocol/headers/authorization.js';
import {
  parseCSeq,
  parseOptionTags,
  parsePublic,
  parseRangeHeader,
  parseRtpInfo,
  parseSessionHeader,
  parseTransportHeader,
} from '../../src/protocol/headers/index.js';
import type { RtspMessage } from '../../src/protocol/message.js';
import { RtspParser, type RtspParserOptions, RtspRequestParseError } from '../../src/protocol/parser.js';
import { parseSdp } from '../../src/protocol/sdp.js';
import { parseRtspUrl } from '../../src/protocol/url.js';
import { type FuzzTarget, hashBytes, InvariantViolation, Rng, typed } from '../engine.js';

const SMALL_LIMITS: RtspParserOptions = { maxHeaderBytes: 160, maxBodyBytes: 48 };

interface Outcome {
  messages: RtspMessage[];
  /** code, status, CSeq and message of the error, or null. */
  error: string | null;
  partial: boolean;
}

function describeMessage(m: RtspMessage): string {
  if (m.kind === 'interleaved') return `$${m.channel} ${m.data.toString('hex')}`;
  const headers = [...m.headers].map(([n, v]) => `${n}: ${v}`).join(' | ');
  const start =
    m.kind === 'request' ? `${m.method} ${m.uri} ${m.version}` : `${m.version} ${m.status} ${m.reason}`;
  return `${start} [${headers}] ${m.body.toString('hex')}`;
}

const AFTER_ERROR = Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n');

/** Pushes data[0, cuts[0]), data[cuts[0], cuts[1]), ..., up to the end, into one parser. */
function parse(data: Buffer, cuts: readonly number[], options: RtspParserOptions): Outcome {
  const parser = new RtspParser(options);
  const messages: RtspMessage[] = [];
  let prev = 0;
  let failure: RtspRequestParseError | undefined;
  for (const cut of [...cuts, data.length]) {
    const chunk = data.subarray(prev, cut);
    prev = cut;
    try {
      for (const m of parser.push(chunk)) messages.push(m);
    } catch (err) {
      if (!(err instanceof RtspError)) throw err;
      if (!(err instanceof RtspRequestParseError)) {
        throw new InvariantViolation(`push() threw ${err.name} (${err.message}), not RtspRequestParseError`);
      }
      failure = err;
      break;
    }
  }
  if (failure === undefined) return { messages, error: null, partial: parser.partial };

  messages.push(...failure.precedingMessages);
  if (!parser.closed) throw new InvariantViolation('parser not closed after an error');
  let again: unknown;
  try {
    parser.push(AFTER_ERROR);
  } catch (err) {
    again = err;
  }
  if (!(again instanceof RtspRequestParseError)) {
    throw new InvariantViolation(
      `push() after an error gave ${again === undefined ? 'no error' : String(again)}`,
    );
  }
  const error = `${failure.code} ${failure.status} cseq=${failure.cseq} ${failure.message}`;
  return { messages, error, partial: false };
}

function compare(what: string, whole: Outcome, chunked: Outcome, cuts: readonly number[]): void {
  const a = whole.messages.map(describeMessage);
  const b = chunked.messages.map(describeMessage);
  const where = `${what}, chunk boundaries [${cuts.join(',')}]`;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      throw new InvariantViolation(
        `chunked parse differs (${where}) at message ${i}:\n  one push: ${a[i]}\n  chunked:  ${b[i]}`,
      );
    }
  }
  if (whole.error !== chunked.error) {
    throw new InvariantViolation(
      `chunked parse differs (${where}) in the error:\n  one push: ${whole.error}\n  chunked:  ${chunked.error}`,
    );
  }
  if (whole.partial !== chunked.partial) {
    throw new InvariantViolation(
      `chunked parse differs (${where}) in partial: ${whole.partial} vs ${chunked.partial}`,
    );
  }
}

/** Up to 8 sorted chunk boundaries in [0, length], some repeated (empty chunks are legal). */
function randomCuts(data: Buffer): number[] {
  if (data.length === 0) return [0];
  const rng = new Rng(hashBytes(data));
  const n = 1 + rng.below(8);
  const cuts: number[] = [];
  for (let i = 0; i < n; i++)
    cuts.push(rng.chance(0.25) ? rng.below(Math.min(data.length, 8) + 1) : rng.below(data.length + 1));
  return cuts.sort((x, y) => x - y);
}

const HEADER_CODECS: [string, (value: string) => unknown][] = [
  ['CSeq', parseCSeq],
  ['Session', parseSessionHeader],
  ['Transport', parseTransportHeader],
  ['Range', parseRangeHeader],
  ['Require', (v) => parseOptionTags(v, 'Require')],
  ['Proxy-Require', (v) => parseOptionTags(v, 'Proxy-Require')],
  ['Unsupported', (v) => parseOptionTags(v, 'Unsupported')],
  ['RTP-Info', parseRtpInfo],
  ['Public', parsePublic],
  ['Authorization', parseAuthorization],
];

/** What the server does next with a parsed message: every codec may only throw RtspError. */
function decodeHeaders(messages: readonly RtspMessage[]): void {
  for (const m of messages) {
    if (m.kind === 'interleaved') continue;
    if (m.kind === 'request') typed(() => parseRtspUrl(m.uri));
    for (const [name, codec] of HEADER_CODECS) {
      const value = m.headers.get(name);
      if (value !== undefined) typed(() => codec(value));
    }
    if (m.body.length > 0 && /sdp/i.test(m.headers.get('Content-Type') ?? ''))
      typed(() => parseSdp(m.body.toString('utf8')));
  }
}

const CONFIGS = [
  ['default limits', {}],
  ['small limits', SMALL_LIMITS],
] as const;

function check(
  data: Buffer,
  cutsList: readonly (readonly number[])[],
  configs: typeof CONFIGS | [(typeof CONFIGS)[number]],
): void {
  for (const [what, options] of configs) {
    const whole = parse(data, [], options);
    decodeHeaders(whole.messages);
    for (const cuts of cutsList) compare(what, whole, parse(data, cuts, options), cuts);
  }
}

/** Rewrites the first Content-Length to the number of bytes after the first blank line. */
function fixContentLength(data: Buffer, rng: Rng, maxLen: number): Buffer {
  const text = data.toString('latin1');
  const blank = text.indexOf('\r\n\r\n');
  if (blank < 0) return data;
  const rest = data.length - blank - 4;
  const n = rng.chance(0.7) ? rest : Math.max(0, rest + rng.below(9) - 4);
  const replaced = /content-length[ \t]*:[ \t]*\d*/i.test(text)
    ? text.replace(/(content-length[ \t]*:[ \t]*)\d*/i, `$1${n}`)
    : `${text.slice(0, blank)}\r\nContent-Length: ${n}${text.slice(blank)}`;
  const out = Buffer.from(replaced, 'latin1');
  return out.length > maxLen ? data : out;
}

/** Appends an interleaved frame with a consistent length, or a second copy of the message. */
function appendFrameOrMessage(data: Buffer, rng: Rng, maxLen: number): Buffer {
  let piece: Buffer;
  if (rng.chance(0.5)) {
    const size = rng.below(rng.chance(0.8) ? 40 : 300);
    piece = Buffer.alloc(4 + size, rng.below(256));
    piece[0] = 0x24;
    piece[1] = rng.below(4);
    piece.writeUInt16BE(size, 2);
  } else piece = data;
  const out = Buffer.concat([data, piece]);
  return out.length > maxLen ? data : out;
}

export const rtspParserTarget: FuzzTarget = {
  name: 'rtsp-parser',
  description:
    'RtspParser.push on a raw byte stream; chunked-vs-whole differential; header codecs on the result',
  maxLen: 2048,
  dictionary: [
    'OPTIONS',
    'DESCRIBE',
    'SETUP',
    'PLAY',
    'PAUSE',
    'TEARDOWN',
    'GET_PARAMETER',
    'SET_PARAMETER',
    'ANNOUNCE',
    'RECORD',
    'REDIRECT',
    ' ',
    '  ',
    '\t',
    ' \t',
    '\r\n',
    '\n',
    '\r',
    '\r\n\r\n',
    '\n\n',
    '\r\n ',
    '\r\n\t',
    'RTSP/1.0',
    'RTSP/2.0',
    'RTSP/1.1',
    'HTTP/1.1',
    'RTSP/',
    'RTSP/1.0 200 OK\r\n',
    'RTSP/1.0 ',
    ' 200 ',
    ' 454 ',
    'rtsp://',
    'rtsp://127.0.0.1:8554/live/cam',
    'rtsps://h/',
    '*',
    '/trackID=0',
    '?channel=1',
    '$',
    '$\x00',
    '$\x01\x00\x04',
    '$\x00\x00\x00',
    '$\x00\xff\xff',
    '\x00',
    '\xff',
    ':',
    ': ',
    ' : ',
    'CSeq: ',
    'CSeq:',
    'cseq: 1\r\n',
    'Content-Length: ',
    'content-length:',
    'Content-Length: 0\r\n',
    'Content-Type: application/sdp\r\n',
    'Session: ',
    'Transport: ',
    'Range: npt=0-',
    'RTP-Info: url=',
    'Require: ',
    'Public: ',
    'User-Agent: ',
    'Accept: application/sdp\r\n',
    'Authorization: Basic ',
    'Unsupported: ',
    'Proxy-Require: ',
    ';timeout=60',
    'RTP/AVP/TCP;unicast;interleaved=0-1',
    'RTP/AVP;unicast;client_port=5000-5001',
    'v=0\r\n',
    '0',
    '1',
    '9',
    '65535',
    '65536',
    '99999999999999999',
    '8192',
    '\xc3\xa9',
    '\xe4\xb8\x80',
    '\x7f',
  ],
  mutators: [fixContentLength, appendFrameOrMessage],
  run(data) {
    // One limit set per input (drawn from its hash) halves the cost; the corpus replay runs both.
    check(data, [randomCuts(data)], [CONFIGS[hashBytes(data) & 1]]);
  },
  runThorough(data) {
    const everyByte = Array.from({ length: Math.max(0, data.length - 1) }, (_, i) => i + 1);
    check(data, [randomCuts(data), everyByte], CONFIGS);
  },
};
