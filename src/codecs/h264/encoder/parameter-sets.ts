import type { Buffer } from 'node:buffer';
import { MediaFormatError } from '../../errors.js';
import { BitWriter } from './bit-writer.js';
import { buildNalUnit, NalUnitType, nalHeaderByte } from './nal.js';

/** profile_idc for Baseline. */
export const PROFILE_BASELINE = 66;
/** constraint_set0_flag | constraint_set1_flag: Constrained Baseline (decodable by Main decoders too). */
export const CONSTRAINT_FLAGS_CONSTRAINED_BASELINE = 0xc0;

/** Sequence-level settings shared by the SPS, PPS and slice writers. */
export interface SequenceParams {
  /** Display size in pixels (even numbers). */
  width: number;
  height: number;
  /** Size in macroblocks; the coded picture is 16*widthMbs x 16*heightMbs. */
  widthMbs: number;
  heightMbs: number;
  /** Integer frame rate: VUI time_scale = 2*fps with num_units_in_tick = 1. */
  fps: number;
  levelIdc: number;
  /** log2_max_frame_num (4..16); frame_num is written with this many bits. */
  log2MaxFrameNum: number;
}

interface LevelLimits {
  levelIdc: number;
  maxMbps: number;
  maxFs: number;
}

// Table A-1: max macroblock rate and frame size per level (the limits a size/rate can break).
const LEVELS: readonly LevelLimits[] = [
  { levelIdc: 10, maxMbps: 1485, maxFs: 99 },
  { levelIdc: 11, maxMbps: 3000, maxFs: 396 },
  { levelIdc: 12, maxMbps: 6000, maxFs: 396 },
  { levelIdc: 13, maxMbps: 11880, maxFs: 396 },
  { levelIdc: 20, maxMbps: 11880, maxFs: 396 },
  { levelIdc: 21, maxMbps: 19800, maxFs: 792 },
  { levelIdc: 22, maxMbps: 20250, maxFs: 1620 },
  { levelIdc: 30, maxMbps: 40500, maxFs: 1620 },
  { levelIdc: 31, maxMbps: 108000, maxFs: 3600 },
  { levelIdc: 32, maxMbps: 216000, maxFs: 5120 },
  { levelIdc: 40, maxMbps: 245760, maxFs: 8192 },
  { levelIdc: 41, maxMbps: 245760, maxFs: 8192 },
  { levelIdc: 42, maxMbps: 522240, maxFs: 8704 },
  { levelIdc: 50, maxMbps: 589824, maxFs: 22080 },
  { levelIdc: 51, maxMbps: 983040, maxFs: 36864 },
  { levelIdc: 52, maxMbps: 2073600, maxFs: 36864 },
];

/**
 * Lowest level whose macroblock rate and frame size limits hold for this size and rate, but never
 * below `minLevelIdc` (default 3.0): pictures heavy in I_PCM macroblocks need level 3's CPB size
 * and bit rate headroom even when the picture is small.
 */
export function chooseLevel(widthMbs: number, heightMbs: number, fps: number, minLevelIdc = 30): number {
  const frameMbs = widthMbs * heightMbs;
  for (const level of LEVELS) {
    if (level.levelIdc < minLevelIdc) continue;
    // A.3.1: each dimension is also bounded by sqrt(8 * MaxFS).
    const maxDim = Math.sqrt(8 * level.maxFs);
    if (
      frameMbs <= level.maxFs &&
      widthMbs <= maxDim &&
      heightMbs <= maxDim &&
      frameMbs * fps <= level.maxMbps
    )
      return level.levelIdc;
  }
  throw new MediaFormatError(`no H.264 level fits ${widthMbs * 16}x${heightMbs * 16} at ${fps} fps`);
}

/** Validates size/rate and derives the macroblock layout and level. */
export function makeSequenceParams(opts: {
  width: number;
  height: number;
  fps: number;
  levelIdc?: number;
  log2MaxFrameNum?: number;
}): SequenceParams {
  const { width, height, fps } = opts;
  for (const [name, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(v) || v < 16 || v > 8192 || v % 2 !== 0)
      throw new MediaFormatError(`${name} must be an even integer in 16..8192, got ${v}`);
  }
  if (!Number.isInteger(fps) || fps < 1 || fps > 240)
    throw new MediaFormatError(`fps must be an integer in 1..240, got ${fps}`);
  const log2MaxFrameNum = opts.log2MaxFrameNum ?? 8;
  if (!Number.isInteger(log2MaxFrameNum) || log2MaxFrameNum < 4 || log2MaxFrameNum > 16)
    throw new MediaFormatError(`log2MaxFrameNum must be in 4..16, got ${log2MaxFrameNum}`);
  const widthMbs = Math.ceil(width / 16);
  const heightMbs = Math.ceil(height / 16);
  const levelIdc = opts.levelIdc ?? chooseLevel(widthMbs, heightMbs, fps);
  return { width, height, widthMbs, heightMbs, fps, levelIdc, log2MaxFrameNum };
}

/** The RFC 6184 profile-level-id (hex, e.g. "42c01e") for these parameters. */
export function profileLevelId(params: SequenceParams): string {
  return [PROFILE_BASELINE, CONSTRAINT_FLAGS_CONSTRAINED_BASELINE, params.levelIdc]
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('');
}

/** seq_parameter_set_rbsp() as a NAL unit (nal_ref_idc 3, type 7). */
export function writeSps(params: SequenceParams, w = new BitWriter(64)): Buffer {
  w.reset();
  w.writeBits(PROFILE_BASELINE, 8);
  w.writeBits(CONSTRAINT_FLAGS_CONSTRAINED_BASELINE, 8); // constraint_set0..5 flags + reserved_zero_2bits
  w.writeBits(params.levelIdc, 8);
  w.writeUe(0); // seq_parameter_set_id
  w.writeUe(params.log2MaxFrameNum - 4); // log2_max_frame_num_minus4
  // POC type 2: output order = decode order, nothing per slice; right for a stream without B frames.
  w.writeUe(2); // pic_order_cnt_type
  w.writeUe(1); // max_num_ref_frames
  w.writeBit(0); // gaps_in_frame_num_value_allowed_flag
  w.writeUe(params.widthMbs - 1); // pic_width_in_mbs_minus1
  w.writeUe(params.heightMbs - 1); // pic_height_in_map_units_minus1
  w.writeBit(1); // frame_mbs_only_flag
  w.writeBit(1); // direct_8x8_inference_flag
  // Cropping is counted in 2-sample units for 4:2:0 frames.
  const cropRight = (params.widthMbs * 16 - params.width) / 2;
  const cropBottom = (params.heightMbs * 16 - params.height) / 2;
  const cropping = cropRight > 0 || cropBottom > 0;
  w.writeBit(cropping); // frame_cropping_flag
  if (cropping) {
    w.writeUe(0); // frame_crop_left_offset
    w.writeUe(cropRight);
    w.writeUe(0); // frame_crop_top_offset
    w.writeUe(cropBottom);
  }
  w.writeBit(1); // vui_parameters_present_flag
  writeVui(w, params);
  w.writeTrailingBits();
  return buildNalUnit(nalHeaderByte(3, NalUnitType.Sps), w.bytes());
}

function writeVui(w: BitWriter, params: SequenceParams): void {
  w.writeBit(0); // aspect_ratio_info_present_flag
  w.writeBit(0); // overscan_info_present_flag
  w.writeBit(0); // video_signal_type_present_flag (defaults: limited range, unspecified colour)
  w.writeBit(0); // chroma_loc_info_present_flag
  w.writeBit(1); // timing_info_present_flag
  w.writeBits(1, 32); // num_units_in_tick
  w.writeBits(2 * params.fps, 32); // time_scale: a frame is two ticks (two fields' worth)
  w.writeBit(1); // fixed_frame_rate_flag
  w.writeBit(0); // nal_hrd_parameters_present_flag
  w.writeBit(0); // vcl_hrd_parameters_present_flag
  w.writeBit(0); // pic_struct_present_flag
  w.writeBit(1); // bitstream_restriction_flag
  w.writeBit(1); // motion_vectors_over_pic_boundaries_flag
  w.writeUe(0); // max_bytes_per_pic_denom (no limit)
  w.writeUe(0); // max_bits_per_mb_denom (no limit: I_PCM macroblocks are large)
  w.writeUe(15); // log2_max_mv_length_horizontal
  w.writeUe(15); // log2_max_mv_length_vertical
  // No reordering and a one-frame DPB: decoders output each picture as soon as it is decoded.
  w.writeUe(0); // max_num_reorder_frames
  w.writeUe(1); // max_dec_frame_buffering
}

/** pic_parameter_set_rbsp() as a NAL unit (nal_ref_idc 3, type 8): CAVLC, deblocking control on. */
export function writePps(w = new BitWriter(32)): Buffer {
  w.reset();
  w.writeUe(0); // pic_parameter_set_id
  w.writeUe(0); // seq_parameter_set_id
  w.writeBit(0); // entropy_coding_mode_flag: CAVLC
  w.writeBit(0); // bottom_field_pic_order_in_frame_present_flag
  w.writeUe(0); // num_slice_groups_minus1
  w.writeUe(0); // num_ref_idx_l0_default_active_minus1
  w.writeUe(0); // num_ref_idx_l1_default_active_minus1
  w.writeBit(0); // weighted_pred_flag
  w.writeBits(0, 2); // weighted_bipred_idc
  w.writeSe(0); // pic_init_qp_minus26
  w.writeSe(0); // pic_init_qs_minus26
  w.writeSe(0); // chroma_qp_index_offset
  w.writeBit(1); // deblocking_filter_control_present_flag: lets slices switch the filter off
  w.writeBit(0); // constrained_intra_pred_flag: intra MBs may predict from skipped neighbours
  w.writeBit(0); // redundant_pic_cnt_present_flag
  w.writeTrailingBits();
  return buildNalUnit(nalHeaderByte(3, NalUnitType.Pps), w.bytes());
}
