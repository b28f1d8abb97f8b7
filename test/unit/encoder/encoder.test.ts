import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MediaFormatError } from '../../../src/codecs/errors.js';
import { H264LosslessEncoder } from '../../../src/codecs/h264/encoder/encoder.js';
import { allocatePicture, type Yuv420Picture } from '../../../src/codecs/h264/encoder/picture.js';
import { parseSlice } from './slice-parser.js';

const W = 64; // 4 x 3 macroblocks
const H = 48;

function greyPicture(): Yuv420Picture {
  const pic = allocatePicture(W, H);
  pic.y.fill(128);
  pic.u.fill(128);
  pic.v.fill(128);
  return pic;
}

/** Writes a pattern no intra prediction reproduces into macroblock (mbX, mbY)'s luma. */
function scribble(pic: Yuv420Picture, mbX: number, mbY: number, seed: number) {
  for (let r = 0; r < 16; r++)
    for (let c = 0; c < 16; c++)
      pic.y[(mbY * 16 + r) * pic.codedWidth + mbX * 16 + c] = (r * 16 + c + seed) & 255;
}

describe('H264LosslessEncoder', () => {
  it('codes a flat picture as I_16x16 macroblocks with no PCM and deblocking off', () => {
    const enc = new H264LosslessEncoder({ width: W, height: H, fps: 25 });
    const nal = enc.encodePicture(greyPicture(), { idr: true });
    const s = parseSlice(nal, 4, 3, 8);
    assert.equal(nal[0], 0x65);
    assert.equal(s.sliceType, 7);
    assert.equal(s.frameNum, 0);
    assert.equal(s.idrPicId, 0);
    assert.equal(s.disableDeblocking, 1);
    assert.equal(s.mbs.length, 12);
    assert.ok(s.mbs.every((m) => m.kind === 'i16'));
    // The first macroblock has no neighbours: DC (128) is its only choice.
    assert.deepEqual(s.mbs[0], { kind: 'i16', lumaMode: 2, chromaMode: 0, nC: 0 });
    assert.deepEqual(enc.lastStats, { idr: true, pcm: 0, intra16x16: 12, skipped: 0, bytes: nal.length });
  });

  it('sends macroblocks no prediction reproduces as I_PCM, samples in raster order', () => {
    const enc = new H264LosslessEncoder({ width: W, height: H, fps: 25 });
    const pic = greyPicture();
    scribble(pic, 1, 1, 7);
    pic.u[8 * (pic.codedWidth / 2) + 8] = 99; // first Cb sample of macroblock (1,1)
    const s = parseSlice(enc.encodePicture(pic, { idr: true }), 4, 3, 8);
    const pcm = s.mbs[5];
    assert.equal(pcm.kind, 'pcm');
    if (pcm.kind !== 'pcm') return;
    assert.equal(pcm.samples[0], 7);
    assert.equal(pcm.samples[17], (16 + 1 + 7) & 255);
    assert.equal(pcm.samples[256], 99);
    assert.equal(pcm.samples[320], 128);
    // Right and lower neighbours read nC from the PCM block: 16 alone or averaged with a 0.
    const right = s.mbs[6];
    const below = s.mbs[9];
    assert.ok(right.kind === 'i16' && right.nC === 8);
    assert.ok(below.kind === 'i16' && below.nC === 8);
  });

  it('skips every macroblock of an unchanged P picture', () => {
    const enc = new H264LosslessEncoder({ width: W, height: H, fps: 25 });
    const pic = greyPicture();
    scribble(pic, 2, 0, 1);
    enc.encodePicture(pic, { idr: true });
    const nal = enc.encodePicture(pic, { idr: false });
    assert.equal(nal[0], 0x41);
    const s = parseSlice(nal, 4, 3, 8);
    assert.equal(s.sliceType, 5);
    assert.equal(s.frameNum, 1);
    assert.ok(s.mbs.every((m) => m.kind === 'skip'));
    assert.equal(enc.lastStats.skipped, 12);
    assert.ok(nal.length <= 6, `an all-skip slice is a few bytes, got ${nal.length}`);
  });

  it('codes only changed macroblocks in P pictures, intra, with skip runs between them', () => {
    const enc = new H264LosslessEncoder({ width: W, height: H, fps: 25 });
    const pic = greyPicture();
    enc.encodePicture(pic, { idr: true });
    scribble(pic, 1, 0, 3); // mb 1
    pic.y.fill(90, 2 * 16 * pic.codedWidth, 3 * 16 * pic.codedWidth); // bottom row flat 90
    const s = parseSlice(enc.encodePicture(pic, { idr: false }), 4, 3, 8);
    const kinds = s.mbs.map((m) => m.kind).join(' ');
    assert.equal(kinds, 'skip pcm skip skip skip skip skip skip pcm i16 i16 i16');
    // Bottom-left: flat 90 but its neighbours are 128 grey: nothing predicts it. The rest copy the left.
    assert.deepEqual(
      s.mbs.slice(9).map((m) => m.kind === 'i16' && m.lumaMode),
      [1, 1, 1],
    );
  });

  it('trusts changedMbs: macroblocks marked unchanged are skipped without comparing', () => {
    const enc = new H264LosslessEncoder({ width: W, height: H, fps: 25 });
    const pic = greyPicture();
    enc.encodePicture(pic, { idr: true });
    scribble(pic, 0, 0, 5);
    scribble(pic, 3, 2, 5);
    const changed = new Uint8Array(12);
    changed[11] = 1;
    // Marked changed but equal to the reference: compared, and skipped.
    changed[4] = 1;
    const s = parseSlice(enc.encodePicture(pic, { idr: false, changedMbs: changed }), 4, 3, 8);
    assert.deepEqual(
      s.mbs.map((m) => m.kind),
      [...Array(11).fill('skip'), 'pcm'],
    );
    assert.throws(
      () => enc.encodePicture(pic, { idr: false, changedMbs: new Uint8Array(3) }),
      MediaFormatError,
    );
  });

  it('re-decides a macroblock in the next IDR when its left or top neighbour changed', () => {
    const setMb0 = (pic: Yuv420Picture, v: number) => {
      for (let r = 0; r < 16; r++) pic.y.fill(v, r * pic.codedWidth, r * pic.codedWidth + 16);
    };
    for (const via of ['idr', 'p-then-idr'] as const) {
      const enc = new H264LosslessEncoder({ width: W, height: H, fps: 25 });
      const pic = greyPicture();
      // All grey: mb 1 (no top neighbour) is predicted horizontally from mb 0.
      const first = parseSlice(enc.encodePicture(pic, { idr: true }), 4, 3, 8);
      assert.deepEqual(first.mbs[1], { kind: 'i16', lumaMode: 1, chromaMode: 0, nC: 0 });
      setMb0(pic, 200);
      if (via === 'p-then-idr') {
        const p = parseSlice(enc.encodePicture(pic, { idr: false }), 4, 3, 8);
        assert.deepEqual(
          p.mbs.map((m) => m.kind),
          ['pcm', ...Array(11).fill('skip')],
        );
      }
      // mbs 1 and 4 are unchanged, but their predictions from mb 0 (right of it, below it) would
      // now be 200: both must become PCM.
      const s = parseSlice(enc.encodePicture(pic, { idr: true }), 4, 3, 8);
      assert.deepEqual(
        s.mbs.map((m) => m.kind),
        ['pcm', 'pcm', 'i16', 'i16', 'pcm', ...Array(7).fill('i16')],
        via,
      );
    }
  });

  it('numbers frames from each IDR, wraps frame_num, and alternates idr_pic_id', () => {
    const enc = new H264LosslessEncoder({ width: W, height: H, fps: 25, log2MaxFrameNum: 4 });
    const pic = greyPicture();
    const seen: [number, number | null][] = [];
    for (let i = 0; i < 40; i++) {
      const s = parseSlice(enc.encodePicture(pic, { idr: i % 20 === 0 }), 4, 3, 4);
      seen.push([s.frameNum, s.idrPicId]);
    }
    assert.deepEqual(seen[0], [0, 0]);
    assert.deepEqual(seen[15], [15, null]);
    assert.deepEqual(seen[16], [0, null], 'wraps at 2^4');
    assert.deepEqual(seen[19], [3, null]);
    assert.deepEqual(seen[20], [0, 1], 'second IDR: next idr_pic_id');
    assert.deepEqual(seen[21], [1, null]);
  });

  it('rejects pictures of another size', () => {
    const enc = new H264LosslessEncoder({ width: W, height: H, fps: 25 });
    assert.throws(() => enc.encodePicture(allocatePicture(W + 16, H), { idr: true }), MediaFormatError);
  });
});
