/**
 * The little of HTTP/1.x the RTSP tunnels need: telling an HTTP request from an RTSP one by its first
 * bytes, and reading a request head (the tunnel's GET and POST, a WebSocket upgrade). Pure: no sockets.
 */
import { RtspError } from './errors.js';

/** A request line and its headers; header names lower-cased, repeated headers joined with ", ". */
export interface HttpHead {
  method: string;
  target: string;
  version: string;
  headers: Map<string, string>;
}

/** A request head that cannot be read: answered with `status` (400, 431) and the socket closed. */
export class HttpHeadError extends RtspError {
  constructor(status: number, code: string, message: string) {
    super(status, code, message, { fatal: true });
  }
}

const HTTP_METHODS = ['GET ', 'POST '];

/**
 * Whether a connection's first bytes are an HTTP request (true), something else (false: RTSP,
 * interleaved data), or too few to tell (undefined). No RTSP method is `GET` or `POST`
 * (GET_PARAMETER has `_` where GET has a space), so one differing byte decides: an RTSP request is
 * never held back for more than the bytes it shares with those two prefixes.
 */
export function isHttpRequest(start: Buffer): boolean | undefined {
  let undecided = false;
  for (const prefix of HTTP_METHODS) {
    const n = Math.min(prefix.length, start.length);
    if (start.toString('latin1', 0, n) !== prefix.slice(0, n)) continue;
    if (n === prefix.length) return true;
    undecided = true;
  }
  return undecided ? undefined : false;
}

/**
 * Reads one request head from the start of `buffer`: undefined while it is incomplete, else the head
 * and the bytes after it. Throws HttpHeadError (431) past `maxBytes`, (400) when it is malformed.
 */
export function parseHttpHead(
  buffer: Buffer,
  maxBytes: number,
): { head: HttpHead; rest: Buffer } | undefined {
  const end = buffer.indexOf('\r\n\r\n');
  if (end < 0) {
    if (buffer.length > maxBytes)
      throw new HttpHeadError(431, 'ERR_HTTP_HEADERS_TOO_LARGE', 'request head too large');
    return undefined;
  }
  if (end + 4 > maxBytes)
    throw new HttpHeadError(431, 'ERR_HTTP_HEADERS_TOO_LARGE', 'request head too large');
  const lines = buffer.toString('latin1', 0, end).split('\r\n');
  const m = /^([A-Z]+) (\S+) (HTTP\/1\.[01])$/.exec(lines[0]);
  if (!m) throw new HttpHeadError(400, 'ERR_HTTP_BAD_REQUEST_LINE', 'malformed HTTP request line');
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0 || /[\s]/.test(line.slice(0, colon)))
      throw new HttpHeadError(400, 'ERR_HTTP_BAD_HEADER', 'malformed HTTP header line');
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    const before = headers.get(name);
    headers.set(name, before === undefined ? value : `${before}, ${value}`);
  }
  return { head: { method: m[1], target: m[2], version: m[3], headers }, rest: buffer.subarray(end + 4) };
}

/** Whether a comma-separated header value holds `token` (case-insensitive): `Connection: keep-alive, Upgrade`. */
export function headerHasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  const wanted = token.toLowerCase();
  return value.split(',').some((t) => t.trim().toLowerCase() === wanted);
}

/** Bytes that can never be base64 (whitespace between chunks is allowed and skipped). */
export class Base64Error extends HttpHeadError {
  constructor(message: string) {
    super(400, 'ERR_RTSP_TUNNEL_BAD_BASE64', message);
  }
}

/**
 * Decodes the tunnel's POST body: base64 that arrives split at any byte, in which each request was
 * encoded on its own (so `=` padding may end a group in the middle of the stream). Works in groups of
 * four characters, keeping an incomplete group for the next chunk.
 */
export class Base64StreamDecoder {
  private carry = '';

  push(chunk: Buffer): Buffer {
    const text = this.carry + chunk.toString('latin1').replace(/[\r\n\t ]+/g, '');
    if (!/^[A-Za-z0-9+/=]*$/.test(text)) throw new Base64Error('the POST body is not base64');
    const whole = text.length - (text.length % 4);
    this.carry = text.slice(whole);
    const groups = text.slice(0, whole);
    // `=` only at the end of a group, as its last one or two characters.
    if (!/^(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)*$/.test(groups))
      throw new Base64Error('misplaced base64 padding');
    if (/=/.test(this.carry.slice(0, 2))) throw new Base64Error('misplaced base64 padding');
    return Buffer.from(groups, 'base64');
  }
}
