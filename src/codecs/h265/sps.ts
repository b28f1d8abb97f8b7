/**
 * H.265 sequence parameter set (H.265 7.3.2.2.1, 7.3.3 and E.2.1, up to the VUI timing info): enough
 * to describe the stream (profile, tier, level, size, frame rate) for SDP and logs. Base layer only.
 */

import { Buffer } from 'node:buffer';
import { BitReader, removeEmulationPrevention } from '../bitreader.js';
import { MediaFormatError } from '../errors.js';
import { checkSpsRange, readVuiPrefix } from '../vui.js';
import { H265_NAL_HEADER_SIZE, H265NalType, h265LayerId, h265NalType } from './annexb.js';

/** The general part of profile_tier_level() (7.3.3), as RFC 7798 section 7.1 maps it to SDP. */
export interface H265ProfileTierLevel {
  /** general_profile_space (profile-space). */
  profileSpace: number;
  /** general_tier_flag (tier-flag): 0 Main tier, 1 High tier. */
  tierFlag: number;
  /** general_profile_idc (profile-id): 1 Main, 2 Main 10, 3 Main Still Picture, 4 range extensions, ... */
  profileIdc: number;
  /** The 32 general_profile_compatibility_flag bits, flag[0] as the most significant (uint32). */
  profileCompatibilityFlags: number;
  /**
   * The 48 bits from general_progressive_source_flag to general_inbld_flag / reserved bit, as six
   * bytes (interop-constraints).
   */
  constraintIndicatorFlags: Buffer;
  /** general_level_idc (level-id): 30 times the level number, e.g. 93 for level 3.1. */
  levelIdc: number;
}

export interface H265ConformanceWindow {
  /** Offsets as coded, in chroma sample units (SubWidthC / SubHeightC luma samples each). */
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export interface H265Vui {
  /** Sample aspect ratio, or null when not signalled / unspecified (idc 0). */
  sampleAspectRatio: { width: number; height: number } | null;
  /** field_seq_flag: pictures are fields. */
  fieldSeq: boolean;
  /** vui_timing_info, or null when absent. */
  timing: { numUnitsInTick: number; timeScale: number } | null;
}

export interface H265Sps {
  vpsId: number;
  /** sps_max_sub_layers_minus1 + 1. */
  maxSubLayers: number;
  temporalIdNesting: boolean;
  profileTierLevel: H265ProfileTierLevel;
  spsId: number;
  chromaFormatIdc: number;
  separateColourPlane: boolean;
  /** pic_width/height_in_luma_samples: the coded size. */
  codedWidth: number;
  codedHeight: number;
  conformanceWindow: H265ConformanceWindow | null;
  /** Displayed size in luma samples (conformance window applied). */
  width: number;
  height: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  log2MaxPicOrderCntLsb: number;
  /** sps_max_dec_pic_buffering_minus1 + 1 and sps_max_num_reorder_pics of the highest sub-layer. */
  maxDecPicBuffering: number;
  maxNumReorderPics: number;
  log2MinLumaCodingBlockSize: number;
  log2MaxLumaCodingBlockSize: number;
  numShortTermRefPicSets: number;
  longTermRefPicsPresent: boolean;
  vui: H265Vui | null;
  /** vui_time_scale / vui_num_units_in_tick (pictures per second) when the timing info is there, else null. */
  frameRate: number | null;
}

/** profile_tier_level(1, maxNumSubLayersMinus1) (7.3.3): the general part; sub-layer parts are skipped. */
export function readProfileTierLevel(reader: BitReader, maxNumSubLayersMinus1: number): H265ProfileTierLevel {
  const profileSpace = reader.u(2);
  const tierFlag = reader.u(1);
  const profileIdc = reader.u(5);
  const profileCompatibilityFlags = reader.u(32);
  const constraintIndicatorFlags = Buffer.alloc(6);
  for (let i = 0; i < 6; i++) constraintIndicatorFlags[i] = reader.u(8);
  const levelIdc = reader.u(8);
  const profilePresent: boolean[] = [];
  const levelPresent: boolean[] = [];
  for (let i = 0; i < maxNumSubLayersMinus1; i++) {
    profilePresent.push(reader.flag());
    levelPresent.push(reader.flag());
  }
  if (maxNumSubLayersMinus1 > 0) reader.skip(2 * (8 - maxNumSubLayersMinus1)); // reserved_zero_2bits
  for (let i = 0; i < maxNumSubLayersMinus1; i++) {
    // sub_layer profile space .. inbld/reserved: 2 + 1 + 5 + 32 + 48 bits; sub_layer_level_idc: 8.
    if (profilePresent[i]) reader.skip(88);
    if (levelPresent[i]) reader.skip(8);
  }
  return {
    profileSpace,
    tierFlag,
    profileIdc,
    profileCompatibilityFlags,
    constraintIndicatorFlags,
    levelIdc,
  };
}

/** scaling_list_data() (7.3.4): skipped. */
function skipScalingListData(reader: BitReader): void {
  for (let sizeId = 0; sizeId < 4; sizeId++) {
    for (let matrixId = 0; matrixId < 6; matrixId += sizeId === 3 ? 3 : 1) {
      if (!reader.flag()) {
        reader.ue(); // scaling_list_pred_matrix_id_delta
        continue;
      }
      const coefNum = Math.min(64, 1 << (4 + (sizeId << 1)));
      if (sizeId > 1) reader.se(); // scaling_list_dc_coef_minus8
      for (let i = 0; i < coefNum; i++) reader.se(); // scaling_list_delta_coef
    }
  }
}

/** Delta POCs of a short-term reference picture set: S0 (negative, nearest first) and S1 (positive). */
interface ShortTermRps {
  s0: number[];
  s1: number[];
}

/** Bound on the pictures of one RPS (sps_max_dec_pic_buffering_minus1 is at most 15). */
const MAX_RPS_PICTURES = 16;

/**
 * st_ref_pic_set(stRpsIdx) (7.3.7) as it appears in an SPS, with the delta POC derivation of 7.4.8
 * (7-61, 7-62): a predicted set drops the pictures whose delta POC becomes 0, so the number of
 * flags the next predicted set reads depends on the values, not only on the flags.
 */
function readShortTermRefPicSet(
  reader: BitReader,
  index: number,
  sets: readonly ShortTermRps[],
): ShortTermRps {
  const interRefPicSetPrediction = index !== 0 && reader.flag();
  if (!interRefPicSetPrediction) {
    const numNegative = checkSpsRange('num_negative_pics', reader.ue(), MAX_RPS_PICTURES);
    const numPositive = checkSpsRange('num_positive_pics', reader.ue(), MAX_RPS_PICTURES);
    const s0: number[] = [];
    const s1: number[] = [];
    let poc = 0;
    for (let i = 0; i < numNegative; i++) {
      poc -= checkSpsRange('delta_poc_s0_minus1', reader.ue(), 0x7fff) + 1;
      s0.push(poc);
      reader.skip(1); // used_by_curr_pic_s0_flag
    }
    poc = 0;
    for (let i = 0; i < numPositive; i++) {
      poc += checkSpsRange('delta_poc_s1_minus1', reader.ue(), 0x7fff) + 1;
      s1.push(poc);
      reader.skip(1); // used_by_curr_pic_s1_flag
    }
    return { s0, s1 };
  }
  // In an SPS delta_idx_minus1 is absent (stRpsIdx < num_short_term_ref_pic_sets): RefRpsIdx = index - 1.
  const ref = sets[index - 1];
  const sign = reader.u(1);
  const deltaRps = (1 - 2 * sign) * (checkSpsRange('abs_delta_rps_minus1', reader.ue(), 0x7fff) + 1);
  const numDeltaPocs = ref.s0.length + ref.s1.length;
  const useDelta: boolean[] = [];
  for (let j = 0; j <= numDeltaPocs; j++) {
    const usedByCurrPic = reader.flag();
    // use_delta_flag is inferred to be 1 when absent.
    useDelta.push(usedByCurrPic || reader.flag());
  }
  const negatives = ref.s0.length;
  const s0: number[] = [];
  const s1: number[] = [];
  for (let j = ref.s1.length - 1; j >= 0; j--) {
    const d = ref.s1[j] + deltaRps;
    if (d < 0 && useDelta[negatives + j]) s0.push(d);
  }
  if (deltaRps < 0 && useDelta[numDeltaPocs]) s0.push(deltaRps);
  for (let j = 0; j < negatives; j++) {
    const d = ref.s0[j] + deltaRps;
    if (d < 0 && useDelta[j]) s0.push(d);
  }
  for (let j = negatives - 1; j >= 0; j--) {
    const d = ref.s0[j] + deltaRps;
    if (d > 0 && useDelta[j]) s1.push(d);
  }
  if (deltaRps > 0 && useDelta[numDeltaPocs]) s1.push(deltaRps);
  for (let j = 0; j < ref.s1.length; j++) {
    const d = ref.s1[j] + deltaRps;
    if (d > 0 && useDelta[negatives + j]) s1.push(d);
  }
  if (s0.length > MAX_RPS_PICTURES || s1.length > MAX_RPS_PICTURES) {
    throw new MediaFormatError(`SPS short-term RPS ${index} has more than ${MAX_RPS_PICTURES} pictures`);
  }
  return { s0, s1 };
}

function readVui(reader: BitReader): H265Vui {
  const sampleAspectRatio = readVuiPrefix(reader);
  reader.skip(1); // neutral_chroma_indication_flag
  const fieldSeq = reader.flag();
  reader.skip(1); // frame_field_info_present_flag
  if (reader.flag()) {
    // default_display_window offsets: a display hint, not applied to the size (as ffmpeg does by default).
    for (let i = 0; i < 4; i++) reader.ue();
  }
  let timing: H265Vui['timing'] = null;
  if (reader.flag()) {
    const numUnitsInTick = reader.u(32);
    const timeScale = reader.u(32);
    timing = { numUnitsInTick, timeScale };
  }
  // vui_poc_proportional_to_timing, HRD parameters and bitstream_restriction follow; not needed.
  return { sampleAspectRatio, fieldSeq, timing };
}

/** Parses an SPS NAL unit (2-byte header included). Throws MediaFormatError if truncated or invalid. */
export function parseH265Sps(nal: Buffer): H265Sps {
  if (nal.length < 4) throw new MediaFormatError(`SPS too short: ${nal.length} bytes`);
  const type = h265NalType(nal);
  if (type !== H265NalType.SPS) throw new MediaFormatError(`NAL type ${type} is not an SPS`);
  // Layers above 0 may use the multi-layer SPS syntax (F.7.3.2.2.1), which this parser does not read.
  if (h265LayerId(nal) !== 0) throw new MediaFormatError('SPS of a layer other than 0 is not supported');
  const reader = new BitReader(removeEmulationPrevention(nal), H265_NAL_HEADER_SIZE);

  const vpsId = reader.u(4);
  const maxSubLayersMinus1 = checkSpsRange('sps_max_sub_layers_minus1', reader.u(3), 6);
  const temporalIdNesting = reader.flag();
  const profileTierLevel = readProfileTierLevel(reader, maxSubLayersMinus1);
  const spsId = checkSpsRange('sps_seq_parameter_set_id', reader.ue(), 15);
  const chromaFormatIdc = checkSpsRange('chroma_format_idc', reader.ue(), 3);
  const separateColourPlane = chromaFormatIdc === 3 ? reader.flag() : false;
  // A 16-bit bound keeps sizes meaningful: no level allows a dimension above 16888.
  const codedWidth = checkSpsRange('pic_width_in_luma_samples', reader.ue(), 65535);
  const codedHeight = checkSpsRange('pic_height_in_luma_samples', reader.ue(), 65535);
  if (codedWidth === 0 || codedHeight === 0) throw new MediaFormatError('SPS with a zero picture size');
  let conformanceWindow: H265ConformanceWindow | null = null;
  if (reader.flag()) {
    conformanceWindow = { left: reader.ue(), right: reader.ue(), top: reader.ue(), bottom: reader.ue() };
  }
  const bitDepthLuma = checkSpsRange('bit_depth_luma_minus8', reader.ue(), 8) + 8;
  const bitDepthChroma = checkSpsRange('bit_depth_chroma_minus8', reader.ue(), 8) + 8;
  const log2MaxPicOrderCntLsb = checkSpsRange('log2_max_pic_order_cnt_lsb_minus4', reader.ue(), 12) + 4;
  const subLayerOrderingInfo = reader.flag();
  let maxDecPicBuffering = 0;
  let maxNumReorderPics = 0;
  for (let i = subLayerOrderingInfo ? 0 : maxSubLayersMinus1; i <= maxSubLayersMinus1; i++) {
    maxDecPicBuffering = checkSpsRange('sps_max_dec_pic_buffering_minus1', reader.ue(), 15) + 1;
    maxNumReorderPics = checkSpsRange('sps_max_num_reorder_pics', reader.ue(), 15);
    reader.ue(); // sps_max_latency_increase_plus1
  }
  const log2MinLumaCodingBlockSize =
    checkSpsRange('log2_min_luma_coding_block_size_minus3', reader.ue(), 3) + 3;
  const log2MaxLumaCodingBlockSize =
    log2MinLumaCodingBlockSize + checkSpsRange('log2_diff_max_min_luma_coding_block_size', reader.ue(), 3);
  reader.ue(); // log2_min_luma_transform_block_size_minus2
  reader.ue(); // log2_diff_max_min_luma_transform_block_size
  reader.ue(); // max_transform_hierarchy_depth_inter
  reader.ue(); // max_transform_hierarchy_depth_intra
  if (reader.flag() && reader.flag()) skipScalingListData(reader); // scaling_list_enabled, sps_..._data_present
  reader.skip(2); // amp_enabled_flag, sample_adaptive_offset_enabled_flag
  if (reader.flag()) {
    // pcm_enabled_flag: sample bit depths u(4) u(4), two block sizes, loop filter flag.
    reader.skip(8);
    reader.ue();
    reader.ue();
    reader.skip(1);
  }
  const numShortTermRefPicSets = checkSpsRange('num_short_term_ref_pic_sets', reader.ue(), 64);
  const shortTermSets: ShortTermRps[] = [];
  for (let i = 0; i < numShortTermRefPicSets; i++) {
    shortTermSets.push(readShortTermRefPicSet(reader, i, shortTermSets));
  }
  const longTermRefPicsPresent = reader.flag();
  if (longTermRefPicsPresent) {
    const count = checkSpsRange('num_long_term_ref_pics_sps', reader.ue(), 32);
    for (let i = 0; i < count; i++) reader.skip(log2MaxPicOrderCntLsb + 1); // lt_ref_pic_poc_lsb_sps, used flag
  }
  reader.skip(2); // sps_temporal_mvp_enabled_flag, strong_intra_smoothing_enabled_flag
  const vui = reader.flag() ? readVui(reader) : null;

  // Conformance window units (7-10, 7-11, table 6-1).
  const chroma = separateColourPlane ? 0 : chromaFormatIdc;
  const subWidthC = chroma === 1 || chroma === 2 ? 2 : 1;
  const subHeightC = chroma === 1 ? 2 : 1;
  let width = codedWidth;
  let height = codedHeight;
  if (conformanceWindow !== null) {
    width -= subWidthC * (conformanceWindow.left + conformanceWindow.right);
    height -= subHeightC * (conformanceWindow.top + conformanceWindow.bottom);
  }
  if (width <= 0 || height <= 0) {
    throw new MediaFormatError(`SPS conformance window leaves no picture (${width}x${height})`);
  }
  const timing = vui?.timing;
  const frameRate =
    timing && timing.numUnitsInTick > 0 && timing.timeScale > 0
      ? timing.timeScale / timing.numUnitsInTick
      : null;

  return {
    vpsId,
    maxSubLayers: maxSubLayersMinus1 + 1,
    temporalIdNesting,
    profileTierLevel,
    spsId,
    chromaFormatIdc,
    separateColourPlane,
    codedWidth,
    codedHeight,
    conformanceWindow,
    width,
    height,
    bitDepthLuma,
    bitDepthChroma,
    log2MaxPicOrderCntLsb,
    maxDecPicBuffering,
    maxNumReorderPics,
    log2MinLumaCodingBlockSize,
    log2MaxLumaCodingBlockSize,
    numShortTermRefPicSets,
    longTermRefPicsPresent,
    vui,
    frameRate,
  };
}

/**
 * Picture rate of the stream an access unit belongs to, from an SPS in it (VUI timing info), or
 * null when it has no SPS or the SPS does not say (or cannot be read). For file sources.
 */
export function h265FrameRate(accessUnit: readonly Buffer[]): number | null {
  for (const nal of accessUnit) {
    if (h265NalType(nal) !== H265NalType.SPS) continue;
    try {
      return parseH265Sps(nal).frameRate;
    } catch (err) {
      if (err instanceof MediaFormatError) return null;
      throw err;
    }
  }
  return null;
}
