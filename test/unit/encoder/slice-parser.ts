// Parses the slices H264LosslessEncoder writes (the CAVLC subset it uses) back into macroblock
// decisions, independently of the encoder's own code, so unit tests can check the syntax.
import assert from 'node:assert/strict';
import { stripEpb, TestBitReader } from './bits.js';

export type ParsedMb =
  | { kind: 'skip' }
  | { kind: 'pcm'; samples: Uint8Array }
  | { kind: 'i16'; lumaMode: number; chromaMode: number; nC: number };

export interface ParsedSlice {
  idr: boolean;
  nalRefIdc: number;
  sliceType: number;
  frameNum: number;
  idrPicId: number | null;
  disableDeblocking: number;
  mbs: ParsedMb[];
}

export function parseSlice(nal: Uint8Array, widthMbs: number, heightMbs: number, log2MaxFrameNum: number) {
  const nalType = nal[0] & 0x1f;
  assert.ok(nalType === 1 || nalType === 5, `slice NAL type, got ${nalType}`);
  const idr = nalType === 5;
  const r = new TestBitReader(stripEpb(nal.subarray(1)));
  assert.equal(r.ue(), 0, 'first_mb_in_slice');
  const sliceType = r.ue();
  assert.equal(r.ue(), 0, 'pic_parameter_set_id');
  const frameNum = r.u(log2MaxFrameNum);
  const idrPicId = idr ? r.ue() : null;
  const isP = sliceType % 5 === 0;
  if (isP) {
    assert.equal(r.u(1), 0, 'num_ref_idx_active_override_flag');
    assert.equal(r.u(1), 0, 'ref_pic_list_modification_flag_l0');
  }
  if (idr) {
    assert.equal(r.u(1), 0, 'no_output_of_prior_pics_flag');
    assert.equal(r.u(1), 0, 'long_term_reference_flag');
  } else {
    assert.equal(r.u(1), 0, 'adaptive_ref_pic_marking_mode_flag');
  }
  r.se(); // slice_qp_delta
  const disableDeblocking = r.ue();

  const count = widthMbs * heightMbs;
  const mbs: ParsedMb[] = [];
  const isPcm = (addr: number) => mbs[addr]?.kind === 'pcm';
  while (mbs.length < count) {
    if (isP) {
      const run = r.ue();
      for (let i = 0; i < run; i++) mbs.push({ kind: 'skip' });
      assert.ok(mbs.length <= count, 'skip run past the end of the picture');
      if (mbs.length === count) break;
    }
    const addr = mbs.length;
    let mbType = r.ue();
    if (isP) {
      assert.ok(mbType >= 5, `P slices here carry only intra macroblocks, got mb_type ${mbType}`);
      mbType -= 5;
    }
    if (mbType === 25) {
      r.align();
      const samples = new Uint8Array(384);
      for (let i = 0; i < 384; i++) samples[i] = r.u(8);
      mbs.push({ kind: 'pcm', samples });
      continue;
    }
    assert.ok(mbType >= 1 && mbType <= 4, `I_16x16 with cbp 0, got mb_type ${mbType}`);
    const chromaMode = r.ue();
    assert.equal(r.se(), 0, 'mb_qp_delta');
    // nC for the Intra16x16DCLevel block: neighbours count 16 if I_PCM, else 0 (no coefficients).
    const x = addr % widthMbs;
    const hasA = x > 0;
    const hasB = addr >= widthMbs;
    const nA = hasA && isPcm(addr - 1) ? 16 : 0;
    const nB = hasB && isPcm(addr - widthMbs) ? 16 : 0;
    const nC = hasA && hasB ? (nA + nB + 1) >> 1 : hasA ? nA : hasB ? nB : 0;
    // coeff_token for TotalCoeff 0 in the nC table (0<=nC<2: 1, 2..3: 11, 4..7: 1111, >=8: 000011).
    const token = nC < 2 ? r.u(1) : nC < 4 ? r.u(2) : nC < 8 ? r.u(4) : r.u(6);
    const expected = nC < 2 ? 1 : nC < 4 ? 3 : nC < 8 ? 15 : 3;
    assert.equal(token, expected, `coeff_token with nC ${nC} at macroblock ${addr}`);
    mbs.push({ kind: 'i16', lumaMode: mbType - 1, chromaMode, nC });
  }
  assert.equal(r.u(1), 1, 'rbsp_stop_one_bit');
  assert.equal(r.align(), 0, 'rbsp_alignment_zero_bits');
  assert.equal(r.bitsLeft, 0, 'nothing after the slice data');
  return { idr, nalRefIdc: (nal[0] >> 5) & 3, sliceType, frameNum, idrPicId, disableDeblocking, mbs };
}
