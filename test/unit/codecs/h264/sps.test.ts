import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MediaFormatError } from '../../../../src/codecs/errors.js';
import { parseSps } from '../../../../src/codecs/h264/sps.js';
import { addEmulationPrevention, BitWriter } from '../bitwriter.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// Real SPS NAL units written by libx264 (ffmpeg 5.1, testsrc); width, height, frame rate and SAR
// checked against ffprobe.
/** -profile:v baseline, 640x480, 25 fps */
const SPS_BASELINE_640x480 = hex('6742c01ed900a03db011000003000100000300320f162e48');
/** -profile:v high, 1920x1080, 30 fps: 1088 coded lines, cropped by 8 */
const SPS_HIGH_1080P = hex('67640028acd940780227e5c044000003000400000300f03c60c658');
/** -profile:v high -x264-params interlaced=1, 1280x720, 50 fields/s (MBAFF) */
const SPS_HIGH_720_INTERLACED = hex('67640020acd940500bbf2e0220000003002000000c83e2c5b2c0');
/** -profile:v high444 -pix_fmt yuv444p, 352x288, 30 fps */
const SPS_HIGH444_CIF = hex('67f4000d919b282c12d80880000003008000001e078a14cb');
/** -profile:v main, 1918x1078 at 24000/1001: odd cropping on right and bottom */
const SPS_MAIN_1918x1078 = hex('674d4028eca03c0113d4d808800001f480005dc0078c18cb');
/** -profile:v main -vf setsar=16/11, 720x576, 25 fps */
const SPS_MAIN_PAL_SAR = hex('674d401eeca05a09360820000003002000000641e2c5b2c0');
/** -profile:v high10 -pix_fmt yuv420p10le, 640x360, 30 fps */
const SPS_HIGH10_360P = hex('676e001ea6cd940a02ff970110000003001000000303c0f162d960');

describe('parseSps on libx264 output', () => {
  it('baseline 640x480 25 fps', () => {
    assert.deepEqual(parseSps(SPS_BASELINE_640x480), {
      profileIdc: 66,
      constraintFlags: 0xc0,
      levelIdc: 30,
      spsId: 0,
      chromaFormatIdc: 1,
      separateColourPlane: false,
      bitDepthLuma: 8,
      bitDepthChroma: 8,
      log2MaxFrameNum: 4,
      picOrderCntType: 2,
      log2MaxPicOrderCntLsb: 0,
      deltaPicOrderAlwaysZero: false,
      offsetForNonRefPic: 0,
      offsetForTopToBottomField: 0,
      offsetForRefFrame: [],
      maxNumRefFrames: 3,
      gapsInFrameNumAllowed: false,
      picWidthInMbs: 40,
      picHeightInMapUnits: 30,
      frameMbsOnly: true,
      mbAdaptiveFrameField: false,
      direct8x8Inference: true,
      crop: null,
      width: 640,
      height: 480,
      vui: {
        sampleAspectRatio: { width: 1, height: 1 },
        timing: { numUnitsInTick: 1, timeScale: 50, fixedFrameRate: false },
      },
      frameRate: 25,
    });
  });

  it('high profile 1920x1080: cropping 1088 → 1080', () => {
    const sps = parseSps(SPS_HIGH_1080P);
    assert.equal(sps.profileIdc, 100);
    assert.equal(sps.levelIdc, 40);
    assert.equal(sps.chromaFormatIdc, 1);
    assert.equal(sps.picOrderCntType, 0);
    assert.equal(sps.log2MaxPicOrderCntLsb, 6);
    assert.equal(sps.picWidthInMbs, 120);
    assert.equal(sps.picHeightInMapUnits, 68);
    assert.deepEqual(sps.crop, { left: 0, right: 0, top: 0, bottom: 4 });
    assert.equal(sps.width, 1920);
    assert.equal(sps.height, 1080);
    assert.equal(sps.frameRate, 30);
  });

  it('interlaced 720 lines: field map units and doubled crop unit', () => {
    const sps = parseSps(SPS_HIGH_720_INTERLACED);
    assert.equal(sps.frameMbsOnly, false);
    assert.equal(sps.mbAdaptiveFrameField, true);
    assert.equal(sps.picHeightInMapUnits, 23); // 23 * 2 * 16 = 736
    assert.deepEqual(sps.crop, { left: 0, right: 0, top: 0, bottom: 4 }); // 4 * 4 = 16 lines
    assert.deepEqual([sps.width, sps.height], [1280, 720]);
    assert.equal(sps.frameRate, 50);
  });

  it('high 4:4:4 CIF', () => {
    const sps = parseSps(SPS_HIGH444_CIF);
    assert.equal(sps.profileIdc, 244);
    assert.equal(sps.chromaFormatIdc, 3);
    assert.equal(sps.separateColourPlane, false);
    assert.deepEqual([sps.width, sps.height, sps.frameRate], [352, 288, 30]);
  });

  it('main 1918x1078 at 23.976 fps', () => {
    const sps = parseSps(SPS_MAIN_1918x1078);
    assert.equal(sps.profileIdc, 77);
    assert.equal(sps.constraintFlags, 0x40);
    assert.deepEqual(sps.crop, { left: 0, right: 1, top: 0, bottom: 5 });
    assert.deepEqual([sps.width, sps.height], [1918, 1078]);
    assert.deepEqual(sps.vui?.timing, { numUnitsInTick: 1001, timeScale: 48000, fixedFrameRate: false });
    assert.equal(sps.frameRate, 48000 / 2002);
  });

  it('sample aspect ratio 16:11 from the table', () => {
    const sps = parseSps(SPS_MAIN_PAL_SAR);
    assert.deepEqual(sps.vui?.sampleAspectRatio, { width: 16, height: 11 });
    assert.deepEqual([sps.width, sps.height, sps.frameRate], [720, 576, 25]);
  });

  it('high 10: bit depths', () => {
    const sps = parseSps(SPS_HIGH10_360P);
    assert.equal(sps.profileIdc, 110);
    assert.deepEqual([sps.bitDepthLuma, sps.bitDepthChroma], [10, 10]);
    assert.deepEqual([sps.width, sps.height, sps.frameRate], [640, 360, 30]);
  });
});

/** Writes a scaling list as delta_scale values; `values` are the coded deltas (stops after a 0 scale). */
function scalingList(w: BitWriter, deltas: number[]): void {
  for (const d of deltas) w.se(d);
}

describe('parseSps on synthetic SPS', () => {
  it('skips scaling lists (including "use default" early ends) and reads POC type 1, VUI extras', () => {
    const w = new BitWriter();
    w.u(8, 100).u(8, 0).u(8, 41).ue(1); // profile High, level 4.1, sps id 1
    w.ue(1).ue(0).ue(0).flag(false); // 4:2:0, 8 bit, no bypass
    w.flag(true); // seq_scaling_matrix_present_flag
    w.flag(true);
    scalingList(
      w,
      Array.from({ length: 16 }, (_, j) => (j % 3) - 1),
    ); // list 0: 16 explicit deltas
    w.flag(false); // list 1 absent
    w.flag(true);
    scalingList(w, [-8]); // list 2: first scale 0 → use default, nothing more coded
    w.flag(false).flag(false).flag(false); // lists 3..5
    w.flag(true);
    scalingList(
      w,
      Array.from({ length: 64 }, (_, j) => (j % 2 ? 3 : -3)),
    ); // list 6 (8x8)
    w.flag(true);
    scalingList(w, [4, 4, 4, 4, -24]); // list 7: 8 → 12 → 16 → 20 → 24 → 0: stops after 5
    w.ue(2); // log2_max_frame_num_minus4
    w.ue(1).flag(true).se(-1).se(2).ue(3).se(5).se(-6).se(7); // POC type 1
    w.ue(2).flag(true); // max_num_ref_frames, gaps allowed
    w.ue(119).ue(33); // 1920 wide, 34 map units
    w.flag(false).flag(true).flag(true); // fields, MBAFF, direct 8x8
    w.flag(true).ue(0).ue(0).ue(0).ue(2); // crop bottom 2 units of 4 lines
    w.flag(true); // VUI
    w.flag(true).u(8, 255).u(16, 4).u(16, 3); // extended SAR 4:3
    w.flag(true).flag(false); // overscan
    w.flag(true).u(3, 5).flag(true).flag(true).u(8, 1).u(8, 1).u(8, 1); // video signal + colour
    w.flag(true).ue(0).ue(0); // chroma location
    w.flag(true).u(32, 1001).u(32, 60000).flag(true); // timing
    w.flag(false).flag(false).flag(false).flag(false); // no HRD, no pic_struct, no restriction
    w.trailing();
    const nal = Buffer.concat([hex('67'), addEmulationPrevention(w.toBuffer())]);

    const sps = parseSps(nal);
    assert.equal(sps.spsId, 1);
    assert.equal(sps.levelIdc, 41);
    assert.equal(sps.log2MaxFrameNum, 6);
    assert.equal(sps.picOrderCntType, 1);
    assert.equal(sps.deltaPicOrderAlwaysZero, true);
    assert.equal(sps.offsetForNonRefPic, -1);
    assert.equal(sps.offsetForTopToBottomField, 2);
    assert.deepEqual(sps.offsetForRefFrame, [5, -6, 7]);
    assert.equal(sps.maxNumRefFrames, 2);
    assert.equal(sps.gapsInFrameNumAllowed, true);
    assert.equal(sps.mbAdaptiveFrameField, true);
    assert.deepEqual([sps.width, sps.height], [1920, 1080]);
    assert.deepEqual(sps.vui, {
      sampleAspectRatio: { width: 4, height: 3 },
      timing: { numUnitsInTick: 1001, timeScale: 60000, fixedFrameRate: true },
    });
    assert.equal(sps.frameRate, 60000 / 2002);
  });

  it('reads 12 scaling list flags for 4:4:4 and uses crop unit 1 for separate colour planes', () => {
    const w = new BitWriter();
    w.u(8, 244).u(8, 0).u(8, 30).ue(0);
    w.ue(3).flag(true).ue(2).ue(2).flag(false); // 4:4:4 separate planes, 10 bit
    w.flag(true);
    for (let i = 0; i < 12; i++) {
      w.flag(i >= 6); // only the six 8x8 lists
      if (i >= 6) scalingList(w, [1, ...new Array(63).fill(0)]);
    }
    w.ue(0).ue(2); // log2_max_frame_num 4, POC type 2
    w.ue(1).flag(false);
    w.ue(21).ue(17).flag(true).flag(false); // 352x288 progressive
    w.flag(true).ue(1).ue(3).ue(2).ue(5); // crop in single samples
    w.flag(false); // no VUI
    w.trailing();
    const sps = parseSps(Buffer.concat([hex('67'), addEmulationPrevention(w.toBuffer())]));
    assert.equal(sps.chromaFormatIdc, 3);
    assert.equal(sps.separateColourPlane, true);
    assert.equal(sps.bitDepthLuma, 10);
    assert.deepEqual([sps.width, sps.height], [352 - 4, 288 - 7]);
    assert.equal(sps.vui, null);
    assert.equal(sps.frameRate, null);
  });

  it('uses 4:2:2 crop units (2 wide, 1 high)', () => {
    const w = new BitWriter();
    w.u(8, 122).u(8, 0).u(8, 40).ue(0);
    w.ue(2).ue(0).ue(0).flag(false).flag(false); // 4:2:2, no scaling
    w.ue(0).ue(2).ue(1).flag(false);
    w.ue(119).ue(67).flag(true).flag(true);
    w.flag(true).ue(1).ue(1).ue(2).ue(6); // 1920 - 4, 1088 - 8
    w.flag(false).trailing();
    const sps = parseSps(Buffer.concat([hex('67'), addEmulationPrevention(w.toBuffer())]));
    assert.deepEqual([sps.width, sps.height], [1916, 1080]);
  });
});

describe('parseSps errors', () => {
  const isMediaFormatError = (err: unknown) =>
    err instanceof MediaFormatError && err.code === 'ERR_MEDIA_FORMAT';

  it('throws MediaFormatError on a truncated SPS', () => {
    assert.throws(() => parseSps(SPS_HIGH_1080P.subarray(0, 6)), isMediaFormatError);
    assert.throws(() => parseSps(SPS_BASELINE_640x480.subarray(0, 9)), /truncated/);
    assert.throws(() => parseSps(SPS_BASELINE_640x480.subarray(0, 3)), /too short/);
  });

  it('throws MediaFormatError on a NAL unit that is not an SPS', () => {
    assert.throws(() => parseSps(hex('68ce3c80')), /not an SPS/);
  });

  it('throws MediaFormatError on out-of-range fields', () => {
    const w = new BitWriter().u(8, 66).u(8, 0).u(8, 30).ue(32).trailing(); // sps id 32
    assert.throws(() => parseSps(Buffer.concat([hex('67'), w.toBuffer()])), /seq_parameter_set_id 32/);
    const crop = new BitWriter().u(8, 66).u(8, 0).u(8, 30).ue(0).ue(0).ue(2).ue(0).flag(false);
    crop.ue(0).ue(0).flag(true).flag(true).flag(true).ue(0).ue(0).ue(8).ue(0).flag(false).trailing();
    assert.throws(() => parseSps(Buffer.concat([hex('67'), crop.toBuffer()])), /cropping leaves no picture/);
  });

  it('every prefix of a real SPS parses or throws MediaFormatError', () => {
    for (const sps of [SPS_HIGH_1080P, SPS_MAIN_1918x1078, SPS_HIGH444_CIF]) {
      for (let n = 0; n < sps.length; n++) {
        try {
          parseSps(sps.subarray(0, n));
        } catch (err) {
          assert.ok(isMediaFormatError(err), `prefix ${n}: ${err}`);
        }
      }
    }
  });

  it('never throws anything but MediaFormatError on arbitrary bytes (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(66, 77, 100, 244), fc.uint8Array({ maxLength: 40 }), (profile, rest) => {
        try {
          parseSps(Buffer.concat([Buffer.from([0x67, profile]), rest]));
        } catch (err) {
          if (!isMediaFormatError(err)) throw err;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
