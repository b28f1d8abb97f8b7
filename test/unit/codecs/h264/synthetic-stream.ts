// Hand-built H.264 Baseline NAL units for POC tests: 32x32, log2_max_frame_num 4, POC lsb 4 bits.
import { Buffer } from 'node:buffer';
import { addEmulationPrevention, BitWriter } from '../bitwriter.js';

/** An Annex-B byte stream of the NAL units, each after a 4-byte start code. */
export function annexB(nals: Buffer[]): Buffer {
  const start = Buffer.from([0, 0, 0, 1]);
  return Buffer.concat(nals.flatMap((n) => [start, n]));
}

function nal(header: number, w: BitWriter): Buffer {
  return Buffer.concat([Buffer.from([header]), addEmulationPrevention(w.trailing().toBuffer())]);
}

export function sps(pocType: number): Buffer {
  const w = new BitWriter().u(8, 66).u(8, 0).u(8, 30).ue(0).ue(0).ue(pocType);
  if (pocType === 0) w.ue(0);
  if (pocType === 1) w.flag(false).se(0).se(0).ue(0);
  w.ue(2).flag(false).ue(1).ue(1).flag(true).flag(true).flag(false).flag(false);
  return nal(0x67, w);
}

export function pps(): Buffer {
  const w = new BitWriter().ue(0).ue(0).flag(false).flag(false).ue(0).ue(0).ue(0).flag(false).u(2, 0);
  w.se(0).se(0).se(0).flag(false).flag(false).flag(false);
  return nal(0x68, w);
}

export function idr(lsb: number): Buffer {
  // I slice: first_mb, slice_type 7, pps 0, frame_num, idr_pic_id, poc lsb, dec_ref_pic_marking.
  const w = new BitWriter().ue(0).ue(7).ue(0).u(4, 0).ue(0).u(4, lsb).flag(false).flag(false);
  w.se(0); // slice_qp_delta: anything, the reader stops before
  return nal(0x65, w);
}

export function slice(
  kind: 'P' | 'B',
  lsb: number,
  frameNum: number,
  reference = true,
  mmco5 = false,
): Buffer {
  const w = new BitWriter()
    .ue(0)
    .ue(kind === 'P' ? 5 : 6)
    .ue(0)
    .u(4, frameNum)
    .u(4, lsb);
  if (kind === 'B') w.flag(true); // direct_spatial_mv_pred_flag
  w.flag(false); // num_ref_idx_active_override_flag
  w.flag(false); // ref_pic_list_modification_flag_l0
  if (kind === 'B') w.flag(false); // ..._l1
  if (reference) {
    w.flag(mmco5); // adaptive_ref_pic_marking_mode_flag
    if (mmco5) w.ue(5).ue(0);
  }
  w.se(0);
  return nal(reference ? 0x41 : 0x01, w);
}
