import type { BitReader } from './bitreader.js';
import { MediaFormatError } from './errors.js';

/** Table E-1 (H.264 and H.265 alike): sample aspect ratios for aspect_ratio_idc 1..16. */
const ASPECT_RATIOS: readonly (readonly [number, number])[] = [
  [0, 0],
  [1, 1],
  [12, 11],
  [10, 11],
  [16, 11],
  [40, 33],
  [24, 11],
  [20, 11],
  [32, 11],
  [80, 33],
  [18, 11],
  [15, 11],
  [64, 33],
  [160, 99],
  [4, 3],
  [3, 2],
  [2, 1],
];
const EXTENDED_SAR = 255;

export type SampleAspectRatio = { width: number; height: number } | null;

/** A parameter-set field read from the wire, checked against its maximum before it is used. */
export function checkSpsRange(name: string, value: number, max: number): number {
  if (value > max) throw new MediaFormatError(`SPS ${name} ${value} out of range (max ${max})`);
  return value;
}

/**
 * The start of the VUI, the same in H.264 (E.1.1) and H.265 (E.2.1): aspect ratio, overscan, video
 * signal type and chroma sample location. Returns the sample aspect ratio; the rest is skipped.
 */
export function readVuiPrefix(reader: BitReader): SampleAspectRatio {
  let sampleAspectRatio: SampleAspectRatio = null;
  if (reader.flag()) {
    const idc = reader.u(8);
    if (idc === EXTENDED_SAR) {
      const width = reader.u(16);
      const height = reader.u(16);
      if (width > 0 && height > 0) sampleAspectRatio = { width, height };
    } else if (idc > 0 && idc < ASPECT_RATIOS.length) {
      const [width, height] = ASPECT_RATIOS[idc];
      sampleAspectRatio = { width, height };
    }
  }
  if (reader.flag()) reader.skip(1); // overscan_appropriate_flag
  if (reader.flag()) {
    reader.skip(4); // video_format, video_full_range_flag
    if (reader.flag()) reader.skip(24); // colour_primaries, transfer_characteristics, matrix_coefficients
  }
  if (reader.flag()) {
    reader.ue(); // chroma_sample_loc_type_top_field
    reader.ue(); // chroma_sample_loc_type_bottom_field
  }
  return sampleAspectRatio;
}
