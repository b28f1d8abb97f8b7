/**
 * H.264 Annex B byte streams: NAL unit splitting and grouping into access units (H.264 7.4.1.2.3).
 */
import type { Buffer } from 'node:buffer';
import { AnnexBNalScanner, splitAnnexB } from '../annexb.js';
import { BitReader, removeEmulationPrevention } from '../bitreader.js';
import { MediaFormatError } from '../errors.js';

/** nal_unit_type values (H.264 table 7-1, RFC 6184 table 1 for 24..29). */
export { splitAnnexB };

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

/** nal_unit_type of a NAL unit (its header byte); -1 for an empty buffer. */
export function nalType(nal: Uint8Array): number {
  return nal.length === 0 ? -1 : nal[0] & 0x1f;
}

/** Slice NAL types: coded slices of a (primary or redundant) picture, IDR or not. */
export function isVclNal(type: number): boolean {
  return type >= NalType.SLICE && type <= NalType.IDR;
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
  private readonly scanner: AnnexBNalScanner;
  private au: Buffer[] = [];
  private auHasVcl = false;

  constructor(options: AnnexBReaderOptions = {}) {
    this.scanner = new AnnexBNalScanner(options);
  }

  /** Feeds a chunk; returns the access units it completed (often none or one). */
  push(chunk: Buffer): Buffer[][] {
    const out: Buffer[][] = [];
    for (const nal of this.scanner.push(chunk)) this.addNal(nal, out);
    return out;
  }

  /** End of input: returns the last access unit(s), if any. */
  flush(): Buffer[][] {
    const out: Buffer[][] = [];
    for (const nal of this.scanner.flush()) this.addNal(nal, out);
    if (this.au.length > 0) out.push(this.au);
    this.au = [];
    this.auHasVcl = false;
    return out;
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
