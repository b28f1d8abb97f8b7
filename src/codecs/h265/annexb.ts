/**
 * H.265 NAL units (H.265 7.3.1.2, 7.4.2.2) and Annex B byte streams grouped into access units
 * (H.265 7.4.2.4.4).
 *
 * The 2-byte NAL unit header: forbidden_zero_bit (1) | nal_unit_type (6) | nuh_layer_id (6) |
 * nuh_temporal_id_plus1 (3).
 */
import type { Buffer } from 'node:buffer';
import { AnnexBNalScanner, type AnnexBNalScannerOptions } from '../annexb.js';

/** nal_unit_type values (H.265 table 7-1; 48..50 as RFC 7798 uses them). */
export const H265NalType = {
  TRAIL_N: 0,
  TRAIL_R: 1,
  TSA_N: 2,
  TSA_R: 3,
  STSA_N: 4,
  STSA_R: 5,
  RADL_N: 6,
  RADL_R: 7,
  RASL_N: 8,
  RASL_R: 9,
  BLA_W_LP: 16,
  BLA_W_RADL: 17,
  BLA_N_LP: 18,
  IDR_W_RADL: 19,
  IDR_N_LP: 20,
  CRA_NUT: 21,
  RSV_IRAP_22: 22,
  RSV_IRAP_23: 23,
  VPS: 32,
  SPS: 33,
  PPS: 34,
  AUD: 35,
  EOS: 36,
  EOB: 37,
  FD: 38,
  PREFIX_SEI: 39,
  SUFFIX_SEI: 40,
  /** Aggregation packet (RFC 7798 4.4.2). */
  AP: 48,
  /** Fragmentation unit (RFC 7798 4.4.3). */
  FU: 49,
  /** PACI packet (RFC 7798 4.4.4). */
  PACI: 50,
} as const;

/** Size of the NAL unit header. */
export const H265_NAL_HEADER_SIZE = 2;

/** nal_unit_type of a NAL unit; -1 when it is too short to have a header. */
export function h265NalType(nal: Uint8Array): number {
  return nal.length < H265_NAL_HEADER_SIZE ? -1 : (nal[0] >>> 1) & 0x3f;
}

/** nuh_layer_id (0 for the base layer); -1 when the header is cut short. */
export function h265LayerId(nal: Uint8Array): number {
  return nal.length < H265_NAL_HEADER_SIZE ? -1 : ((nal[0] & 1) << 5) | (nal[1] >>> 3);
}

/** TemporalId (nuh_temporal_id_plus1 - 1); -1 when the header is cut short or the field is 0 (forbidden). */
export function h265TemporalId(nal: Uint8Array): number {
  return nal.length < H265_NAL_HEADER_SIZE ? -1 : (nal[1] & 7) - 1;
}

/** Coded slice segments (VCL NAL units, types 0..31, reserved ones included). */
export function isH265Vcl(type: number): boolean {
  return type >= 0 && type <= 31;
}

/** Intra random access point pictures (BLA, IDR, CRA and the two reserved IRAP types: 16..23). */
export function isH265Irap(type: number): boolean {
  return type >= H265NalType.BLA_W_LP && type <= H265NalType.RSV_IRAP_23;
}

/** VPS, SPS or PPS. */
export function isH265ParameterSet(type: number): boolean {
  return type >= H265NalType.VPS && type <= H265NalType.PPS;
}

/**
 * first_slice_segment_in_pic_flag of a VCL NAL unit: the first bit after the header (no emulation
 * prevention can precede it). False when the NAL unit is too short to carry it.
 */
export function isFirstSliceSegment(nal: Uint8Array): boolean {
  return nal.length > H265_NAL_HEADER_SIZE && (nal[2] & 0x80) !== 0;
}

/**
 * True when `type` (with nuh_layer_id 0) starts a new access unit once the current one has a VCL NAL
 * unit (H.265 7.4.2.4.4): AUD, VPS, SPS, PPS, prefix SEI, reserved 41..44 and unspecified 48..55.
 * A VCL NAL unit starts one when it is the first slice segment of a picture.
 */
function startsAccessUnit(type: number, nal: Buffer): boolean {
  if (isH265Vcl(type)) return isFirstSliceSegment(nal);
  return (
    (type >= H265NalType.VPS && type <= H265NalType.AUD) ||
    type === H265NalType.PREFIX_SEI ||
    (type >= 41 && type <= 44) ||
    (type >= 48 && type <= 55)
  );
}

export { AnnexBNalScanner, type AnnexBNalScannerOptions };
export type H265AnnexBReaderOptions = AnnexBNalScannerOptions;

/**
 * Incremental H.265 Annex B parser with the shape of the H.264 `AnnexBReader`: fed chunks of a file
 * or stream, returns complete access units (arrays of NAL units without start codes).
 *
 * An access unit ends before the first AUD, VPS, SPS, PPS, prefix SEI (or type 41..44, 48..55) that
 * follows one of its VCL NAL units, and before a slice segment with first_slice_segment_in_pic_flag
 * set. EOS, EOB, suffix SEI and filler data stay with the access unit they follow. NAL units of
 * layers other than 0 never start an access unit (their pictures belong to the base layer's AU).
 */
export class H265AnnexBReader {
  private readonly scanner: AnnexBNalScanner;
  private au: Buffer[] = [];
  private auHasVcl = false;

  constructor(options: H265AnnexBReaderOptions = {}) {
    this.scanner = new AnnexBNalScanner(options);
  }

  /** Feeds a chunk; returns the access units it completed (often none or one). */
  push(chunk: Buffer): Buffer[][] {
    const out: Buffer[][] = [];
    for (const nal of this.scanner.push(chunk)) this.addNal(nal, out);
    return out;
  }

  /** End of input: returns the last access unit, if any. */
  flush(): Buffer[][] {
    const out: Buffer[][] = [];
    for (const nal of this.scanner.flush()) this.addNal(nal, out);
    if (this.au.length > 0) out.push(this.au);
    this.au = [];
    this.auHasVcl = false;
    return out;
  }

  private addNal(nal: Buffer, out: Buffer[][]): void {
    // A 1-byte "NAL unit" has no complete header: kept with the current access unit, never a boundary.
    const type = h265NalType(nal);
    if (
      type >= 0 &&
      this.auHasVcl &&
      this.au.length > 0 &&
      h265LayerId(nal) === 0 &&
      startsAccessUnit(type, nal)
    ) {
      out.push(this.au);
      this.au = [];
      this.auHasVcl = false;
    }
    this.au.push(nal);
    if (type >= 0 && isH265Vcl(type)) this.auHasVcl = true;
  }
}
