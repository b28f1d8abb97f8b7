// The test pattern encoder is lossless (I_PCM, residual-free I_16x16, P_Skip; deblocking off), so
// real decoders must output exactly the pictures it drew. Decode with ffmpeg and GStreamer and
// compare every frame bit for bit.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { H264LosslessEncoder } from '../../src/codecs/h264/encoder/encoder.js';
import { allocatePicture, cropPicture, type Yuv420Picture } from '../../src/codecs/h264/encoder/picture.js';
import { parseTimestampSei } from '../../src/codecs/h264/encoder/sei.js';
import {
  TestPatternEncoder,
  type TestPatternOptions,
} from '../../src/sources/testpattern/test-pattern-encoder.js';
import { requireTools, run } from '../helpers/tools.js';

interface Case extends TestPatternOptions {
  width: number;
  height: number;
  fps: number;
  frames: number;
  /** Frame indices before which a keyframe is requested (mid-GOP IDR). */
  keyframeRequests?: number[];
}

interface Encoded {
  file: string;
  frames: number;
  frameSize: number;
  /** The pictures the encoder drew, concatenated I420. */
  expected: Buffer;
  keyframes: number;
}

const START_MS = Date.UTC(2024, 6, 14, 23, 59, 58, 500);
let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'smolrtsp-testpattern-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const START_CODE = Buffer.of(0, 0, 0, 1);

function encodeToFile(name: string, c: Case): Encoded {
  const enc = new TestPatternEncoder(c);
  const chunks: Buffer[] = [];
  const pictures: Buffer[] = [];
  let keyframes = 0;
  for (let f = 0; f < c.frames; f++) {
    if (c.keyframeRequests?.includes(f)) enc.requestKeyframe();
    const wall = START_MS + (f * 1000) / c.fps;
    const { nalus, keyframe } = enc.encodeFrame(f, wall);
    if (keyframe) keyframes++;
    const sei = parseTimestampSei(nalus[keyframe ? 2 : 0]);
    assert.equal(sei?.frameNumber, f);
    for (const nal of nalus) chunks.push(START_CODE, nal);
    const pic = enc.lastPicture();
    pictures.push(Buffer.from(pic.y), Buffer.from(pic.u), Buffer.from(pic.v));
  }
  const file = join(dir, `${name}.264`);
  writeFileSync(file, Buffer.concat(chunks));
  return {
    file,
    frames: c.frames,
    frameSize: (c.width * c.height * 3) / 2,
    expected: Buffer.concat(pictures),
    keyframes,
  };
}

/** Asserts decoded I420 equals what was drawn, naming the first differing frame/plane/sample. */
function assertBitExact(decoded: Buffer, e: Encoded, width: number, height: number, decoder: string): void {
  assert.equal(decoded.length % e.frameSize, 0, `${decoder}: output is not whole frames`);
  assert.equal(decoded.length / e.frameSize, e.frames, `${decoder}: frame count`);
  for (let f = 0; f < e.frames; f++) {
    const got = decoded.subarray(f * e.frameSize, (f + 1) * e.frameSize);
    const want = e.expected.subarray(f * e.frameSize, (f + 1) * e.frameSize);
    if (got.equals(want)) continue;
    let i = 0;
    while (got[i] === want[i]) i++;
    const lumaSize = width * height;
    const where =
      i < lumaSize
        ? `luma (${i % width},${Math.floor(i / width)})`
        : `chroma ${i < lumaSize * 1.25 ? 'U' : 'V'} sample ${(i - lumaSize) % (lumaSize / 4)}`;
    assert.fail(`${decoder}: frame ${f} differs at ${where}: decoded ${got[i]}, drawn ${want[i]}`);
  }
}

const CASES: Record<string, Case> = {
  // Short GOP with frame_num wrapping every 16 frames and a requested mid-GOP IDR.
  '320x240': {
    width: 320,
    height: 240,
    fps: 25,
    frames: 75,
    gopFrames: 30,
    log2MaxFrameNum: 4,
    keyframeRequests: [44],
    label: '/small',
  },
  // The defaults: 3 s at 640x480@25, 50-frame GOP.
  '640x480': { width: 640, height: 480, fps: 25, frames: 75 },
  // Cropping in both directions (352x208 coded).
  '350x202': { width: 350, height: 202, fps: 15, frames: 30, gopFrames: 12 },
  // 1080p: bottom crop of 8 lines, level 4.0.
  '1920x1080': { width: 1920, height: 1080, fps: 30, frames: 12, gopFrames: 6 },
};

describe('test pattern decodes bit-exactly', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(`ffmpeg, ${name}@${c.fps}: every frame equals the drawn picture, no decode errors`, async (t) => {
      if (!requireTools(t, 'ffmpeg')) return;
      const e = encodeToFile(`ffmpeg-${name}`, c);
      assert.ok(e.keyframes >= 2, 'more than one IDR in the stream');
      const res = await run(
        'ffmpeg',
        [
          '-v',
          'error',
          '-f',
          'h264',
          '-i',
          e.file,
          '-vsync',
          'passthrough',
          '-f',
          'rawvideo',
          '-pix_fmt',
          'yuv420p',
          '-',
        ],
        60_000,
      );
      assert.equal(res.stderr, '', 'ffmpeg printed errors');
      assert.equal(res.code, 0);
      assertBitExact(res.stdout, e, c.width, c.height, 'ffmpeg');
    });
  }

  for (const name of ['320x240', '640x480']) {
    const c = CASES[name];
    it(`GStreamer (h264parse ! avdec_h264), ${name}: exit 0 and every frame bit-exact`, async (t) => {
      if (!requireTools(t, 'gst-launch-1.0')) return;
      const e = encodeToFile(`gst-${name}`, c);
      const out = join(dir, `gst-${name}.yuv`);
      const res = await run(
        'gst-launch-1.0',
        [
          '-q',
          'filesrc',
          `location=${e.file}`,
          '!',
          'h264parse',
          '!',
          'avdec_h264',
          '!',
          'video/x-raw,format=I420',
          '!',
          'filesink',
          `location=${out}`,
        ],
        60_000,
      );
      assert.equal(res.code, 0, `gst-launch-1.0 failed: ${res.stderr}`);
      assertBitExact(readFileSync(out), e, c.width, c.height, 'GStreamer');
    });
  }

  it('ffprobe sees Constrained Baseline, the level, size, frame rate and no B-frame delay', async (t) => {
    if (!requireTools(t, 'ffprobe')) return;
    for (const [name, level, rate] of [
      ['640x480', 30, '25/1'],
      ['1920x1080', 40, '30/1'],
    ] as const) {
      const c = CASES[name];
      const e = encodeToFile(`probe-${name}`, c);
      const res = await run(
        'ffprobe',
        [
          '-v',
          'error',
          '-select_streams',
          'v:0',
          '-count_frames',
          '-show_entries',
          'stream=codec_name,profile,level,width,height,pix_fmt,r_frame_rate,has_b_frames,nb_read_frames',
          '-of',
          'json',
          e.file,
        ],
        60_000,
      );
      assert.equal(res.stderr, '');
      const s = JSON.parse(res.stdout.toString()).streams[0];
      assert.equal(s.codec_name, 'h264');
      assert.equal(s.profile, 'Constrained Baseline');
      assert.equal(s.level, level);
      assert.deepEqual([s.width, s.height], [c.width, c.height]);
      assert.equal(s.pix_fmt, 'yuv420p');
      assert.equal(s.r_frame_rate, rate);
      assert.equal(s.has_b_frames, 0);
      assert.equal(Number(s.nb_read_frames), c.frames);
    }
  });
});

// Pictures made of macroblocks that are either noise or exactly what one intra prediction rule
// yields from noisy neighbours, so rounding and neighbour-availability rules matter (in the test
// pattern neighbours are usually equal, which hides rounding). The prediction formulas here are
// written independently of the encoder; the decoders judge both.
describe('lossless encoder on prediction-built content', () => {
  let seed = 12345;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };

  /** Refills one macroblock; returns true if it was built from a prediction rule (not noise). */
  function fillMacroblock(pic: Yuv420Picture, mbX: number, mbY: number): boolean {
    const ls = pic.codedWidth;
    const cs = ls / 2;
    const top = mbY > 0;
    const left = mbX > 0;
    const kind = rand(4); // 0 noise, 1 DC, 2 vertical, 3 horizontal
    const y0 = mbY * 16 * ls + mbX * 16;
    for (let r = 0; r < 16; r++)
      for (let c = 0; c < 16; c++) {
        const i = y0 + r * ls + c;
        if (kind === 0) pic.y[i] = rand(256);
        else if (kind === 2 && top) pic.y[i] = pic.y[y0 - ls + c];
        else if (kind === 3 && left) pic.y[i] = pic.y[y0 + r * ls - 1];
        else {
          let sum = 0;
          for (let k = 0; k < 16; k++)
            sum += (top ? pic.y[y0 - ls + k] : 0) + (left ? pic.y[y0 + k * ls - 1] : 0);
          pic.y[i] = top && left ? (sum + 16) >> 5 : top || left ? (sum + 8) >> 4 : 128;
        }
      }
    const chromaKind = kind === 0 ? 0 : 1 + rand(3);
    const c0 = mbY * 8 * cs + mbX * 8;
    for (const plane of [pic.u, pic.v])
      for (let r = 0; r < 8; r++)
        for (let c = 0; c < 8; c++) {
          const i = c0 + r * cs + c;
          if (chromaKind === 0) plane[i] = rand(256);
          else if (chromaKind === 2 && top) plane[i] = plane[c0 - cs + c];
          else if (chromaKind === 3 && left) plane[i] = plane[c0 + r * cs - 1];
          else {
            // Chroma DC works per 4x4 quarter: the top-right quarter prefers the row above, the
            // bottom-left one the column to the left, the other two average both.
            const qx = c >> 2;
            const qy = r >> 2;
            let sumTop = 0;
            let sumLeft = 0;
            for (let k = 0; k < 4; k++) {
              if (top) sumTop += plane[c0 - cs + qx * 4 + k];
              if (left) sumLeft += plane[c0 + (qy * 4 + k) * cs - 1];
            }
            const useTop = top && (qx === qy || qx === 1 || !left);
            const useLeft = left && (qx === qy || qy === 1 || !top);
            plane[i] =
              useTop && useLeft
                ? (sumTop + sumLeft + 4) >> 3
                : useTop
                  ? (sumTop + 2) >> 2
                  : useLeft
                    ? (sumLeft + 2) >> 2
                    : 128;
          }
        }
    return kind !== 0;
  }

  it('ffmpeg decodes IDR and P pictures of it bit-exactly, with many I_16x16 macroblocks', async (t) => {
    if (!requireTools(t, 'ffmpeg')) return;
    const width = 176;
    const height = 144;
    const enc = new H264LosslessEncoder({ width, height, fps: 25, log2MaxFrameNum: 4 });
    const pic = allocatePicture(width, height);
    const chunks: Buffer[] = [];
    const pictures: Buffer[] = [];
    let intra16 = 0;
    let pcm = 0;
    const frames = 40;
    for (let f = 0; f < frames; f++) {
      // Refill about a fifth of the macroblocks (all of them in the first picture).
      let predicted = 0;
      for (let mbY = 0; mbY < pic.codedHeight / 16; mbY++)
        for (let mbX = 0; mbX < pic.codedWidth / 16; mbX++)
          if ((f === 0 || rand(5) === 0) && fillMacroblock(pic, mbX, mbY)) predicted++;
      const idr = f % 10 === 0;
      const slice = enc.encodePicture(pic, { idr });
      // In the first picture every predicted macroblock must be found as such: the encoder's
      // prediction rules agree with the ones above (and the decoder checks the encoder's).
      if (f === 0)
        assert.equal(enc.lastStats.intra16x16, predicted, 'predicted macroblocks coded as I_16x16');
      if (idr) chunks.push(START_CODE, enc.sps, START_CODE, enc.pps);
      chunks.push(START_CODE, slice);
      intra16 += enc.lastStats.intra16x16;
      pcm += enc.lastStats.pcm;
      const c = cropPicture(pic);
      pictures.push(Buffer.from(c.y), Buffer.from(c.u), Buffer.from(c.v));
    }
    // Kept macroblocks whose neighbours were refilled usually stop matching (PCM at the next IDR).
    assert.ok(intra16 > 0.4 * (intra16 + pcm), `I_16x16 ${intra16} vs PCM ${pcm}: prediction was exercised`);
    const file = join(dir, 'predicted.264');
    writeFileSync(file, Buffer.concat(chunks));
    const res = await run(
      'ffmpeg',
      [
        '-v',
        'error',
        '-f',
        'h264',
        '-i',
        file,
        '-vsync',
        'passthrough',
        '-f',
        'rawvideo',
        '-pix_fmt',
        'yuv420p',
        '-',
      ],
      60_000,
    );
    assert.equal(res.stderr, '');
    const e = {
      file,
      frames,
      frameSize: (width * height * 3) / 2,
      expected: Buffer.concat(pictures),
      keyframes: 4,
    };
    assertBitExact(res.stdout, e, width, height, 'ffmpeg');
  });
});
