/**
 * H.264 picture order count (H.264 8.2.1) from the slice headers of an Annex-B stream, to put
 * access units with B-frames in presentation order. Reads the PPS (7.3.2.2) and the slice header
 * (7.3.3) as far as POC needs, and on to dec_ref_pic_marking() to see memory_management_control_operation 5.
 */
import type { Buffer } from 'node:buffer';
import { BitReader, removeEmulationPrevention } from '../bitreader.js';
import { MediaFormatError, PictureOrderError } from '../errors.js';
import { NalType, nalType } from './annexb.js';
import { type H264Sps, parseSps } from './sps.js';

/** The PPS fields a slice header depends on (7.3.2.2). */
export interface H264PpsInfo {
  ppsId: number;
  spsId: number;
  bottomFieldPicOrderInFramePresent: boolean;
  numRefIdxL0DefaultActive: number;
  numRefIdxL1DefaultActive: number;
  weightedPred: boolean;
  weightedBipredIdc: number;
  redundantPicCntPresent: boolean;
}

/** Parses a PPS NAL unit (header byte included) up to redundant_pic_cnt_present_flag. */
export function parsePpsInfo(nal: Buffer): H264PpsInfo {
  if (nalType(nal) !== NalType.PPS) throw new MediaFormatError(`NAL type ${nalType(nal)} is not a PPS`);
  const reader = new BitReader(removeEmulationPrevention(nal), 1);
  const ppsId = reader.ue();
  const spsId = reader.ue();
  if (ppsId > 255 || spsId > 31) throw new MediaFormatError(`PPS ids ${ppsId}/${spsId} out of range`);
  reader.skip(1); // entropy_coding_mode_flag
  const bottomFieldPicOrderInFramePresent = reader.flag();
  const numSliceGroupsMinus1 = reader.ue();
  if (numSliceGroupsMinus1 > 7)
    throw new MediaFormatError(`PPS num_slice_groups_minus1 ${numSliceGroupsMinus1}`);
  if (numSliceGroupsMinus1 > 0) skipSliceGroupMap(reader, numSliceGroupsMinus1);
  const numRefIdxL0DefaultActive = reader.ue() + 1;
  const numRefIdxL1DefaultActive = reader.ue() + 1;
  const weightedPred = reader.flag();
  const weightedBipredIdc = reader.u(2);
  reader.se(); // pic_init_qp_minus26
  reader.se(); // pic_init_qs_minus26
  reader.se(); // chroma_qp_index_offset
  reader.skip(2); // deblocking_filter_control_present_flag, constrained_intra_pred_flag
  const redundantPicCntPresent = reader.flag();
  return {
    ppsId,
    spsId,
    bottomFieldPicOrderInFramePresent,
    numRefIdxL0DefaultActive,
    numRefIdxL1DefaultActive,
    weightedPred,
    weightedBipredIdc,
    redundantPicCntPresent,
  };
}

/** The slice group map of a PPS with flexible macroblock ordering (7.3.2.2): skipped. */
function skipSliceGroupMap(reader: BitReader, numSliceGroupsMinus1: number): void {
  const mapType = reader.ue();
  if (mapType === 0) {
    for (let i = 0; i <= numSliceGroupsMinus1; i++) reader.ue(); // run_length_minus1
  } else if (mapType === 2) {
    for (let i = 0; i < numSliceGroupsMinus1; i++) {
      reader.ue(); // top_left
      reader.ue(); // bottom_right
    }
  } else if (mapType >= 3 && mapType <= 5) {
    reader.skip(1); // slice_group_change_direction_flag
    reader.ue(); // slice_group_change_rate_minus1
  } else if (mapType === 6) {
    const units = reader.ue() + 1;
    const bits = Math.ceil(Math.log2(numSliceGroupsMinus1 + 1));
    if (units * bits > reader.bitsLeft) throw new MediaFormatError('PPS slice_group_id list truncated');
    reader.skip(units * bits);
  } else if (mapType !== 1) {
    throw new MediaFormatError(`PPS slice_group_map_type ${mapType}`);
  }
}

/** What POC derivation needs of a slice header (7.3.3). */
export interface H264SliceHeader {
  sliceType: number;
  ppsId: number;
  frameNum: number;
  fieldPic: boolean;
  bottomField: boolean;
  idr: boolean;
  nalRefIdc: number;
  /** pic_order_cnt_lsb (POC type 0, else 0). */
  picOrderCntLsb: number;
  /** delta_pic_order_cnt_bottom (POC type 0 frames with the PPS flag, else 0). */
  deltaPicOrderCntBottom: number;
  /** A memory_management_control_operation 5 (all references dropped, POC reset after this picture). */
  mmco5: boolean;
}

/**
 * Bytes of a slice NAL unit read for its header: enough for the longest pred_weight_table and
 * reference list syntax of 32 references each, which real headers come nowhere near.
 */
const SLICE_HEADER_BYTES = 2048;

const SLICE_P = 0;
const SLICE_B = 1;
const SLICE_SP = 3;

/**
 * Parses the header of a slice NAL unit (types 1, 2, 5) with its active PPS and SPS. Throws
 * MediaFormatError when truncated or when a parameter set it names is unknown.
 */
export function parseSliceHeader(
  nal: Buffer,
  ppsById: ReadonlyMap<number, H264PpsInfo>,
  spsById: ReadonlyMap<number, H264Sps>,
): H264SliceHeader {
  const type = nalType(nal);
  const idr = type === NalType.IDR;
  const nalRefIdc = (nal[0] >> 5) & 3;
  // The header is what is read: unescaping the whole slice data would copy it for nothing.
  const reader = new BitReader(removeEmulationPrevention(nal.subarray(0, SLICE_HEADER_BYTES)), 1);
  reader.ue(); // first_mb_in_slice
  const sliceType = reader.ue() % 5;
  const ppsId = reader.ue();
  const pps = ppsById.get(ppsId);
  if (!pps) throw new MediaFormatError(`slice refers to PPS ${ppsId}, not seen before it`);
  const sps = spsById.get(pps.spsId);
  if (!sps) throw new MediaFormatError(`PPS ${ppsId} refers to SPS ${pps.spsId}, not seen before it`);
  if (sps.separateColourPlane) reader.skip(2); // colour_plane_id
  const frameNum = reader.u(sps.log2MaxFrameNum);
  let fieldPic = false;
  let bottomField = false;
  if (!sps.frameMbsOnly) {
    fieldPic = reader.flag();
    if (fieldPic) bottomField = reader.flag();
  }
  if (idr) reader.ue(); // idr_pic_id
  let picOrderCntLsb = 0;
  let deltaPicOrderCntBottom = 0;
  if (sps.picOrderCntType === 0) {
    picOrderCntLsb = reader.u(sps.log2MaxPicOrderCntLsb);
    if (pps.bottomFieldPicOrderInFramePresent && !fieldPic) deltaPicOrderCntBottom = reader.se();
  }
  if (sps.picOrderCntType === 1 && !sps.deltaPicOrderAlwaysZero) {
    reader.se(); // delta_pic_order_cnt[0]
    if (pps.bottomFieldPicOrderInFramePresent && !fieldPic) reader.se(); // delta_pic_order_cnt[1]
  }
  if (pps.redundantPicCntPresent) reader.ue(); // redundant_pic_cnt
  if (sliceType === SLICE_B) reader.skip(1); // direct_spatial_mv_pred_flag
  let numRefIdxL0Active = pps.numRefIdxL0DefaultActive;
  let numRefIdxL1Active = pps.numRefIdxL1DefaultActive;
  const predicted = sliceType === SLICE_P || sliceType === SLICE_SP || sliceType === SLICE_B;
  if (predicted && reader.flag()) {
    // num_ref_idx_active_override_flag
    numRefIdxL0Active = reader.ue() + 1;
    if (sliceType === SLICE_B) numRefIdxL1Active = reader.ue() + 1;
  }
  if (numRefIdxL0Active > 32 || numRefIdxL1Active > 32) {
    throw new MediaFormatError(`slice with ${numRefIdxL0Active}/${numRefIdxL1Active} active references`);
  }
  // ref_pic_list_modification() (7.3.3.1): list 0 for all but I/SI, list 1 for B.
  if (predicted) skipRefPicListModification(reader);
  if (sliceType === SLICE_B) skipRefPicListModification(reader);
  const chromaArrayType = sps.separateColourPlane ? 0 : sps.chromaFormatIdc;
  if (
    (pps.weightedPred && (sliceType === SLICE_P || sliceType === SLICE_SP)) ||
    (pps.weightedBipredIdc === 1 && sliceType === SLICE_B)
  ) {
    skipPredWeightTable(
      reader,
      chromaArrayType,
      numRefIdxL0Active,
      sliceType === SLICE_B ? numRefIdxL1Active : 0,
    );
  }
  let mmco5 = false;
  if (nalRefIdc !== 0) mmco5 = readDecRefPicMarking(reader, idr);
  return {
    sliceType,
    ppsId,
    frameNum,
    fieldPic,
    bottomField,
    idr,
    nalRefIdc,
    picOrderCntLsb,
    deltaPicOrderCntBottom,
    mmco5,
  };
}

function skipRefPicListModification(reader: BitReader): void {
  if (!reader.flag()) return;
  for (let n = 0; ; n++) {
    if (n > 64) throw new MediaFormatError('ref_pic_list_modification without an end');
    const idc = reader.ue();
    if (idc === 3) return;
    if (idc > 5) throw new MediaFormatError(`modification_of_pic_nums_idc ${idc}`);
    reader.ue(); // abs_diff_pic_num_minus1, long_term_pic_num or abs_diff_view_idx_minus1
  }
}

function skipPredWeightTable(reader: BitReader, chromaArrayType: number, l0: number, l1: number): void {
  reader.ue(); // luma_log2_weight_denom
  if (chromaArrayType !== 0) reader.ue(); // chroma_log2_weight_denom
  for (const count of [l0, l1]) {
    for (let i = 0; i < count; i++) {
      if (reader.flag()) {
        reader.se(); // luma_weight
        reader.se(); // luma_offset
      }
      if (chromaArrayType !== 0 && reader.flag()) {
        for (let j = 0; j < 4; j++) reader.se(); // chroma weight and offset, Cb and Cr
      }
    }
  }
}

/** dec_ref_pic_marking() (7.3.3.3): true when it holds memory_management_control_operation 5. */
function readDecRefPicMarking(reader: BitReader, idr: boolean): boolean {
  if (idr) {
    reader.skip(2); // no_output_of_prior_pics_flag, long_term_reference_flag
    return false;
  }
  if (!reader.flag()) return false; // adaptive_ref_pic_marking_mode_flag
  let mmco5 = false;
  for (let n = 0; ; n++) {
    if (n > 128) throw new MediaFormatError('dec_ref_pic_marking without an end');
    const op = reader.ue();
    if (op === 0) return mmco5;
    if (op > 6) throw new MediaFormatError(`memory_management_control_operation ${op}`);
    if (op === 5) mmco5 = true;
    if (op === 1 || op === 3) reader.ue(); // difference_of_pic_nums_minus1
    if (op === 2) reader.ue(); // long_term_pic_num
    if (op === 3 || op === 6) reader.ue(); // long_term_frame_idx
    if (op === 4) reader.ue(); // max_long_term_frame_idx_plus1
  }
}

/**
 * PicOrderCntMsb for POC type 0 (8-3): the lsb went up or down by more than half the range since
 * the previous reference picture means it wrapped.
 */
export function pocMsb(lsb: number, prevMsb: number, prevLsb: number, maxLsb: number): number {
  if (lsb < prevLsb && prevLsb - lsb >= maxLsb / 2) return prevMsb + maxLsb;
  if (lsb > prevLsb && lsb - prevLsb > maxLsb / 2) return prevMsb - maxLsb;
  return prevMsb;
}

/** The picture of one access unit in POC terms. */
export interface PictureOrder {
  /** Picture order count; only its order within a period means anything. */
  poc: number;
  /** The picture starts a new POC period (IDR, POC reset): nothing before it is shown after it. */
  newPeriod: boolean;
}

/**
 * Follows an H.264 stream access unit by access unit (decode order) and tells each picture's POC.
 * One instance per pass over a stream: the first picture must be an IDR for POCs to be meaningful.
 * Frames only: field pictures (PAFF) are refused, as are POC type 1 streams.
 */
export class H264PocCounter {
  private readonly sps = new Map<number, H264Sps>();
  private readonly pps = new Map<number, H264PpsInfo>();
  /** PicOrderCntMsb and pic_order_cnt_lsb of the previous reference picture (type 0). */
  private prevMsb = 0;
  private prevLsb = 0;
  /** Type 2: pictures in decode order are in output order; counts them. */
  private decodeCount = 0;

  /**
   * Learns the access unit's parameter sets and returns its picture's order, or null when it has
   * no slice, or none readable yet (no SPS/PPS seen before it). Throws PictureOrderError for what
   * this cannot order, MediaFormatError for unreadable headers.
   */
  next(au: readonly Buffer[]): PictureOrder | null {
    let slice: Buffer | undefined;
    for (const nal of au) {
      const type = nalType(nal);
      if (type === NalType.SPS) {
        const sps = parseSps(nal);
        this.sps.set(sps.spsId, sps);
      } else if (type === NalType.PPS) {
        const pps = parsePpsInfo(nal);
        this.pps.set(pps.ppsId, pps);
      } else if (
        slice === undefined &&
        (type === NalType.SLICE || type === NalType.SLICE_DPA || type === NalType.IDR)
      ) {
        slice = nal;
      }
    }
    if (slice === undefined) return null;
    const ppsId = peekPpsId(slice);
    const pps = ppsId === undefined ? undefined : this.pps.get(ppsId);
    const sps = pps && this.sps.get(pps.spsId);
    if (!pps || !sps) return null;
    if (sps.picOrderCntType === 1) throw new PictureOrderError('uses H.264 POC type 1');
    const header = parseSliceHeader(slice, this.pps, this.sps);
    if (header.fieldPic) throw new PictureOrderError('has H.264 field pictures');
    if (sps.picOrderCntType === 2) {
      // 8.2.1.3: output order is decode order.
      if (header.idr || header.mmco5) this.decodeCount = 0;
      return { poc: this.decodeCount++, newPeriod: header.idr || header.mmco5 };
    }
    if (header.idr) {
      this.prevMsb = 0;
      this.prevLsb = 0;
    }
    const maxLsb = 2 ** sps.log2MaxPicOrderCntLsb;
    const msb = pocMsb(header.picOrderCntLsb, this.prevMsb, this.prevLsb, maxLsb);
    const top = msb + header.picOrderCntLsb;
    const bottom = top + header.deltaPicOrderCntBottom;
    const poc = Math.min(top, bottom);
    if (header.mmco5) {
      // 8.2.1: after an MMCO 5 the picture's POCs are made relative to themselves
      // (tempPicOrderCnt), and the next picture counts from its top field POC.
      this.prevMsb = 0;
      this.prevLsb = top - poc;
      return { poc: 0, newPeriod: true };
    }
    if (header.nalRefIdc !== 0) {
      this.prevMsb = msb;
      this.prevLsb = header.picOrderCntLsb;
    }
    return { poc, newPeriod: header.idr };
  }
}

/** pic_parameter_set_id of a slice: its third ue(v); undefined when cut short. */
function peekPpsId(nal: Buffer): number | undefined {
  try {
    const reader = new BitReader(removeEmulationPrevention(nal.subarray(0, Math.min(nal.length, 24))), 1);
    reader.ue();
    reader.ue();
    return reader.ue();
  } catch (err) {
    if (err instanceof MediaFormatError) return undefined;
    throw err;
  }
}
