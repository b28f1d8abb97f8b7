import type { Buffer } from 'node:buffer';
import { MediaFormatError } from '../../errors.js';
import { BitWriter } from './bit-writer.js';
import { matchChroma, matchLuma16x16 } from './intra-match.js';
import { buildNalUnit, NalUnitType, nalHeaderByte } from './nal.js';
import { makeSequenceParams, type SequenceParams, writePps, writeSps } from './parameter-sets.js';
import { allocatePicture, type Yuv420Picture } from './picture.js';

export interface LosslessEncoderOptions {
  width: number;
  height: number;
  fps: number;
  /** Override the level chosen from size and rate (level_idc, e.g. 31). */
  levelIdc?: number;
  /** Bits of frame_num (4..16, default 8); small values make frame_num wrap often (tests). */
  log2MaxFrameNum?: number;
}

export interface EncodePictureOptions {
  /** Code an IDR picture (all macroblocks intra) instead of a P picture. */
  idr: boolean;
  /**
   * One byte per macroblock (raster order), non-zero where the picture may have changed since
   * the previous encodePicture call. Macroblocks marked 0 are skipped without looking at them,
   * so a wrong mask shows up as stale picture areas. Omit to compare every macroblock.
   */
  changedMbs?: Uint8Array;
}

/** Macroblock counts of the last encoded picture. */
export interface PictureStats {
  idr: boolean;
  pcm: number;
  intra16x16: number;
  skipped: number;
  /** Slice NAL unit size in bytes. */
  bytes: number;
}

// mb_type values (Table 7-11); P slices number the intra types from 5.
const MB_TYPE_I_PCM = 25;
const MB_TYPE_I16x16_BASE = 1; // + predMode + 4*cbpChroma + 12*(cbpLuma ? 1 : 0)
const P_SLICE_INTRA_OFFSET = 5;
const SLICE_TYPE_P_ALL = 5;
const SLICE_TYPE_I_ALL = 7;
/** cachedLumaMode values besides Intra16x16PredMode 0..2. */
const PCM_MODE = -1;
const UNKNOWN_MODE = -2;

/**
 * A lossless Baseline H.264 encoder for synthetic pictures: every macroblock is either
 * I_16x16 with no residual (when DC/vertical/horizontal prediction reproduces it exactly),
 * I_PCM, or - in P pictures - P_Skip when unchanged. The decoder's output therefore equals the
 * input bit for bit, and the encoder's reference is simply a copy of what it was given.
 * Deblocking is disabled per slice so the decoded samples are not filtered.
 */
export class H264LosslessEncoder {
  readonly params: SequenceParams;
  readonly sps: Buffer;
  readonly pps: Buffer;
  private readonly widthMbs: number;
  private readonly heightMbs: number;
  private readonly writer = new BitWriter(64 * 1024);
  /** The decoder's reference picture (= the last picture given, since coding is lossless). */
  private readonly reference: Yuv420Picture;
  /** Per macroblock of the picture being coded: 1 if I_PCM (CAVLC nC counts it as 16 coefficients). */
  private readonly mbIsPcm: Uint8Array;
  /**
   * Per macroblock, the intra coding last found for it: luma mode, or PCM_MODE, or UNKNOWN_MODE;
   * chroma mode alongside. A decision depends on the macroblock and the edges of its left and top
   * neighbours, so it stays valid until one of those three changes; IDR pictures then reuse it
   * instead of searching every macroblock again.
   */
  private readonly cachedLumaMode: Int8Array;
  private readonly cachedChromaMode: Int8Array;
  private frameNum = 0;
  private nextIdrPicId = 0;
  private haveReference = false;
  private stats: PictureStats = { idr: false, pcm: 0, intra16x16: 0, skipped: 0, bytes: 0 };

  constructor(opts: LosslessEncoderOptions) {
    this.params = makeSequenceParams(opts);
    this.widthMbs = this.params.widthMbs;
    this.heightMbs = this.params.heightMbs;
    this.sps = writeSps(this.params);
    this.pps = writePps();
    this.reference = allocatePicture(opts.width, opts.height);
    this.mbIsPcm = new Uint8Array(this.widthMbs * this.heightMbs);
    this.cachedLumaMode = new Int8Array(this.widthMbs * this.heightMbs).fill(UNKNOWN_MODE);
    this.cachedChromaMode = new Int8Array(this.widthMbs * this.heightMbs);
  }

  get lastStats(): PictureStats {
    return this.stats;
  }

  /**
   * Codes one picture (coded size must match) and returns its slice NAL unit. The first picture
   * is always coded as IDR.
   */
  encodePicture(pic: Yuv420Picture, opts: EncodePictureOptions): Buffer {
    if (pic.codedWidth !== this.widthMbs * 16 || pic.codedHeight !== this.heightMbs * 16)
      throw new MediaFormatError(
        `picture is ${pic.codedWidth}x${pic.codedHeight}, encoder expects ${this.widthMbs * 16}x${this.heightMbs * 16}`,
      );
    const idr = opts.idr || !this.haveReference;
    const changed = opts.changedMbs;
    if (changed && changed.length < this.widthMbs * this.heightMbs)
      throw new MediaFormatError('changedMbs is shorter than the macroblock count');

    if (idr) this.frameNum = 0;
    const w = this.writer;
    w.reset();
    this.writeSliceHeader(w, idr);

    const stats: PictureStats = { idr, pcm: 0, intra16x16: 0, skipped: 0, bytes: 0 };
    const ref = this.reference;
    const lumaStride = pic.codedWidth;
    const chromaStride = lumaStride >> 1;
    let skipRun = 0;
    let mbAddr = 0;
    for (let mbY = 0; mbY < this.heightMbs; mbY++) {
      for (let mbX = 0; mbX < this.widthMbs; mbX++, mbAddr++) {
        // Changed since the previous picture? (The first picture has nothing to compare with.)
        const modified =
          !this.haveReference || (changed?.[mbAddr] !== 0 && !sameMacroblock(pic, ref, mbX, mbY));
        if (!idr && !modified) {
          this.mbIsPcm[mbAddr] = 0; // P_Skip
          skipRun++;
          continue;
        }
        if (!idr) {
          w.writeUe(skipRun);
          skipRun = 0;
        }
        const typeOffset = idr ? 0 : P_SLICE_INTRA_OFFSET;
        let lumaMode = this.cachedLumaMode[mbAddr];
        let chromaMode = this.cachedChromaMode[mbAddr];
        if (modified || lumaMode === UNKNOWN_MODE) {
          lumaMode = matchLuma16x16(pic.y, lumaStride, mbX, mbY);
          chromaMode = lumaMode < 0 ? -1 : matchChroma(pic.u, pic.v, chromaStride, mbX, mbY);
          if (chromaMode < 0) lumaMode = PCM_MODE;
          this.cachedLumaMode[mbAddr] = lumaMode;
          this.cachedChromaMode[mbAddr] = chromaMode;
        }
        if (modified) {
          // The right and lower neighbours predict from this macroblock's edges.
          if (mbX + 1 < this.widthMbs) this.cachedLumaMode[mbAddr + 1] = UNKNOWN_MODE;
          if (mbY + 1 < this.heightMbs) this.cachedLumaMode[mbAddr + this.widthMbs] = UNKNOWN_MODE;
        }
        if (lumaMode !== PCM_MODE) {
          w.writeUe(typeOffset + MB_TYPE_I16x16_BASE + lumaMode); // cbp luma 0, chroma 0
          w.writeUe(chromaMode); // intra_chroma_pred_mode
          w.writeSe(0); // mb_qp_delta
          this.writeEmptyDcBlock(w, mbX, mbY, mbAddr);
          this.mbIsPcm[mbAddr] = 0;
          stats.intra16x16++;
        } else {
          w.writeUe(typeOffset + MB_TYPE_I_PCM);
          w.alignZero(); // pcm_alignment_zero_bit
          writePcmSamples(w, pic, mbX, mbY);
          this.mbIsPcm[mbAddr] = 1;
          stats.pcm++;
        }
        if (!idr && modified) copyMacroblock(pic, ref, mbX, mbY);
      }
    }
    // A trailing run of skipped macroblocks is sent as a final mb_skip_run.
    if (skipRun > 0) w.writeUe(skipRun);
    stats.skipped = idr ? 0 : this.widthMbs * this.heightMbs - stats.pcm - stats.intra16x16;
    w.writeTrailingBits();

    if (idr) {
      ref.y.set(pic.y);
      ref.u.set(pic.u);
      ref.v.set(pic.v);
    }
    this.haveReference = true;
    this.frameNum = (this.frameNum + 1) % (1 << this.params.log2MaxFrameNum);

    const nal = idr
      ? buildNalUnit(nalHeaderByte(3, NalUnitType.SliceIdr), w.bytes())
      : buildNalUnit(nalHeaderByte(2, NalUnitType.SliceNonIdr), w.bytes());
    stats.bytes = nal.length;
    this.stats = stats;
    return nal;
  }

  private writeSliceHeader(w: BitWriter, idr: boolean): void {
    w.writeUe(0); // first_mb_in_slice
    w.writeUe(idr ? SLICE_TYPE_I_ALL : SLICE_TYPE_P_ALL);
    w.writeUe(0); // pic_parameter_set_id
    w.writeBits(this.frameNum, this.params.log2MaxFrameNum);
    if (idr) {
      w.writeUe(this.nextIdrPicId); // idr_pic_id: consecutive IDRs must differ
      this.nextIdrPicId ^= 1;
    } else {
      w.writeBit(0); // num_ref_idx_active_override_flag
      w.writeBit(0); // ref_pic_list_modification_flag_l0
    }
    // dec_ref_pic_marking(): every picture is a short-term reference, sliding window.
    if (idr) {
      w.writeBit(0); // no_output_of_prior_pics_flag
      w.writeBit(0); // long_term_reference_flag
    } else {
      w.writeBit(0); // adaptive_ref_pic_marking_mode_flag
    }
    w.writeSe(0); // slice_qp_delta: QP is irrelevant, nothing is quantised
    w.writeUe(1); // disable_deblocking_filter_idc: keep decoded samples exact
  }

  /**
   * Intra16x16DCLevel with no coefficients: coeff_token for TotalCoeff 0, whose code depends on
   * nC from the left/top neighbours (9.2.1). Our neighbours hold no coefficients except I_PCM,
   * which counts as 16.
   */
  private writeEmptyDcBlock(w: BitWriter, mbX: number, mbY: number, mbAddr: number): void {
    const hasLeft = mbX > 0;
    const hasTop = mbY > 0;
    const nA = hasLeft && this.mbIsPcm[mbAddr - 1] ? 16 : 0;
    const nB = hasTop && this.mbIsPcm[mbAddr - this.widthMbs] ? 16 : 0;
    let nC = 0;
    if (hasLeft && hasTop) nC = (nA + nB + 1) >> 1;
    else if (hasLeft) nC = nA;
    else if (hasTop) nC = nB;
    // Table 9-5, TrailingOnes 0 / TotalCoeff 0 column per nC range.
    if (nC < 2) w.writeBits(0b1, 1);
    else if (nC < 4) w.writeBits(0b11, 2);
    else if (nC < 8) w.writeBits(0b1111, 4);
    else w.writeBits(0b000011, 6);
  }
}

/** 256 luma then 64 Cb then 64 Cr samples, raster order within the macroblock. */
function writePcmSamples(w: BitWriter, pic: Yuv420Picture, mbX: number, mbY: number): void {
  let o = w.reserveBytes(384);
  const out = w.buffer;
  const ls = pic.codedWidth;
  const cs = ls >> 1;
  const y = pic.y;
  let src = mbY * 16 * ls + mbX * 16;
  for (let r = 0; r < 16; r++, src += ls) for (let c = 0; c < 16; c++) out[o++] = y[src + c];
  const cbase = mbY * 8 * cs + mbX * 8;
  o = copyChromaBlock(pic.u, cbase, cs, out, o);
  copyChromaBlock(pic.v, cbase, cs, out, o);
}

function copyChromaBlock(plane: Uint8Array, src: number, stride: number, out: Uint8Array, o: number): number {
  for (let r = 0; r < 8; r++, src += stride) for (let c = 0; c < 8; c++) out[o++] = plane[src + c];
  return o;
}

function sameMacroblock(a: Yuv420Picture, b: Yuv420Picture, mbX: number, mbY: number): boolean {
  const ls = a.codedWidth;
  const cs = ls >> 1;
  return (
    sameBlock(a.y, b.y, mbY * 16 * ls + mbX * 16, ls, 16) &&
    sameBlock(a.u, b.u, mbY * 8 * cs + mbX * 8, cs, 8) &&
    sameBlock(a.v, b.v, mbY * 8 * cs + mbX * 8, cs, 8)
  );
}

function sameBlock(a: Uint8Array, b: Uint8Array, p: number, stride: number, size: number): boolean {
  for (let r = 0; r < size; r++, p += stride)
    for (let c = 0; c < size; c++) if (a[p + c] !== b[p + c]) return false;
  return true;
}

function copyMacroblock(from: Yuv420Picture, to: Yuv420Picture, mbX: number, mbY: number): void {
  const ls = from.codedWidth;
  const cs = ls >> 1;
  copyBlock(from.y, to.y, mbY * 16 * ls + mbX * 16, ls, 16);
  copyBlock(from.u, to.u, mbY * 8 * cs + mbX * 8, cs, 8);
  copyBlock(from.v, to.v, mbY * 8 * cs + mbX * 8, cs, 8);
}

function copyBlock(from: Uint8Array, to: Uint8Array, p: number, stride: number, size: number): void {
  for (let r = 0; r < size; r++, p += stride) for (let c = 0; c < size; c++) to[p + c] = from[p + c];
}
