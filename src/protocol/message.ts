/**
 * RTSP 1.0 message model shared by the parser, the serializer and the server/client layers.
 * Pure data: no I/O.
 */
import type { Buffer } from 'node:buffer';

/** Anything an `RtspHeaders` can be built from: (name, value) pairs or a plain record. */
export type RtspHeadersInit = Iterable<readonly [string, string]> | Readonly<Record<string, string>>;

/** ASCII case-insensitive equality (header names), without allocating lowered copies. */
export function equalsIgnoreCase(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const lx = x | 0x20;
    // Only letters may differ, and only by the case bit.
    if (lx !== (y | 0x20) || lx < 0x61 || lx > 0x7a) return false;
  }
  return true;
}

/**
 * Ordered header list. Keeps every field in arrival order with the name's original case
 * (some cameras and clients are picky about `CSeq` vs `Cseq`); lookups are case-insensitive.
 * Repeated fields are kept as separate entries.
 */
export class RtspHeaders implements Iterable<[string, string]> {
  // Flat [name0, value0, name1, value1, ...]: one array per message, no tuple per header.
  // TS-private rather than #private so assert.deepStrictEqual compares the contents.
  private readonly list: string[] = [];

  constructor(init?: RtspHeadersInit) {
    if (init === undefined) return;
    if (typeof (init as Iterable<unknown>)[Symbol.iterator] === 'function') {
      for (const [name, value] of init as Iterable<readonly [string, string]>) this.list.push(name, value);
    } else {
      for (const name of Object.keys(init)) {
        this.list.push(name, (init as Readonly<Record<string, string>>)[name]);
      }
    }
  }

  /** Number of (name, value) entries, repeated names counted each time. */
  get size(): number {
    return this.list.length >>> 1;
  }

  /** First value of `name` (case-insensitive), or undefined. */
  get(name: string): string | undefined {
    const list = this.list;
    for (let i = 0; i < list.length; i += 2) {
      if (equalsIgnoreCase(list[i], name)) return list[i + 1];
    }
    return undefined;
  }

  /** Every value of `name`, in order. */
  getAll(name: string): string[] {
    const out: string[] = [];
    const list = this.list;
    for (let i = 0; i < list.length; i += 2) {
      if (equalsIgnoreCase(list[i], name)) out.push(list[i + 1]);
    }
    return out;
  }

  has(name: string): boolean {
    const list = this.list;
    for (let i = 0; i < list.length; i += 2) {
      if (equalsIgnoreCase(list[i], name)) return true;
    }
    return false;
  }

  /**
   * Replaces every entry of `name` with a single one. The entry keeps the position of the
   * first existing one (or goes last) and takes the spelling of `name` given here.
   */
  set(name: string, value: string): this {
    const list = this.list;
    let found = false;
    let w = 0;
    for (let r = 0; r < list.length; r += 2) {
      if (equalsIgnoreCase(list[r], name)) {
        if (found) continue;
        found = true;
        list[w] = name;
        list[w + 1] = value;
      } else if (w !== r) {
        list[w] = list[r];
        list[w + 1] = list[r + 1];
      }
      w += 2;
    }
    list.length = w;
    if (!found) list.push(name, value);
    return this;
  }

  /** Adds an entry at the end, keeping existing entries of the same name. */
  append(name: string, value: string): this {
    this.list.push(name, value);
    return this;
  }

  /** Removes every entry of `name`; true when something was removed. */
  delete(name: string): boolean {
    const list = this.list;
    let w = 0;
    for (let r = 0; r < list.length; r += 2) {
      if (equalsIgnoreCase(list[r], name)) continue;
      if (w !== r) {
        list[w] = list[r];
        list[w + 1] = list[r + 1];
      }
      w += 2;
    }
    const removed = w !== list.length;
    list.length = w;
    return removed;
  }

  /** Calls `fn` for each entry in order, without allocating a tuple per entry. */
  forEach(fn: (value: string, name: string, headers: this) => void): void {
    const list = this.list;
    for (let i = 0; i < list.length; i += 2) fn(list[i + 1], list[i], this);
  }

  *entries(): IterableIterator<[string, string]> {
    const list = this.list;
    for (let i = 0; i < list.length; i += 2) yield [list[i], list[i + 1]];
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

export interface RtspRequest {
  kind: 'request';
  method: string;
  uri: string;
  version: string;
  headers: RtspHeaders;
  body: Buffer;
}

export interface RtspResponse {
  kind: 'response';
  version: string;
  status: number;
  reason: string;
  headers: RtspHeaders;
  body: Buffer;
}

/** RFC 2326 section 10.12 `$` frame: RTP/RTCP (or other) data interleaved on the RTSP TCP connection. */
export interface InterleavedFrame {
  kind: 'interleaved';
  channel: number;
  data: Buffer;
}

export type RtspMessage = RtspRequest | RtspResponse | InterleavedFrame;

/** Recommended reason phrases: RFC 2326 section 7.1.1, plus 431 (RFC 6585) for oversized headers. */
export const STATUS_REASONS: Readonly<Record<number, string>> = Object.freeze({
  100: 'Continue',
  200: 'OK',
  201: 'Created',
  250: 'Low on Storage Space',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Moved Temporarily',
  303: 'See Other',
  304: 'Not Modified',
  305: 'Use Proxy',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Time-out',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Large',
  415: 'Unsupported Media Type',
  431: 'Request Header Fields Too Large',
  451: 'Parameter Not Understood',
  452: 'Conference Not Found',
  453: 'Not Enough Bandwidth',
  454: 'Session Not Found',
  455: 'Method Not Valid in This State',
  456: 'Header Field Not Valid for Resource',
  457: 'Invalid Range',
  458: 'Parameter Is Read-Only',
  459: 'Aggregate operation not allowed',
  460: 'Only aggregate operation allowed',
  461: 'Unsupported transport',
  462: 'Destination unreachable',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Time-out',
  505: 'RTSP Version not supported',
  551: 'Option not supported',
});

// RFC 2616 token: any CHAR except CTLs and separators ( ) < > @ , ; : \ " / [ ] ? = { } SP HT.
const TOKEN_TABLE = (() => {
  const t = new Uint8Array(128);
  for (let c = 0x21; c < 0x7f; c++) t[c] = 1;
  for (const s of '()<>@,;:\\"/[]?={}') t[s.charCodeAt(0)] = 0;
  return t;
})();

/** True for a byte / char code allowed in an RFC 2616 token (method, header name). */
export function isTokenCode(code: number): boolean {
  return code < 128 && TOKEN_TABLE[code] === 1;
}

/** True when `s` is a non-empty RFC 2616 token. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN_TABLE[c] !== 1) return false;
  }
  return true;
}
