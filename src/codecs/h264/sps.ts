/**
 * H.264 sequence parameter set (H.264 7.3.2.1.1 and E.1.1, up to timing_info): enough to describe
 * the stream (profile, level, size, frame rate) for SDP and logs.
 */

import { BitReader, removeEmulationPrevention } from '../bitreader.js';
import { MediaFormatError } from '../errors.js';
import { checkSpsRange, readVuiPrefix } from '../vui.js';
import { NalType } from './annexb.js';

export interface H264Crop {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export interface H264Vui {
  /** Sample aspect ratio, or null when not signalled / unspecified (idc 0). */
  sampleAspectRatio: { width: number; height: number } | null;
  /** timing_info, or null when absent. */
  timing: { numUnitsInTick: number; timeScale: number; fixedFrameRate: boolean } | null;
}

export interface H264Sps {
  profileIdc: number;
  /** The byte holding constraint_set0..5 flags and reserved bits, as in profile-level-id. */
  constraintFlags: number;
  levelIdc: number;
  spsId: number;
  chromaFormatIdc: number;
  separateColourPlane: boolean;
  bitDepthLuma: number;
  bitDepthChroma: number;
  log2MaxFrameNum: number;
  picOrderCntType: number;
  /** pic_order_cnt_type 0 only (else 0). */
  log2MaxPicOrderCntLsb: number;
  /** pic_order_cnt_type 1 only (else false / 0 / []). */
  deltaPicOrderAlwaysZero: boolean;
  offsetForNonRefPic: number;
  offsetForTopToBottomField: number;
  offsetForRefFrame: number[];
  maxNumRefFrames: number;
  gapsInFrameNumAllowed: boolean;
  picWidthInMbs: number;
  picHeightInMapUnits: number;
  frameMbsOnly: boolean;
  mbAdaptiveFrameField: boolean;
  direct8x8Inference: boolean;
  /** Cropping offsets as coded (in crop units, not pixels), or null. */
  crop: H264Crop | null;
  /** Displayed size in pixels (cropping applied). */
  width: number;
  height: number;
  vui: H264Vui | null;
  /** time_scale / (2 * num_units_in_tick) when timing_info is present, else null. */
  frameRate: number | null;
}

/** Profiles whose SPS carries chroma format, bit depths and scaling lists (7.3.2.1.1). */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

function skipScalingList(reader: BitReader, size: number): void {
  // Only the delta_scale codes matter when skipping: they stop once a scale reaches 0 ("use the
  // default list" at j = 0, or "repeat the last scale" for the rest).
  let scale = 8;
  for (let j = 0; j < size; j++) {
    const delta = reader.se();
    if (delta < -128 || delta > 127) throw new MediaFormatError(`SPS delta_scale ${delta} out of range`);
    scale = (scale + delta + 256) % 256;
    if (scale === 0) return;
  }
}

function parseVui(reader: BitReader): H264Vui {
  const sampleAspectRatio = readVuiPrefix(reader);
  let timing: H264Vui['timing'] = null;
  if (reader.flag()) {
    const numUnitsInTick = reader.u(32);
    const timeScale = reader.u(32);
    const fixedFrameRate = reader.flag();
    timing = { numUnitsInTick, timeScale, fixedFrameRate };
  }
  // HRD parameters and bitstream_restriction follow; nothing here needs them.
  return { sampleAspectRatio, timing };
}

/** Parses an SPS NAL unit (header byte included). Throws MediaFormatError if truncated or invalid. */
export function parseSps(nal: Buffer): H264Sps {
  if (nal.length < 4) throw new MediaFormatError(`SPS too short: ${nal.length} bytes`);
  if ((nal[0] & 0x1f) !== NalType.SPS) throw new MediaFormatError(`NAL type ${nal[0] & 0x1f} is not an SPS`);
  const reader = new BitReader(removeEmulationPrevention(nal), 1);
  const profileIdc = reader.u(8);
  const constraintFlags = reader.u(8);
  const levelIdc = reader.u(8);
  const spsId = checkSpsRange('seq_parameter_set_id', reader.ue(), 31);

  let chromaFormatIdc = 1;
  let separateColourPlane = false;
  let bitDepthLuma = 8;
  let bitDepthChroma = 8;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = checkSpsRange('chroma_format_idc', reader.ue(), 3);
    if (chromaFormatIdc === 3) separateColourPlane = reader.flag();
    bitDepthLuma = checkSpsRange('bit_depth_luma_minus8', reader.ue(), 6) + 8;
    bitDepthChroma = checkSpsRange('bit_depth_chroma_minus8', reader.ue(), 6) + 8;
    reader.skip(1); // qpprime_y_zero_transform_bypass_flag
    if (reader.flag()) {
      // seq_scaling_matrix_present_flag: 6 4x4 lists, then 2 (or 6 for 4:4:4) 8x8 lists.
      const lists = chromaFormatIdc !== 3 ? 8 : 12;
      for (let i = 0; i < lists; i++) {
        if (reader.flag()) skipScalingList(reader, i < 6 ? 16 : 64);
      }
    }
  }

  const log2MaxFrameNum = checkSpsRange('log2_max_frame_num_minus4', reader.ue(), 12) + 4;
  const picOrderCntType = checkSpsRange('pic_order_cnt_type', reader.ue(), 2);
  let log2MaxPicOrderCntLsb = 0;
  let deltaPicOrderAlwaysZero = false;
  let offsetForNonRefPic = 0;
  let offsetForTopToBottomField = 0;
  const offsetForRefFrame: number[] = [];
  if (picOrderCntType === 0) {
    log2MaxPicOrderCntLsb = checkSpsRange('log2_max_pic_order_cnt_lsb_minus4', reader.ue(), 12) + 4;
  } else if (picOrderCntType === 1) {
    deltaPicOrderAlwaysZero = reader.flag();
    offsetForNonRefPic = reader.se();
    offsetForTopToBottomField = reader.se();
    const cycle = checkSpsRange('num_ref_frames_in_pic_order_cnt_cycle', reader.ue(), 255);
    for (let i = 0; i < cycle; i++) offsetForRefFrame.push(reader.se());
  }
  const maxNumRefFrames = reader.ue();
  const gapsInFrameNumAllowed = reader.flag();
  // Bounds keep width/height meaningful: 8192 macroblocks is far beyond any level limit.
  const picWidthInMbs = checkSpsRange('pic_width_in_mbs_minus1', reader.ue(), 8191) + 1;
  const picHeightInMapUnits = checkSpsRange('pic_height_in_map_units_minus1', reader.ue(), 8191) + 1;
  const frameMbsOnly = reader.flag();
  const mbAdaptiveFrameField = frameMbsOnly ? false : reader.flag();
  const direct8x8Inference = reader.flag();
  let crop: H264Crop | null = null;
  if (reader.flag()) {
    crop = { left: reader.ue(), right: reader.ue(), top: reader.ue(), bottom: reader.ue() };
  }

  // Crop units (7.4.2.1.1): chroma subsampling and field coding scale the offsets.
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const fieldFactor = frameMbsOnly ? 1 : 2;
  let cropUnitX = 1;
  let cropUnitY = fieldFactor;
  if (chromaArrayType !== 0) {
    const subWidthC = chromaFormatIdc === 3 ? 1 : 2;
    const subHeightC = chromaFormatIdc === 1 ? 2 : 1;
    cropUnitX = subWidthC;
    cropUnitY = subHeightC * fieldFactor;
  }
  const codedWidth = picWidthInMbs * 16;
  const codedHeight = picHeightInMapUnits * 16 * fieldFactor;
  const width = crop === null ? codedWidth : codedWidth - cropUnitX * (crop.left + crop.right);
  const height = crop === null ? codedHeight : codedHeight - cropUnitY * (crop.top + crop.bottom);
  if (width <= 0 || height <= 0) {
    throw new MediaFormatError(`SPS cropping leaves no picture (${width}x${height})`);
  }

  let vui: H264Vui | null = null;
  if (reader.flag()) vui = parseVui(reader);
  const timing = vui?.timing;
  const frameRate =
    timing && timing.numUnitsInTick > 0 && timing.timeScale > 0
      ? timing.timeScale / (2 * timing.numUnitsInTick)
      : null;

  return {
    profileIdc,
    constraintFlags,
    levelIdc,
    spsId,
    chromaFormatIdc,
    separateColourPlane,
    bitDepthLuma,
    bitDepthChroma,
    log2MaxFrameNum,
    picOrderCntType,
    log2MaxPicOrderCntLsb,
    deltaPicOrderAlwaysZero,
    offsetForNonRefPic,
    offsetForTopToBottomField,
    offsetForRefFrame,
    maxNumRefFrames,
    gapsInFrameNumAllowed,
    picWidthInMbs,
    picHeightInMapUnits,
    frameMbsOnly,
    mbAdaptiveFrameField,
    direct8x8Inference,
    crop,
    width,
    height,
    vui,
    frameRate,
  };
}
