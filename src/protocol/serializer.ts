/**
 * RTSP 1.0 message serialization. Everything written to the wire passes through here, so values
 * that could split a header or a start line (CR, LF, NUL, other controls) are refused instead of
 * being sent: they usually come from application data (URLs, session names, user agents).
 */
import { Buffer } from 'node:buffer';
import { RtspError } from './errors.js';
import { equalsIgnoreCase, isToken, RtspHeaders, type RtspHeadersInit, STATUS_REASONS } from './message.js';

export interface SerializableResponse {
  status: number;
  /** Defaults to STATUS_REASONS[status], or '' for unknown codes. */
  reason?: string;
  headers: RtspHeaders | RtspHeadersInit;
  body?: Uint8Array;
  /** Defaults to 'RTSP/1.0'. */
  version?: string;
}

export interface SerializableRequest {
  method: string;
  uri: string;
  headers: RtspHeaders | RtspHeadersInit;
  body?: Uint8Array;
  /** Defaults to 'RTSP/1.0'. */
  version?: string;
}

const EMPTY = new Uint8Array(0);

function injection(message: string): RtspError {
  return new RtspError(500, 'ERR_RTSP_HEADER_INJECTION', message);
}

/** Index of the first CTL other than HT (CR, LF and NUL included), or -1. */
function findControlChar(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return i;
  }
  return -1;
}

function checkVersion(version: string): void {
  if (!/^[A-Za-z][A-Za-z0-9-]*\/[0-9]+\.[0-9]+$/.test(version)) {
    throw injection(`invalid protocol version ${JSON.stringify(version)}`);
  }
}

/**
 * Appends the header lines to `head`. Any Content-Length given by the caller is replaced (at its
 * first position) by the real body length, so the framing can never disagree with the body.
 */
function appendHeaders(head: string, headers: RtspHeaders | RtspHeadersInit, bodyLength: number): string {
  let wroteLength = false;
  const add = (value: string, name: string): void => {
    if (!isToken(name)) throw injection(`invalid header name ${JSON.stringify(name)}`);
    if (typeof value !== 'string' || findControlChar(value) !== -1) {
      throw injection(`invalid value for header ${name}`);
    }
    if (name.length === 14 && equalsIgnoreCase(name, 'content-length')) {
      if (wroteLength || bodyLength === 0) return;
      wroteLength = true;
      value = String(bodyLength);
    }
    head += `${name}: ${value}\r\n`;
  };
  if (headers instanceof RtspHeaders) {
    headers.forEach(add);
  } else if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const [name, value] of headers as Iterable<readonly [string, string]>) add(value, name);
  } else {
    const record = headers as Readonly<Record<string, string>>;
    for (const name of Object.keys(record)) add(record[name], name);
  }
  if (!wroteLength && bodyLength > 0) head += `Content-Length: ${bodyLength}\r\n`;
  return `${head}\r\n`;
}

/** One allocation: the head encoded as UTF-8, followed by the body. */
function assemble(head: string, body: Uint8Array): Buffer {
  const headLength = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headLength + body.length);
  out.write(head, 0, headLength, 'utf8');
  out.set(body, headLength);
  return out;
}

/** `RTSP/1.0 200 OK\r\n` + headers + blank line + body. */
export function serializeResponse(res: SerializableResponse): Buffer {
  const { status } = res;
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new RtspError(500, 'ERR_RTSP_BAD_STATUS', `invalid status code ${status}`);
  }
  const version = res.version ?? 'RTSP/1.0';
  checkVersion(version);
  const reason = res.reason ?? STATUS_REASONS[status] ?? '';
  if (findControlChar(reason) !== -1) throw injection('control character in reason phrase');
  const body = res.body ?? EMPTY;
  return assemble(appendHeaders(`${version} ${status} ${reason}\r\n`, res.headers, body.length), body);
}

/** `METHOD uri RTSP/1.0\r\n` + headers + blank line + body. */
export function serializeRequest(req: SerializableRequest): Buffer {
  // A leading `$` is a valid token char but would be read back as an interleaved frame.
  if (!isToken(req.method) || req.method.charCodeAt(0) === 0x24) {
    throw injection(`invalid method ${JSON.stringify(req.method)}`);
  }
  const { uri } = req;
  if (uri.length === 0 || /[\x00-\x20\x7f]/.test(uri))
    throw injection(`invalid request URI ${JSON.stringify(uri)}`);
  const version = req.version ?? 'RTSP/1.0';
  checkVersion(version);
  const body = req.body ?? EMPTY;
  return assemble(appendHeaders(`${req.method} ${uri} ${version}\r\n`, req.headers, body.length), body);
}

/**
 * Writes the RFC 2326 section 10.12 frame header (`$`, channel, 16-bit big-endian length) into
 * `target` at `offset`, or into a new 4-byte buffer. Returns the buffer written to.
 */
export function serializeInterleavedHeader(
  channel: number,
  length: number,
  target?: Buffer,
  offset = 0,
): Buffer {
  if (!Number.isInteger(channel) || channel < 0 || channel > 255) {
    throw new RtspError(500, 'ERR_RTSP_INTERLEAVED_RANGE', `interleaved channel ${channel} out of 0..255`);
  }
  if (!Number.isInteger(length) || length < 0 || length > 0xffff) {
    throw new RtspError(500, 'ERR_RTSP_INTERLEAVED_RANGE', `interleaved length ${length} out of 0..65535`);
  }
  const out = target ?? Buffer.allocUnsafe(4);
  if (!Number.isInteger(offset) || offset < 0 || offset + 4 > out.length) {
    throw new RtspError(500, 'ERR_RTSP_INTERLEAVED_RANGE', `no room for a 4-byte header at offset ${offset}`);
  }
  out[offset] = 0x24;
  out[offset + 1] = channel;
  out[offset + 2] = length >>> 8;
  out[offset + 3] = length & 0xff;
  return out;
}

/** A whole `$` frame (header + copy of `data`) in one buffer. */
export function serializeInterleavedFrame(channel: number, data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + data.length);
  serializeInterleavedHeader(channel, data.length, out, 0);
  out.set(data, 4);
  return out;
}
