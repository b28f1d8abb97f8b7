/**
 * The Annex B byte stream format (start codes), shared by H.264 and H.265: the codecs' readers group
 * the NAL units it yields into access units by their own rules.
 */
import { Buffer } from 'node:buffer';
import { MediaFormatError } from './errors.js';

const START_CODE = Buffer.from([0, 0, 1]);

function trimTrailingZeros(buf: Buffer, start: number, end: number): number {
  while (end > start && buf[end - 1] === 0) end--;
  return end;
}

/**
 * NAL units of an Annex B buffer, as views (no copies). Accepts 3- and 4-byte start codes; bytes
 * before the first start code are ignored; trailing zero bytes (trailing_zero_8bits and the first
 * zero of a 4-byte start code) are trimmed; empty NAL units are skipped.
 */
export function splitAnnexB(buf: Buffer): Buffer[] {
  const nalus: Buffer[] = [];
  let start = buf.indexOf(START_CODE);
  if (start < 0) return nalus;
  start += 3;
  for (;;) {
    const next = buf.indexOf(START_CODE, start);
    const end = trimTrailingZeros(buf, start, next < 0 ? buf.length : next);
    if (end > start) nalus.push(buf.subarray(start, end));
    if (next < 0) return nalus;
    start = next + 3;
  }
}

export interface AnnexBNalScannerOptions {
  /** Largest NAL unit accepted before the input is declared not to be a video stream (default 16 MiB). */
  maxNalSize?: number;
}

/**
 * Incremental Annex B splitter, codec-neutral (H.264 and H.265 share the byte stream format):
 * fed chunks, it returns the NAL units they complete. 3- and 4-byte start codes, start codes split
 * across chunks, bytes before the first start code ignored, trailing zero bytes trimmed, empty NAL
 * units skipped. A NAL unit inside one chunk is a view of it, so chunks must not be reused by the
 * caller afterwards; one spanning chunks is copied once when it completes.
 */
export class AnnexBNalScanner {
  private readonly maxNalSize: number;
  /** Pieces of the NAL unit after the last start code, not yet ended. */
  private parts: Buffer[] = [];
  private partsLength = 0;
  /** A start code has been seen; bytes before the first one are not a NAL unit. */
  private started = false;
  /** Zero bytes at the end of everything received so far (a start code may straddle chunks). */
  private trailingZeros = 0;

  constructor(options: AnnexBNalScannerOptions = {}) {
    this.maxNalSize = options.maxNalSize ?? 16 * 1024 * 1024;
  }

  /** Feeds a chunk; returns the NAL units it completed, in order. */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    const length = chunk.length;
    if (length === 0) return out;
    let segStart = 0;
    // A start code whose zeros ended the previous chunk(s): 00 00 | 01 or 00 | 00 01.
    if (this.trailingZeros >= 2 && chunk[0] === 1) {
      this.endNal(null, 0, 0, out);
      segStart = 1;
    } else if (this.trailingZeros >= 1 && length >= 2 && chunk[0] === 0 && chunk[1] === 1) {
      this.endNal(null, 0, 0, out);
      segStart = 2;
    }
    for (;;) {
      const next = chunk.indexOf(START_CODE, segStart);
      if (next < 0) break;
      this.endNal(chunk, segStart, next, out);
      segStart = next + 3;
    }
    if (segStart < length && this.started) {
      this.parts.push(chunk.subarray(segStart));
      this.partsLength += length - segStart;
      if (this.partsLength > this.maxNalSize) {
        throw new MediaFormatError(`NAL unit larger than ${this.maxNalSize} bytes: not an Annex B stream?`);
      }
    }
    let zeros = 0;
    while (zeros < length && chunk[length - 1 - zeros] === 0) zeros++;
    this.trailingZeros = zeros === length ? this.trailingZeros + zeros : zeros;
    return out;
  }

  /** End of input: the last NAL unit, if any. The scanner can then be fed a new stream. */
  flush(): Buffer[] {
    const out: Buffer[] = [];
    this.endNal(null, 0, 0, out);
    this.started = false;
    this.trailingZeros = 0;
    return out;
  }

  /** Ends the NAL unit made of the pending parts plus chunk[from, to). */
  private endNal(chunk: Buffer | null, from: number, to: number, out: Buffer[]): void {
    const wasStarted = this.started;
    this.started = true;
    if (!wasStarted) return;
    let nal: Buffer;
    if (this.parts.length === 0) {
      if (chunk === null) return;
      nal = chunk.subarray(from, to);
    } else {
      if (chunk !== null && to > from) this.parts.push(chunk.subarray(from, to));
      nal = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts);
      this.parts = [];
      this.partsLength = 0;
    }
    const end = trimTrailingZeros(nal, 0, nal.length);
    if (end > 0) out.push(end === nal.length ? nal : nal.subarray(0, end));
  }
}
