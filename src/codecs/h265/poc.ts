/**
 * H.265 picture order count (H.265 8.3.1) from the slice segment headers of an Annex-B stream, to
 * put access units with B-frames in presentation order. Base layer (nuh_layer_id 0) only.
 */
import type { Buffer } from 'node:buffer';
import { BitReader, removeEmulationPrevention } from '../bitreader.js';
import { MediaFormatError } from '../errors.js';
import type { PictureOrder } from '../h264/poc.js';
import { pocMsb } from '../h264/poc.js';
import {
  H265_NAL_HEADER_SIZE,
  H265NalType,
  h265LayerId,
  h265NalType,
  h265TemporalId,
  isFirstSliceSegment,
  isH265Irap,
  isH265Vcl,
} from './annexb.js';
import { parseH265Sps } from './sps.js';

/** The PPS fields the start of a slice segment header depends on (7.3.2.3.1). */
export interface H265PpsInfo {
  ppsId: number;
  spsId: number;
  dependentSliceSegmentsEnabled: boolean;
  outputFlagPresent: boolean;
  numExtraSliceHeaderBits: number;
}

/** Parses a PPS NAL unit (2-byte header included) up to num_extra_slice_header_bits. */
export function parseH265PpsInfo(nal: Buffer): H265PpsInfo {
  if (h265NalType(nal) !== H265NalType.PPS)
    throw new MediaFormatError(`NAL type ${h265NalType(nal)} is not a PPS`);
  const reader = new BitReader(removeEmulationPrevention(nal), H265_NAL_HEADER_SIZE);
  const ppsId = reader.ue();
  const spsId = reader.ue();
  if (ppsId > 63 || spsId > 15) throw new MediaFormatError(`PPS ids ${ppsId}/${spsId} out of range`);
  const dependentSliceSegmentsEnabled = reader.flag();
  const outputFlagPresent = reader.flag();
  const numExtraSliceHeaderBits = reader.u(3);
  return { ppsId, spsId, dependentSliceSegmentsEnabled, outputFlagPresent, numExtraSliceHeaderBits };
}

/** What POC derivation needs of the first slice segment header of a picture (7.3.6.1). */
export interface H265SliceHeader {
  ppsId: number;
  sliceType: number;
  /** pic_output_flag (1 when the PPS leaves it out). */
  picOutput: boolean;
  /** slice_pic_order_cnt_lsb (0 for IDR pictures). */
  picOrderCntLsb: number;
}

/** The SPS fields the slice segment header start needs. */
export interface H265SpsInfo {
  separateColourPlane: boolean;
  log2MaxPicOrderCntLsb: number;
}

/**
 * Parses the start of the header of a picture's first slice segment (first_slice_segment_in_pic_flag
 * set) up to slice_pic_order_cnt_lsb. Throws MediaFormatError when truncated or when a parameter set
 * it names is unknown.
 */
export function parseH265SliceHeader(
  nal: Buffer,
  ppsById: ReadonlyMap<number, H265PpsInfo>,
  spsById: ReadonlyMap<number, H265SpsInfo>,
): H265SliceHeader {
  const type = h265NalType(nal);
  // Only the start of the header is read: no need to unescape the slice data.
  const reader = new BitReader(removeEmulationPrevention(nal.subarray(0, 64)), H265_NAL_HEADER_SIZE);
  if (!reader.flag()) throw new MediaFormatError('not the first slice segment of a picture');
  if (isH265Irap(type)) reader.skip(1); // no_output_of_prior_pics_flag
  const ppsId = reader.ue();
  const pps = ppsById.get(ppsId);
  if (!pps) throw new MediaFormatError(`slice refers to PPS ${ppsId}, not seen before it`);
  const sps = spsById.get(pps.spsId);
  if (!sps) throw new MediaFormatError(`PPS ${ppsId} refers to SPS ${pps.spsId}, not seen before it`);
  // The first segment is never dependent and has no address: the extra bits come next.
  reader.skip(pps.numExtraSliceHeaderBits); // slice_reserved_flag[i]
  const sliceType = reader.ue();
  const picOutput = pps.outputFlagPresent ? reader.flag() : true;
  if (sps.separateColourPlane) reader.skip(2); // colour_plane_id
  const idr = type === H265NalType.IDR_W_RADL || type === H265NalType.IDR_N_LP;
  const picOrderCntLsb = idr ? 0 : reader.u(sps.log2MaxPicOrderCntLsb);
  return { ppsId, sliceType, picOutput, picOrderCntLsb };
}

/** Sub-layer non-reference pictures: TRAIL_N, TSA_N, STSA_N, RADL_N, RASL_N, RSV_VCL_N10/12/14. */
function isSubLayerNonReference(type: number): boolean {
  return type <= 14 && type % 2 === 0;
}

function isRadlOrRasl(type: number): boolean {
  return type >= H265NalType.RADL_N && type <= H265NalType.RASL_R;
}

/**
 * Follows an H.265 stream access unit by access unit (decode order) and tells each picture's POC.
 * One instance per pass over a stream (the first picture starts a POC period). Pictures that are
 * not output (RASL pictures of a CRA that starts the stream, pic_output_flag 0) still get a POC;
 * decoders drop them, so they leave a gap of one frame on the presentation timeline.
 */
export class H265PocCounter {
  private readonly sps = new Map<number, H265SpsInfo>();
  private readonly pps = new Map<number, H265PpsInfo>();
  /** POC of the previous TemporalId 0 picture that is not RASL, RADL or a sub-layer non-reference. */
  private prevTid0Poc = 0;
  /** The next IRAP picture starts a coded video sequence (start of stream, after an EOS NAL). */
  private firstAfterSequenceEnd = true;

  /**
   * Learns the access unit's parameter sets and returns its picture's order, or null when it has
   * no base-layer picture, or none readable yet (no SPS/PPS seen before it). Throws
   * MediaFormatError for unreadable headers.
   */
  next(au: readonly Buffer[]): PictureOrder | null {
    let slice: Buffer | undefined;
    let endOfSequence = false;
    for (const nal of au) {
      if (h265LayerId(nal) !== 0) continue;
      const type = h265NalType(nal);
      if (type === H265NalType.SPS) {
        const sps = parseH265Sps(nal);
        this.sps.set(sps.spsId, sps);
      } else if (type === H265NalType.PPS) {
        const pps = parseH265PpsInfo(nal);
        this.pps.set(pps.ppsId, pps);
      } else if (type === H265NalType.EOS || type === H265NalType.EOB) {
        endOfSequence = true;
      } else if (slice === undefined && isH265Vcl(type) && isFirstSliceSegment(nal)) {
        slice = nal;
      }
    }
    const order = slice === undefined ? null : this.pictureOrder(slice);
    if (endOfSequence) this.firstAfterSequenceEnd = true;
    return order;
  }

  private pictureOrder(slice: Buffer): PictureOrder | null {
    const ppsId = peekPpsId(slice);
    const pps = ppsId === undefined ? undefined : this.pps.get(ppsId);
    const sps = pps && this.sps.get(pps.spsId);
    if (!pps || !sps) return null;
    const type = h265NalType(slice);
    const header = parseH265SliceHeader(slice, this.pps, this.sps);
    const maxLsb = 2 ** sps.log2MaxPicOrderCntLsb;
    // IDR and BLA pictures, and a CRA that starts a coded video sequence, have NoRaslOutputFlag 1:
    // PicOrderCntMsb is 0 and nothing before them is output after them.
    const irap = isH265Irap(type);
    const resets = irap && (type !== H265NalType.CRA_NUT || this.firstAfterSequenceEnd);
    if (irap) this.firstAfterSequenceEnd = false;
    const prevLsb = this.prevTid0Poc & (maxLsb - 1);
    const msb = resets ? 0 : pocMsb(header.picOrderCntLsb, this.prevTid0Poc - prevLsb, prevLsb, maxLsb);
    const poc = msb + header.picOrderCntLsb;
    if (h265TemporalId(slice) === 0 && !isRadlOrRasl(type) && !isSubLayerNonReference(type)) {
      this.prevTid0Poc = poc;
    }
    return { poc, newPeriod: resets };
  }
}

/** slice_pic_parameter_set_id of a first slice segment; undefined when cut short. */
function peekPpsId(nal: Buffer): number | undefined {
  try {
    const reader = new BitReader(removeEmulationPrevention(nal.subarray(0, Math.min(nal.length, 16))), 2);
    reader.skip(1); // first_slice_segment_in_pic_flag
    if (isH265Irap(h265NalType(nal))) reader.skip(1);
    return reader.ue();
  } catch (err) {
    if (err instanceof MediaFormatError) return undefined;
    throw err;
  }
}
