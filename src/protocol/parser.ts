/**
 * Incremental RTSP 1.0 stream parser (RFC 2326): requests, responses and `$`-interleaved binary
 * frames (section 10.12) mixed on one TCP byte stream. Pure: bytes in, messages out.
 */
import { Buffer } from 'node:buffer';
import { RtspParseError } from './errors.js';
import {
  equalsIgnoreCase,
  isTokenCode,
  RtspHeaders,
  type RtspMessage,
  type RtspRequest,
  type RtspResponse,
} from './message.js';

export interface RtspParserOptions {
  /** Longest accepted start line + headers, blank line included. Default 8192. */
  maxHeaderBytes?: number;
  /** Largest accepted Content-Length. Default 65536. */
  maxBodyBytes?: number;
}

/**
 * Any framing or syntax error found by `RtspParser`. Always fatal: the byte stream can no longer
 * be trusted, so the connection answers `status` (echoing `cseq` when it could be read) and closes.
 */
export class RtspRequestParseError extends RtspParseError {
  /** CSeq of the message that failed, when its header block could be read (digits only). */
  readonly cseq: string | undefined;
  /**
   * Messages that were complete before the error within the same `push()` call, in order.
   * The caller may still handle them (e.g. answer a pipelined request) before answering the error.
   */
  precedingMessages: RtspMessage[] = [];

  constructor(message: string, code = 'ERR_RTSP_PARSE', status = 400, cseq?: string) {
    super(message, code, status);
    this.cseq = cseq;
  }
}

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HT = 0x09;
const DOLLAR = 0x24;

// Parser states.
const IDLE = 0; // between messages: skipping blank lines, looking at the first byte
const FRAME_HEADER = 1; // inside the 4-byte `$` header, split across chunks
const FRAME_DATA = 2; // copying a frame that spans chunks into `fill`
const HEAD = 3; // buffering a start line + headers until the blank line
const BODY = 4; // copying a body that spans chunks into `fill`

const EMPTY = Buffer.alloc(0);
const RTSP_VERSION = 'RTSP/1.0';
// Something that is clearly a protocol version, just not ours: answered with 505 rather than 400.
const VERSION_LIKE = /^[A-Za-z][A-Za-z0-9-]*\/[0-9]+\.[0-9]+$/;
// Best-effort CSeq recovery from a header block that failed to parse; digits only so it is safe to echo.
const CSEQ_LINE = /(?:^|\n)cseq[ \t]*:[ \t]*([0-9]{1,16})[ \t]*\r?\n/i;

function findCSeq(text: string): string | undefined {
  const m = CSEQ_LINE.exec(text);
  return m === null ? undefined : m[1];
}

/** Index of the first CTL (other than HT) in text[from, to), or -1. */
function findControlChar(text: string, from: number, to: number): number {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== HT) || c === 0x7f) return i;
  }
  return -1;
}

function describeByte(b: number): string {
  return `0x${b.toString(16).padStart(2, '0')}`;
}

/**
 * Feed it socket chunks with `push()`; it returns the messages completed so far and keeps the
 * partial remainder. Interleaved frame data and bodies lying wholly inside one chunk are returned
 * as views of that chunk (no copy), so a chunk must not be modified after it is pushed.
 *
 * After it throws, the parser is closed: every later `push()` throws an `RtspRequestParseError`.
 */
export class RtspParser {
  private readonly maxHeaderBytes: number;
  private readonly maxBodyBytes: number;

  private state = IDLE;
  private failure: RtspRequestParseError | undefined;

  // FRAME_HEADER: the 4 `$` header bytes gathered so far.
  private readonly frameHeader = Buffer.alloc(4);
  private frameHeaderFill = 0;
  private frameChannel = 0;

  // FRAME_DATA / BODY: destination for data spanning chunks, and how much of it is filled.
  private fill: Buffer = EMPTY;
  private fillPos = 0;
  private pendingHead: RtspRequest | RtspResponse | undefined;

  // HEAD: earlier chunks' slices of the unfinished header block (views, concatenated once at the end).
  private readonly headParts: Buffer[] = [];
  private headLen = 0;
  // Blank-line detector carried across chunks: 0 = line empty so far, 1 = line is just CR, 2 = content.
  private lineState = 0;
  // Content-Length of the head being parsed (-1 = none seen).
  private bodyLength = -1;

  constructor(options: RtspParserOptions = {}) {
    const maxHeaderBytes = options.maxHeaderBytes ?? 8192;
    const maxBodyBytes = options.maxBodyBytes ?? 65536;
    if (!Number.isSafeInteger(maxHeaderBytes) || maxHeaderBytes < 1) {
      throw new RangeError(`maxHeaderBytes must be a positive integer, got ${maxHeaderBytes}`);
    }
    if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 0) {
      throw new RangeError(`maxBodyBytes must be a non-negative integer, got ${maxBodyBytes}`);
    }
    this.maxHeaderBytes = maxHeaderBytes;
    this.maxBodyBytes = maxBodyBytes;
  }

  /** True while part of a message (request, response or `$` frame) is buffered, waiting for the rest. */
  get partial(): boolean {
    return this.state !== IDLE;
  }

  /** True once an error was thrown; the connection should be closed. */
  get closed(): boolean {
    return this.failure !== undefined;
  }

  /** Consumes `chunk` and returns every message completed by it, in stream order. */
  push(chunk: Buffer): RtspMessage[] {
    if (this.failure !== undefined) {
      const f = this.failure;
      throw new RtspRequestParseError(
        `parser closed after an earlier error: ${f.message}`,
        f.code,
        f.status,
        f.cseq,
      );
    }
    const out: RtspMessage[] = [];
    try {
      this.consume(chunk, out);
    } catch (err) {
      const failure =
        err instanceof RtspRequestParseError
          ? err
          : new RtspRequestParseError(`internal parser error: ${String(err)}`, 'ERR_RTSP_PARSE', 500);
      failure.precedingMessages = out;
      this.failure = failure;
      this.headParts.length = 0;
      this.fill = EMPTY;
      this.pendingHead = undefined;
      // Rethrow the original so a bug is not disguised; the dead-parser state is set either way.
      throw err;
    }
    return out;
  }

  private consume(chunk: Buffer, out: RtspMessage[]): void {
    const len = chunk.length;
    let pos = 0;
    while (pos < len) {
      switch (this.state) {
        case IDLE: {
          const b = chunk[pos];
          if (b === CR || b === LF) {
            pos++; // blank lines between messages (keep-alive CRLFs, trailing LF after a body)
          } else if (b === DOLLAR) {
            if (len - pos >= 4) {
              pos = this.startFrameData(
                chunk,
                pos + 4,
                chunk[pos + 1],
                (chunk[pos + 2] << 8) | chunk[pos + 3],
                out,
              );
            } else {
              this.frameHeaderFill = 0;
              this.state = FRAME_HEADER;
            }
          } else if (isTokenCode(b)) {
            this.state = HEAD;
            this.headLen = 0;
            this.lineState = 0;
          } else {
            throw new RtspRequestParseError(`unexpected byte ${describeByte(b)} at the start of a message`);
          }
          break;
        }
        case FRAME_HEADER: {
          const header = this.frameHeader;
          while (this.frameHeaderFill < 4 && pos < len) header[this.frameHeaderFill++] = chunk[pos++];
          if (this.frameHeaderFill === 4) {
            pos = this.startFrameData(chunk, pos, header[1], (header[2] << 8) | header[3], out);
          }
          break;
        }
        case FRAME_DATA:
        case BODY: {
          const fill = this.fill;
          const n = Math.min(fill.length - this.fillPos, len - pos);
          chunk.copy(fill, this.fillPos, pos, pos + n);
          this.fillPos += n;
          pos += n;
          if (this.fillPos === fill.length) this.finishFill(out);
          break;
        }
        default:
          pos = this.scanHead(chunk, pos, out);
      }
    }
  }

  /** Emits the frame whose data starts at `pos` if it is all in `chunk`, else starts copying it. */
  private startFrameData(
    chunk: Buffer,
    pos: number,
    channel: number,
    size: number,
    out: RtspMessage[],
  ): number {
    if (chunk.length - pos >= size) {
      out.push({ kind: 'interleaved', channel, data: chunk.subarray(pos, pos + size) });
      this.state = IDLE;
      return pos + size;
    }
    this.frameChannel = channel;
    this.fill = Buffer.allocUnsafe(size);
    this.fillPos = 0;
    this.state = FRAME_DATA;
    return pos;
  }

  private finishFill(out: RtspMessage[]): void {
    const data = this.fill;
    this.fill = EMPTY;
    if (this.state === FRAME_DATA) {
      out.push({ kind: 'interleaved', channel: this.frameChannel, data });
    } else {
      const head = this.pendingHead!;
      this.pendingHead = undefined;
      head.body = data;
      out.push(head);
    }
    this.state = IDLE;
  }

  /**
   * Looks for the blank line ending the header block, from `pos` in `chunk`. Returns the position
   * after what it consumed: the whole chunk when the block is still incomplete.
   */
  private scanHead(chunk: Buffer, pos: number, out: RtspMessage[]): number {
    const len = chunk.length;
    // The block, blank line included, must end at or before `limit` in this chunk's coordinates.
    const limit = pos + (this.maxHeaderBytes - this.headLen);
    let state = this.lineState;
    let p = pos;
    for (;;) {
      const nl = chunk.indexOf(LF, p);
      const segEnd = nl === -1 ? len : nl;
      if (segEnd > p) state = segEnd - p === 1 && state === 0 && chunk[p] === CR ? 1 : 2;
      if (nl === -1 || nl >= limit) {
        if (len > limit) throw this.headerTooLarge(chunk, pos, limit);
        this.lineState = state;
        this.headParts.push(chunk.subarray(pos));
        this.headLen += len - pos;
        return len;
      }
      if (state !== 2) return this.finishHead(chunk, pos, nl + 1, out);
      state = 0;
      p = nl + 1;
    }
  }

  private headerTooLarge(chunk: Buffer, pos: number, limit: number): RtspRequestParseError {
    this.headParts.push(chunk.subarray(pos, limit));
    const text = Buffer.concat(this.headParts).toString('utf8');
    return new RtspRequestParseError(
      `header block exceeds ${this.maxHeaderBytes} bytes`,
      'ERR_RTSP_HEADER_TOO_LARGE',
      431,
      findCSeq(text),
    );
  }

  /** The header block is chunk[start, end) plus any earlier parts; parse it and set up the body. */
  private finishHead(chunk: Buffer, start: number, end: number, out: RtspMessage[]): number {
    let text: string;
    if (this.headParts.length === 0) {
      text = chunk.toString('utf8', start, end);
    } else {
      this.headParts.push(chunk.subarray(start, end));
      text = Buffer.concat(this.headParts, this.headLen + end - start).toString('utf8');
      this.headParts.length = 0;
    }
    this.headLen = 0;
    const head = this.parseHead(text);
    const bodyLength = this.bodyLength;
    if (bodyLength <= 0) {
      out.push(head);
      this.state = IDLE;
      return end;
    }
    if (chunk.length - end >= bodyLength) {
      head.body = chunk.subarray(end, end + bodyLength);
      out.push(head);
      this.state = IDLE;
      return end + bodyLength;
    }
    this.pendingHead = head;
    this.fill = Buffer.allocUnsafe(bodyLength);
    this.fillPos = 0;
    this.state = BODY;
    return end;
  }

  private fail(text: string, message: string, code = 'ERR_RTSP_PARSE', status = 400): RtspRequestParseError {
    return new RtspRequestParseError(message, code, status, findCSeq(text));
  }

  /** Parses a complete header block (it ends with its blank line). Sets `this.bodyLength`. */
  private parseHead(text: string): RtspRequest | RtspResponse {
    let nl = text.indexOf('\n');
    let lineEnd = nl > 0 && text.charCodeAt(nl - 1) === CR ? nl - 1 : nl;
    const head = text.startsWith('RTSP/')
      ? this.parseStatusLine(text, lineEnd)
      : this.parseRequestLine(text, lineEnd);

    this.bodyLength = -1;
    const headers = head.headers;
    let name: string | undefined;
    let value = '';
    for (;;) {
      const lineStart = nl + 1;
      nl = text.indexOf('\n', lineStart);
      lineEnd = nl > lineStart && text.charCodeAt(nl - 1) === CR ? nl - 1 : nl;
      if (lineEnd === lineStart) break; // the blank line: end of the block
      const first = text.charCodeAt(lineStart);
      if (first === SP || first === HT) {
        // obs-fold (RFC 2616 LWS, used by RFC 2326's own examples): continues the previous value.
        if (name === undefined) throw this.fail(text, 'continuation line before any header');
        const part = this.headerValue(text, lineStart, lineEnd);
        if (part.length > 0) value = value.length > 0 ? `${value} ${part}` : part;
        continue;
      }
      if (name !== undefined) this.addHeader(headers, name, value, text);
      const colon = text.indexOf(':', lineStart);
      if (colon === -1 || colon >= lineEnd) throw this.fail(text, 'header line without a colon');
      let nameEnd = colon;
      while (nameEnd > lineStart && isSpace(text.charCodeAt(nameEnd - 1))) nameEnd--;
      if (nameEnd === lineStart) throw this.fail(text, 'empty header name');
      for (let i = lineStart; i < nameEnd; i++) {
        if (!isTokenCode(text.charCodeAt(i))) throw this.fail(text, 'invalid character in header name');
      }
      name = text.slice(lineStart, nameEnd);
      value = this.headerValue(text, colon + 1, lineEnd);
    }
    if (name !== undefined) this.addHeader(headers, name, value, text);

    if (this.bodyLength > this.maxBodyBytes) {
      throw this.fail(
        text,
        `Content-Length ${this.bodyLength} exceeds ${this.maxBodyBytes}`,
        'ERR_RTSP_BODY_TOO_LARGE',
        413,
      );
    }
    return head;
  }

  /** text[from, to) with optional whitespace trimmed; control characters rejected. */
  private headerValue(text: string, from: number, to: number): string {
    if (findControlChar(text, from, to) !== -1) throw this.fail(text, 'control character in header value');
    while (from < to && isSpace(text.charCodeAt(from))) from++;
    while (to > from && isSpace(text.charCodeAt(to - 1))) to--;
    return text.slice(from, to);
  }

  private addHeader(headers: RtspHeaders, name: string, value: string, text: string): void {
    headers.append(name, value);
    if (name.length !== 14 || !equalsIgnoreCase(name, 'content-length')) return;
    if (value.length === 0) throw this.fail(text, 'empty Content-Length');
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c < 0x30 || c > 0x39) throw this.fail(text, `invalid Content-Length ${JSON.stringify(value)}`);
    }
    const n = Number(value);
    if (this.bodyLength !== -1 && this.bodyLength !== n)
      throw this.fail(text, 'conflicting Content-Length headers');
    this.bodyLength = n;
  }

  private parseRequestLine(text: string, lineEnd: number): RtspRequest {
    const sp1 = text.indexOf(' ', 0);
    if (sp1 <= 0 || sp1 >= lineEnd) throw this.fail(text, 'malformed request line');
    for (let i = 0; i < sp1; i++) {
      if (!isTokenCode(text.charCodeAt(i))) throw this.fail(text, 'invalid character in method');
    }
    const sp2 = text.indexOf(' ', sp1 + 1);
    if (sp2 === -1 || sp2 >= lineEnd || sp2 === sp1 + 1) throw this.fail(text, 'malformed request line');
    for (let i = sp1 + 1; i < sp2; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x20 || c === 0x7f) throw this.fail(text, 'control character in request URI');
    }
    let versionEnd = lineEnd;
    while (versionEnd > sp2 + 1 && isSpace(text.charCodeAt(versionEnd - 1))) versionEnd--;
    const version = text.slice(sp2 + 1, versionEnd);
    if (version !== RTSP_VERSION) this.rejectVersion(text, version);
    return {
      kind: 'request',
      method: text.slice(0, sp1),
      uri: text.slice(sp1 + 1, sp2),
      version: RTSP_VERSION,
      headers: new RtspHeaders(),
      body: EMPTY,
    };
  }

  private parseStatusLine(text: string, lineEnd: number): RtspResponse {
    let sp1 = text.indexOf(' ', 0);
    if (sp1 === -1 || sp1 > lineEnd) sp1 = lineEnd;
    const version = text.slice(0, sp1);
    if (version !== RTSP_VERSION) this.rejectVersion(text, version);
    // RTSP/1.0 SP 3DIGIT [SP reason]; a missing reason (and its SP) is tolerated.
    const codeEnd = sp1 + 4;
    if (codeEnd > lineEnd || (codeEnd < lineEnd && text.charCodeAt(codeEnd) !== SP)) {
      throw this.fail(text, 'malformed status line');
    }
    let status = 0;
    for (let i = sp1 + 1; i < codeEnd; i++) {
      const d = text.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) throw this.fail(text, 'malformed status code');
      status = status * 10 + d;
    }
    const reasonStart = codeEnd < lineEnd ? codeEnd + 1 : lineEnd;
    if (findControlChar(text, reasonStart, lineEnd) !== -1)
      throw this.fail(text, 'control character in reason');
    return {
      kind: 'response',
      version: RTSP_VERSION,
      status,
      reason: text.slice(reasonStart, lineEnd),
      headers: new RtspHeaders(),
      body: EMPTY,
    };
  }

  private rejectVersion(text: string, version: string): never {
    if (VERSION_LIKE.test(version)) {
      throw this.fail(text, `unsupported protocol version ${version}`, 'ERR_RTSP_VERSION', 505);
    }
    throw this.fail(text, 'malformed protocol version');
  }
}

function isSpace(c: number): boolean {
  return c === SP || c === HT;
}
