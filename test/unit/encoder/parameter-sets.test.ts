import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MediaFormatError } from '../../../src/codecs/errors.js';
import {
  chooseLevel,
  makeSequenceParams,
  profileLevelId,
  writePps,
  writeSps,
} from '../../../src/codecs/h264/encoder/parameter-sets.js';
import { stripEpb, TestBitReader } from './bits.js';

/** Parses the SPS fields this encoder writes (Baseline: no chroma_format_idc / scaling lists). */
function parseSps(nal: Uint8Array) {
  assert.equal(nal[0], 0x67, 'NAL header: ref_idc 3, type 7');
  const r = new TestBitReader(stripEpb(nal.subarray(1)));
  const sps = {
    profileIdc: r.u(8),
    constraintFlags: r.u(8),
    levelIdc: r.u(8),
    spsId: r.ue(),
    log2MaxFrameNum: r.ue() + 4,
    pocType: r.ue(),
    maxNumRefFrames: r.ue(),
    gaps: r.u(1),
    widthMbs: r.ue() + 1,
    heightMbs: r.ue() + 1,
    frameMbsOnly: r.u(1),
    direct8x8: r.u(1),
    crop: [0, 0, 0, 0],
    vui: {} as Record<string, number>,
  };
  if (r.u(1)) sps.crop = [r.ue(), r.ue(), r.ue(), r.ue()];
  assert.equal(r.u(1), 1, 'vui_parameters_present_flag');
  const v = sps.vui;
  v.aspectRatioInfo = r.u(1);
  v.overscanInfo = r.u(1);
  v.videoSignalType = r.u(1);
  v.chromaLocInfo = r.u(1);
  v.timingInfo = r.u(1);
  v.numUnitsInTick = r.u(32);
  v.timeScale = r.u(32);
  v.fixedFrameRate = r.u(1);
  v.nalHrd = r.u(1);
  v.vclHrd = r.u(1);
  v.picStruct = r.u(1);
  v.bitstreamRestriction = r.u(1);
  v.mvOverPicBoundaries = r.u(1);
  v.maxBytesPerPicDenom = r.ue();
  v.maxBitsPerMbDenom = r.ue();
  v.log2MaxMvLengthH = r.ue();
  v.log2MaxMvLengthV = r.ue();
  v.maxNumReorderFrames = r.ue();
  v.maxDecFrameBuffering = r.ue();
  assert.equal(r.u(1), 1, 'rbsp_stop_one_bit');
  assert.equal(r.align(), 0);
  assert.equal(r.bitsLeft, 0, 'nothing after the trailing bits');
  const width = sps.widthMbs * 16 - 2 * (sps.crop[0] + sps.crop[1]);
  const height = sps.heightMbs * 16 - 2 * (sps.crop[2] + sps.crop[3]);
  return { ...sps, width, height, fps: v.timeScale / (2 * v.numUnitsInTick) };
}

describe('SPS', () => {
  it('is Constrained Baseline with the picture size, frame rate and no reordering', () => {
    const sps = parseSps(writeSps(makeSequenceParams({ width: 640, height: 480, fps: 25 })));
    assert.equal(sps.profileIdc, 66);
    assert.equal(sps.constraintFlags & 0x40, 0x40, 'constraint_set1_flag');
    assert.equal(sps.constraintFlags & 0x03, 0, 'reserved_zero_2bits');
    assert.equal(sps.levelIdc, 30);
    assert.equal(sps.pocType, 2);
    assert.equal(sps.maxNumRefFrames, 1);
    assert.equal(sps.frameMbsOnly, 1);
    assert.deepEqual([sps.widthMbs, sps.heightMbs], [40, 30]);
    assert.deepEqual(sps.crop, [0, 0, 0, 0]);
    assert.deepEqual([sps.width, sps.height], [640, 480]);
    assert.equal(sps.vui.timingInfo, 1);
    assert.equal(sps.vui.numUnitsInTick, 1);
    assert.equal(sps.vui.timeScale, 50);
    assert.equal(sps.vui.fixedFrameRate, 1);
    assert.equal(sps.fps, 25);
    assert.equal(sps.vui.bitstreamRestriction, 1);
    assert.equal(sps.vui.maxNumReorderFrames, 0);
    assert.ok(sps.vui.maxDecFrameBuffering >= sps.maxNumRefFrames);
  });

  it('crops sizes that are not multiples of 16 (1080p, odd macroblock counts)', () => {
    const p1080 = parseSps(writeSps(makeSequenceParams({ width: 1920, height: 1080, fps: 30 })));
    assert.deepEqual([p1080.widthMbs, p1080.heightMbs], [120, 68]);
    assert.deepEqual(p1080.crop, [0, 0, 0, 4]);
    assert.deepEqual([p1080.width, p1080.height, p1080.fps, p1080.levelIdc], [1920, 1080, 30, 40]);

    const odd = parseSps(
      writeSps(makeSequenceParams({ width: 350, height: 202, fps: 15, log2MaxFrameNum: 5 })),
    );
    assert.deepEqual([odd.widthMbs, odd.heightMbs], [22, 13]);
    assert.deepEqual(odd.crop, [0, 1, 0, 3]);
    assert.deepEqual([odd.width, odd.height, odd.fps, odd.log2MaxFrameNum], [350, 202, 15, 5]);
  });

  it('720p30 is level 3.1 and its profile-level-id says so', () => {
    const params = makeSequenceParams({ width: 1280, height: 720, fps: 30 });
    assert.equal(parseSps(writeSps(params)).levelIdc, 31);
    assert.equal(profileLevelId(params), '42c01f');
    assert.equal(profileLevelId(makeSequenceParams({ width: 640, height: 480, fps: 25 })), '42c01e');
  });
});

describe('chooseLevel', () => {
  it('picks the lowest level whose macroblock rate and frame size fit (never below 3.0)', () => {
    assert.equal(chooseLevel(40, 30, 25), 30); // 640x480@25: 30000 MB/s
    assert.equal(chooseLevel(40, 30, 30), 30); // 36000 MB/s
    assert.equal(chooseLevel(40, 30, 60), 31); // 72000 MB/s > 40500
    assert.equal(chooseLevel(80, 45, 30), 31); // 720p30: 108000 MB/s exactly
    assert.equal(chooseLevel(80, 45, 60), 32);
    assert.equal(chooseLevel(120, 68, 25), 40); // 1080p25: frame size > 5120 MBs
    assert.equal(chooseLevel(120, 68, 30), 40);
    assert.equal(chooseLevel(120, 68, 60), 42);
    assert.equal(chooseLevel(20, 15, 25), 30, 'floor');
    assert.equal(chooseLevel(20, 15, 25, 10), 13, 'without the floor');
  });

  it('respects the per-dimension limit, and rejects what no level allows', () => {
    // 1620 MBs fits level 3.0 by area, but 200 MBs wide exceeds sqrt(8 * 1620) = 113.8.
    assert.equal(chooseLevel(200, 8, 1), 32);
    assert.throws(() => chooseLevel(600, 600, 30), MediaFormatError);
  });

  it('rejects bad sizes and rates', () => {
    assert.throws(() => makeSequenceParams({ width: 641, height: 480, fps: 25 }), MediaFormatError);
    assert.throws(() => makeSequenceParams({ width: 640, height: 8, fps: 25 }), MediaFormatError);
    assert.throws(() => makeSequenceParams({ width: 640, height: 480, fps: 29.97 }), MediaFormatError);
    assert.throws(() => makeSequenceParams({ width: 640, height: 480, fps: 0 }), MediaFormatError);
    assert.throws(
      () => makeSequenceParams({ width: 640, height: 480, fps: 25, log2MaxFrameNum: 17 }),
      MediaFormatError,
    );
  });
});

describe('PPS', () => {
  it('is CAVLC, one slice group, deblocking control present, no constrained intra', () => {
    const nal = writePps();
    assert.equal(nal[0], 0x68);
    const r = new TestBitReader(stripEpb(nal.subarray(1)));
    assert.equal(r.ue(), 0, 'pps id');
    assert.equal(r.ue(), 0, 'sps id');
    assert.equal(r.u(1), 0, 'entropy_coding_mode_flag');
    assert.equal(r.u(1), 0, 'bottom_field_pic_order_in_frame_present_flag');
    assert.equal(r.ue(), 0, 'num_slice_groups_minus1');
    assert.equal(r.ue(), 0, 'num_ref_idx_l0_default_active_minus1');
    assert.equal(r.ue(), 0, 'num_ref_idx_l1_default_active_minus1');
    assert.equal(r.u(1), 0, 'weighted_pred_flag');
    assert.equal(r.u(2), 0, 'weighted_bipred_idc');
    assert.equal(r.se(), 0, 'pic_init_qp_minus26');
    assert.equal(r.se(), 0, 'pic_init_qs_minus26');
    assert.equal(r.se(), 0, 'chroma_qp_index_offset');
    assert.equal(r.u(1), 1, 'deblocking_filter_control_present_flag');
    assert.equal(r.u(1), 0, 'constrained_intra_pred_flag');
    assert.equal(r.u(1), 0, 'redundant_pic_cnt_present_flag');
    assert.equal(r.u(1), 1, 'stop bit');
    assert.equal(r.align(), 0);
    assert.equal(r.bitsLeft, 0);
  });
});
