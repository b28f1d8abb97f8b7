import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MediaFormatError } from '../../../../src/codecs/errors.js';
import { H265AnnexBReader } from '../../../../src/codecs/h265/annexb.js';
import { h265FrameRate, parseH265Sps } from '../../../../src/codecs/h265/sps.js';
import { addEmulationPrevention, BitWriter } from '../bitwriter.js';
import { syntheticSps } from './synthetic-sps.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// Real SPS NAL units written by libx265 (ffmpeg 5.1, `-f lavfi -i testsrc2=size=WxH:rate=R -frames:v 1
// -c:v libx265 -preset ultrafast -crf 40 -f hevc`, options below); size, coded size, rate, SAR,
// profile and level checked against `ffprobe -show_entries stream=width,height,coded_width,...`.
/** The interop clip (640x480, 25 fps, Main, level 3). */
const SPS_640x480 = hex(
  '42010101600000030090000003000003005aa0050201e165ba4a4c2f016808000003000800000300c840',
);
/** 1920x1080 at 30 fps, Main, level 4: 1088 coded lines, conformance window bottom offset 4 (x2). */
const SPS_1080P = hex(
  '420101016000000300900000030000030078a003c0801107cb965654a4c2f0168080000003008000000f04',
);
/** -pix_fmt yuv420p10le, 1280x720 at 30000/1001: Main 10, level 3.1. */
const SPS_MAIN10_720P = hex(
  '42010102200000030090000003000003005da00280802d136595952930bc05a02000007d20000ea601',
);
/** -pix_fmt yuv422p10le, 1366x768 at 50: range extensions, 4:2:2 cropped 1376 → 1366 (right offset 5 x2). */
const SPS_422_1366x768 = hex(
  '4201010408000003009d08000003000078b002b080301cdb6595952930bc05a020000003002000000641',
);
/** -vf setsar=16/11, 720x576 at 25. */
const SPS_PAL_SAR = hex(
  '42010101600000030090000003000003005aa005a200905965654a4c2f046808000003000800000300c840',
);
/** 352x288 at 60, -preset medium -x265-params temporal-layers=1:bframes=3: two sub-layers. */
const SPS_TEMPORAL_LAYERS = hex(
  '42010201600000030090000003000003003f0000a00b080485965652b2c9265780b404000003000400000300f020',
);
/** -pix_fmt yuv444p, 320x240 at 24, -preset slow -x265-params scaling-list=default. */
const SPS_444 = hex('4201010408000003009e0800000300003c90014101e2cb2b349272bc05a02000000300200000030301');

describe('parseH265Sps on libx265 output', () => {
  it('640x480 25 fps: every field', () => {
    assert.deepEqual(parseH265Sps(SPS_640x480), {
      vpsId: 0,
      maxSubLayers: 1,
      temporalIdNesting: true,
      profileTierLevel: {
        profileSpace: 0,
        tierFlag: 0,
        profileIdc: 1,
        profileCompatibilityFlags: 0x60000000, // Main and Main 10 compatible
        constraintIndicatorFlags: hex('90 00 00 00 00 00'), // progressive, frame only
        levelIdc: 90,
      },
      spsId: 0,
      chromaFormatIdc: 1,
      separateColourPlane: false,
      codedWidth: 640,
      codedHeight: 480,
      conformanceWindow: null,
      width: 640,
      height: 480,
      bitDepthLuma: 8,
      bitDepthChroma: 8,
      log2MaxPicOrderCntLsb: 8,
      // These and the rest as `ffmpeg -bsf:v trace_headers` reads them.
      maxDecPicBuffering: 3,
      maxNumReorderPics: 0,
      log2MinLumaCodingBlockSize: 4,
      log2MaxLumaCodingBlockSize: 5,
      numShortTermRefPicSets: 0,
      longTermRefPicsPresent: false,
      vui: {
        sampleAspectRatio: { width: 1, height: 1 },
        fieldSeq: false,
        timing: { numUnitsInTick: 1, timeScale: 25 },
      },
      frameRate: 25,
    });
  });

  const cases: Array<{
    name: string;
    sps: Buffer;
    expect: {
      size: [number, number];
      coded: [number, number];
      rate: number;
      profile: number;
      level: number;
      chroma: number;
      depth: number;
      subLayers: number;
      sar: [number, number];
    };
  }> = [
    {
      name: '1920x1080 cropped from 1088',
      sps: SPS_1080P,
      expect: {
        size: [1920, 1080],
        coded: [1920, 1088],
        rate: 30,
        profile: 1,
        level: 120,
        chroma: 1,
        depth: 8,
        subLayers: 1,
        sar: [1, 1],
      },
    },
    {
      name: 'Main 10 720p at 30000/1001',
      sps: SPS_MAIN10_720P,
      expect: {
        size: [1280, 720],
        coded: [1280, 720],
        rate: 30000 / 1001,
        profile: 2,
        level: 93,
        chroma: 1,
        depth: 10,
        subLayers: 1,
        sar: [1, 1],
      },
    },
    {
      name: '4:2:2 10-bit 1366x768 cropped from 1376',
      sps: SPS_422_1366x768,
      expect: {
        size: [1366, 768],
        coded: [1376, 768],
        rate: 50,
        profile: 4,
        level: 120,
        chroma: 2,
        depth: 10,
        subLayers: 1,
        sar: [1, 1],
      },
    },
    {
      name: 'PAL with SAR 16:11',
      sps: SPS_PAL_SAR,
      expect: {
        size: [720, 576],
        coded: [720, 576],
        rate: 25,
        profile: 1,
        level: 90,
        chroma: 1,
        depth: 8,
        subLayers: 1,
        sar: [16, 11],
      },
    },
    {
      name: 'two temporal sub-layers',
      sps: SPS_TEMPORAL_LAYERS,
      expect: {
        size: [352, 288],
        coded: [352, 288],
        rate: 60,
        profile: 1,
        level: 63,
        chroma: 1,
        depth: 8,
        subLayers: 2,
        sar: [1, 1],
      },
    },
    {
      name: '4:4:4 with default scaling lists',
      sps: SPS_444,
      expect: {
        size: [320, 240],
        coded: [320, 240],
        rate: 24,
        profile: 4,
        level: 60,
        chroma: 3,
        depth: 8,
        subLayers: 1,
        sar: [1, 1],
      },
    },
  ];
  for (const { name, sps, expect } of cases) {
    it(name, () => {
      const info = parseH265Sps(sps);
      assert.deepEqual([info.width, info.height], expect.size);
      assert.deepEqual([info.codedWidth, info.codedHeight], expect.coded);
      assert.equal(info.frameRate, expect.rate);
      assert.equal(info.profileTierLevel.profileIdc, expect.profile);
      assert.equal(info.profileTierLevel.levelIdc, expect.level);
      assert.equal(info.chromaFormatIdc, expect.chroma);
      assert.equal(info.bitDepthLuma, expect.depth);
      assert.equal(info.bitDepthChroma, expect.depth);
      assert.equal(info.maxSubLayers, expect.subLayers);
      assert.deepEqual(info.vui?.sampleAspectRatio, { width: expect.sar[0], height: expect.sar[1] });
    });
  }

  it('reads the conformance window in chroma units', () => {
    assert.deepEqual(parseH265Sps(SPS_1080P).conformanceWindow, { left: 0, right: 0, top: 0, bottom: 4 });
    // 4:2:2: SubWidthC 2, SubHeightC 1.
    assert.deepEqual(parseH265Sps(SPS_422_1366x768).conformanceWindow, {
      left: 0,
      right: 5,
      top: 0,
      bottom: 0,
    });
  });
});

describe('parseH265Sps on a synthetic SPS', () => {
  // Checked field by field with `ffmpeg -bsf:v trace_headers` (VPS + this SPS + PPS in a .hevc file):
  // ffmpeg reads the same values and reaches rbsp_stop_one_bit at bit 1826.
  const SYNTHETIC = hex(
    '420105222000000300b00000030000030099d000022000000300b000000300000300787b22003c4801106892b65bc8a566' +
      '9244b69d3a74e9d153a74e9d3a2a74e9d3a754e9d3a74e9d3a74e9d3a74e9d3a74e9d3a74e8a9d3a74e9d3a74e9d3a74e9' +
      'd3a74e9d3a74e9d153a74e9d3a74e9d3a74e9d3a74e9d3a74e9d3a2674e9d3a74e9d3a74e9d3a74e9d3a74e9d3a74e8a74' +
      'e9d3a74e9d3a74e9d3a74e9d3a74e9d3a74e8a74e9d3a74e9d3a74e9d3a74e9d3a74e9d3a74ea74e9d3a74e9d3a74e9d3a' +
      '74e9d3a74e9d3a74e8bbbd48d6b5a745b10803ffc0010000ed40404078fc00000fa40003a98020',
  );

  it('is what the builder writes', () => {
    assert.deepEqual(syntheticSps(), SYNTHETIC);
  });

  it('walks sub-layer PTL, scaling lists, PCM, predicted RPS and long-term refs to the VUI timing', () => {
    const info = parseH265Sps(SYNTHETIC);
    assert.equal(info.maxSubLayers, 3);
    assert.deepEqual(info.profileTierLevel, {
      profileSpace: 0,
      tierFlag: 1,
      profileIdc: 2,
      profileCompatibilityFlags: 0x20000000,
      constraintIndicatorFlags: hex('b0 00 00 00 00 00'),
      levelIdc: 153,
    });
    assert.equal(info.spsId, 3);
    assert.deepEqual(info.conformanceWindow, { left: 1, right: 3, top: 0, bottom: 4 });
    assert.deepEqual([info.width, info.height], [1920, 1080]);
    assert.equal(info.bitDepthLuma, 10);
    assert.equal(info.maxDecPicBuffering, 5);
    assert.equal(info.maxNumReorderPics, 2);
    assert.equal(info.numShortTermRefPicSets, 3);
    assert.equal(info.longTermRefPicsPresent, true);
    assert.deepEqual(info.vui, {
      sampleAspectRatio: { width: 4, height: 3 },
      fieldSeq: false,
      timing: { numUnitsInTick: 1001, timeScale: 60000 },
    });
    assert.equal(info.frameRate, 60000 / 1001);
  });

  it('refuses the SPS of a layer other than 0', () => {
    assert.throws(() => parseH265Sps(syntheticSps({ layerId: 1 })), MediaFormatError);
  });
});

/**
 * A minimal SPS: one sub-layer, `width` x `height`, optional conformance window, no VUI; chroma
 * format 1 (4:2:0) unless given, 3 + true for separate colour planes.
 */
function minimalSps(
  width: number,
  height: number,
  crop?: [number, number, number, number],
  chroma = 1,
  separatePlanes = false,
): Buffer {
  const w = new BitWriter();
  w.u(16, 0x4201).u(4, 0).u(3, 0).flag(true);
  w.u(8, 0x01).u(32, 0x60000000).u(16, 0x9000).u(32, 0).u(8, 90);
  w.ue(0).ue(chroma);
  if (chroma === 3) w.flag(separatePlanes);
  w.ue(width).ue(height);
  if (crop) w.flag(true).ue(crop[0]).ue(crop[1]).ue(crop[2]).ue(crop[3]);
  else w.flag(false);
  w.ue(0).ue(0).ue(4).flag(true).ue(0).ue(0).ue(0);
  w.ue(0).ue(2).ue(0).ue(3).ue(0).ue(0);
  w.flag(false).flag(false).flag(true).flag(false).ue(0).flag(false).flag(true).flag(true);
  w.flag(false).flag(false).trailing();
  const rbsp = w.toBuffer();
  return Buffer.concat([rbsp.subarray(0, 2), addEmulationPrevention(rbsp.subarray(2))]);
}

describe('parseH265Sps errors', () => {
  it('reads a minimal SPS without VUI (no frame rate)', () => {
    const info = parseH265Sps(minimalSps(64, 48, [0, 4, 0, 0]));
    assert.deepEqual([info.width, info.height], [56, 48]);
    assert.equal(info.vui, null);
    assert.equal(info.frameRate, null);
  });

  it('scales the conformance window by SubWidthC / SubHeightC of the chroma format (table 6-1)', () => {
    const size = (sps: Buffer) => {
      const info = parseH265Sps(sps);
      return [info.width, info.height];
    };
    const crop: [number, number, number, number] = [1, 2, 3, 4];
    assert.deepEqual(size(minimalSps(64, 48, crop, 0)), [64 - 3, 48 - 7]); // 4:0:0: units of 1
    assert.deepEqual(size(minimalSps(64, 48, crop, 1)), [64 - 6, 48 - 14]); // 4:2:0: 2 x 2
    assert.deepEqual(size(minimalSps(64, 48, crop, 2)), [64 - 6, 48 - 7]); // 4:2:2: 2 x 1
    assert.deepEqual(size(minimalSps(64, 48, crop, 3)), [64 - 3, 48 - 7]); // 4:4:4: 1 x 1
    assert.deepEqual(size(minimalSps(64, 48, crop, 3, true)), [64 - 3, 48 - 7]); // separate planes
    assert.equal(parseH265Sps(minimalSps(64, 48, crop, 3, true)).separateColourPlane, true);
  });

  it('throws MediaFormatError for every truncation of a real SPS', () => {
    for (let n = 0; n < SPS_640x480.length - 1; n++) {
      assert.throws(() => parseH265Sps(SPS_640x480.subarray(0, n)), MediaFormatError, `${n} bytes`);
    }
  });

  it('refuses other NAL types, an empty picture and a window that leaves nothing', () => {
    assert.throws(() => parseH265Sps(hex('40010c01ffff0160')), /NAL type 32 is not an SPS/);
    assert.throws(() => parseH265Sps(minimalSps(0, 48)), MediaFormatError);
    assert.throws(() => parseH265Sps(minimalSps(64, 48, [16, 16, 0, 0])), /leaves no picture/);
  });

  it('throws only MediaFormatError on random bytes after a valid start (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 80 }), (tail) => {
        const nal = Buffer.concat([SPS_640x480.subarray(0, 15), Buffer.from(tail)]);
        try {
          const info = parseH265Sps(nal);
          assert.ok(info.width > 0 && info.height > 0);
        } catch (err) {
          assert.ok(err instanceof MediaFormatError, String(err));
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('h265FrameRate', () => {
  it('reads the rate from the SPS of an access unit, null without one', () => {
    const reader = new H265AnnexBReader();
    const file = readFileSync(new URL('./fixtures/clip-640x480-25fps.hevc', import.meta.url));
    const aus = [...reader.push(file), ...reader.flush()];
    assert.equal(h265FrameRate(aus[0]), 25);
    assert.equal(h265FrameRate(aus[1]), null);
    assert.equal(h265FrameRate([SPS_MAIN10_720P]), 30000 / 1001);
    assert.equal(h265FrameRate([minimalSps(64, 48)]), null);
    assert.equal(h265FrameRate([SPS_640x480.subarray(0, 10)]), null);
  });
});
