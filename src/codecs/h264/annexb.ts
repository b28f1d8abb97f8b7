/**
 * H.264 Annex B byte streams: NAL unit splitting and grouping into access units (H.264 7.4.1.2.3).
 */
import { Buffer } from 'node:buffer';
import { MediaFormatError } from '../../protocol/errors.js';
import { BitReader, removeEmulationPrevention } from '../bitreader.js';

/** nal_unit_type values (H.264 table 7-1, RFC 6184 table 1 for 24..29). */
export const NalType = {
  SLICE: 1,
  SLICE_DPA: 2,
  SLICE_DPB: 3,
  SLICE_DPC: 4,
  IDR: 5,
  SEI: 6,
  SPS: 7,
  PPS: 8,
  AUD: 9,
  END_OF_SEQUENCE: 10,
  END_OF_STREAM: 11,
  FILLER: 12,
  SPS_EXTENSION: 13,
  PREFIX: 14,
  SUBSET_SPS: 15,
  DEPTH_PS: 16,
  AUXILIARY_SLICE: 19,
  SLICE_EXTENSION: 20,
  SLICE_EXTENSION_DEPTH: 21,
  STAP_A: 24,
  STAP_B: 25,
  MTAP16: 26,
  MTAP24: 27,
  FU_A: 28,
  FU_B: 29,
} as const;

const START_CODE = Buffer.from([0, 0, 1]);

/** nal_unit_type of a NAL unit (its header byte); -1 for an empty buffer. */
export function nalType(nal: Uint8Array): number {
  return nal.length === 0 ? -1 : nal[0] & 0x1f;
}

/** Slice NAL types: coded slices of a (primary or redundant) picture, IDR or not. */
export function isVclNal(type: number): boolean {
  return type >= NalType.SLICE && type <= NalType.IDR;
}

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

/**
 * first_mb_in_slice of a slice NAL (types 1, 2, 5), or -1 when the header is too short to read.
 * Only a small prefix is unescaped: ue(v) is at most 32 bits.
 */
export function firstMbInSlice(nal: Buffer): number {
  try {
    const rbsp = removeEmulationPrevention(nal.subarray(1, Math.min(nal.length, 17)));
    return new BitReader(rbsp).ue();
  } catch (err) {
    if (err instanceof MediaFormatError) return -1;
    throw err;
  }
}

export interface AnnexBReaderOptions {
  /** Largest NAL unit accepted before the input is declared not to be H.264 (default 16 MiB). */
  maxNalSize?: number;
}

/**
 * Incremental Annex B parser: fed chunks of a file or stream, returns complete access units (arrays
 * of NAL units). NAL units inside one chunk are views of it, so chunks must not be reused by the
 * caller afterwards; a NAL unit spanning chunks is copied once when it completes.
 *
 * A new access unit starts (H.264 7.4.1.2.3) at an AUD, SPS, PPS, SEI or NAL type 14..18 that
 * follows a VCL NAL unit of the current one, or at a slice with first_mb_in_slice == 0 that follows
 * a VCL NAL unit. (Arbitrary slice order and redundant pictures are not distinguished further.)
 */
export class AnnexBReader {
  private readonly maxNalSize: number;
  /** Pieces of the NAL unit after the last start code, not yet ended. */
  private parts: Buffer[] = [];
  private partsLength = 0;
  /** A start code has been seen; bytes before the first one are not a NAL unit. */
  private started = false;
  /** Zero bytes at the end of everything received so far (a start code may straddle chunks). */
  private trailingZeros = 0;
  private au: Buffer[] = [];
  private auHasVcl = false;

  constructor(options: AnnexBReaderOptions = {}) {
    this.maxNalSize = options.maxNalSize ?? 16 * 1024 * 1024;
  }

  /** Feeds a chunk; returns the access units it completed (often none or one). */
  push(chunk: Buffer): Buffer[][] {
    const out: Buffer[][] = [];
    const length = chunk.length;
    if (length === 0) return out;
    let segStart = 0;
    // Start code whose zeros ended the previous chunk.
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
        throw new MediaFormatError(`NAL unit larger than ${this.maxNalSize} bytes: not an H.264 stream?`);
      }
    }
    let zeros = 0;
    while (zeros < length && chunk[length - 1 - zeros] === 0) zeros++;
    this.trailingZeros = zeros === length ? this.trailingZeros + zeros : zeros;
    return out;
  }

  /** End of input: returns the last access unit(s), if any. */
  flush(): Buffer[][] {
    const out: Buffer[][] = [];
    this.endNal(null, 0, 0, out);
    this.started = false;
    this.trailingZeros = 0;
    if (this.au.length > 0) out.push(this.au);
    this.au = [];
    this.auHasVcl = false;
    return out;
  }

  /** Ends the NAL unit made of the pending parts plus chunk[from, to). */
  private endNal(chunk: Buffer | null, from: number, to: number, out: Buffer[][]): void {
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
    if (end === 0) return;
    this.addNal(end === nal.length ? nal : nal.subarray(0, end), out);
  }

  private addNal(nal: Buffer, out: Buffer[][]): void {
    const type = nal[0] & 0x1f;
    let startsAu = false;
    if (type === NalType.SLICE || type === NalType.SLICE_DPA || type === NalType.IDR) {
      startsAu = this.auHasVcl && firstMbInSlice(nal) === 0;
    } else if (
      type === NalType.AUD ||
      type === NalType.SPS ||
      type === NalType.PPS ||
      type === NalType.SEI ||
      (type >= 14 && type <= 18)
    ) {
      startsAu = this.auHasVcl;
    }
    if (startsAu && this.au.length > 0) {
      out.push(this.au);
      this.au = [];
      this.auHasVcl = false;
    }
    this.au.push(nal);
    if (isVclNal(type)) this.auHasVcl = true;
  }
}
