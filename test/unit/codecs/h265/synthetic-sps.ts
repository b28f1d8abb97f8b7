/**
 * Test-only: an H.265 SPS exercising the syntax libx265 never writes (sub-layer profile/level,
 * scaling_list_data, PCM, inter-predicted short-term RPS, long-term refs, a full VUI up to timing),
 * so the parser must walk every branch to reach the VUI timing info at the end.
 */
import { Buffer } from 'node:buffer';
import { addEmulationPrevention, BitWriter } from '../bitwriter.js';

export interface SyntheticSpsOptions {
  /** nuh_layer_id of the NAL header (default 0). */
  layerId?: number;
}

export function syntheticSps(options: SyntheticSpsOptions = {}): Buffer {
  const layerId = options.layerId ?? 0;
  const w = new BitWriter();
  // NAL header: F 0, type 33, layer, tid+1 = 1.
  w.u(1, 0).u(6, 33).u(6, layerId).u(3, 1);
  w.u(4, 0).u(3, 2).flag(true); // vps id, sps_max_sub_layers_minus1 = 2, temporal_id_nesting
  // profile_tier_level: Main 10, High tier, level 5.1.
  w.u(2, 0).u(1, 1).u(5, 2).u(32, 0x20000000);
  w.u(8, 0xb0).u(8, 0).u(8, 0).u(8, 0).u(8, 0).u(8, 0);
  w.u(8, 153);
  w.flag(true).flag(true); // sub-layer 0: profile and level present
  w.flag(false).flag(true); // sub-layer 1: level present
  for (let i = 2; i < 8; i++) w.u(2, 0);
  w.u(2, 0).u(1, 0).u(5, 2).u(32, 0x20000000).u(16, 0xb000).u(32, 0); // sub-layer 0 profile (88 bits)
  w.u(8, 120); // sub-layer 0 level
  w.u(8, 123); // sub-layer 1 level
  w.ue(3); // sps_seq_parameter_set_id
  w.ue(1); // chroma_format_idc 4:2:0
  w.ue(1928).ue(1088); // coded size
  w.flag(true).ue(1).ue(3).ue(0).ue(4); // conformance window: 2 + 6 columns, 8 rows
  w.ue(2).ue(2); // 10-bit
  w.ue(4); // log2_max_pic_order_cnt_lsb_minus4 → 8 bits
  w.flag(true); // sub_layer_ordering_info_present
  for (const [dpb, reorder, latency] of [
    [2, 0, 0],
    [3, 1, 0],
    [4, 2, 5],
  ]) {
    w.ue(dpb).ue(reorder).ue(latency);
  }
  w.ue(0).ue(3).ue(0).ue(3).ue(1).ue(1); // block sizes, transform hierarchy depths
  w.flag(true).flag(true); // scaling_list_enabled, sps_scaling_list_data_present
  for (let sizeId = 0; sizeId < 4; sizeId++) {
    for (let matrixId = 0; matrixId < 6; matrixId += sizeId === 3 ? 3 : 1) {
      if ((sizeId + matrixId) % 2 === 0) {
        w.flag(false).ue(matrixId === 0 ? 0 : 1); // predicted from a reference list
      } else {
        w.flag(true);
        if (sizeId > 1) w.se(-3); // scaling_list_dc_coef_minus8
        const coefNum = Math.min(64, 1 << (4 + (sizeId << 1)));
        for (let i = 0; i < coefNum; i++) w.se(i % 3 === 0 ? 1 : i % 3 === 1 ? -1 : 0);
      }
    }
  }
  w.flag(true).flag(true); // amp, sao
  w.flag(true).u(4, 7).u(4, 7).ue(0).ue(1).flag(true); // pcm
  w.ue(3); // num_short_term_ref_pic_sets
  // RPS 0: two negative pictures, one positive.
  w.ue(2).ue(1);
  w.ue(0).flag(true).ue(1).flag(true);
  w.ue(0).flag(false);
  // RPS 1, predicted from RPS 0 {S0 -1 -2, S1 +1} with deltaRps +1; 4 entries (3 pictures + deltaRps):
  // -1+1 = 0 used (dropped: a delta POC of 0), -2+1 = -1 use_delta, +1+1 not used, deltaRps +1 used.
  // So RPS 1 = {S0 -1, S1 +1}: 2 pictures, not 3 — the next set reads 3 entries.
  w.flag(true).flag(false).ue(0);
  w.flag(true).flag(false).flag(true).flag(false).flag(false).flag(true);
  // RPS 2, predicted from RPS 1 with deltaRps -2: -1-2 not used, +1-2 used, deltaRps -2 use_delta.
  w.flag(true).flag(true).ue(1);
  w.flag(false).flag(false).flag(true).flag(false).flag(true);
  w.flag(true).ue(2).u(8, 0x10).flag(true).u(8, 0x00).flag(false); // long-term refs
  w.flag(true).flag(true); // temporal mvp, strong intra smoothing
  w.flag(true); // vui_parameters_present
  w.flag(true).u(8, 255).u(16, 4).u(16, 3); // SAR 4:3
  w.flag(true).flag(false); // overscan
  w.flag(true).u(3, 5).flag(false).flag(true).u(8, 1).u(8, 1).u(8, 1); // video signal, colour description
  w.flag(true).ue(0).ue(0); // chroma loc
  w.flag(false).flag(false).flag(false); // neutral chroma, field_seq, frame_field_info
  w.flag(true).ue(0).ue(0).ue(0).ue(0); // default display window
  w.flag(true).u(32, 1001).u(32, 60000).flag(false).flag(false); // timing, poc proportional, hrd
  w.flag(false); // bitstream_restriction
  w.flag(false); // sps_extension_present
  w.trailing();
  const rbsp = w.toBuffer();
  return Buffer.concat([rbsp.subarray(0, 2), addEmulationPrevention(rbsp.subarray(2))]);
}
