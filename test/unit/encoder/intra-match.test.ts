import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ChromaMode,
  Luma16x16Mode,
  matchChroma,
  matchLuma16x16,
} from '../../../src/codecs/h264/encoder/intra-match.js';

const STRIDE = 48; // 3 macroblocks wide (luma); chroma planes use half of it

function fill(plane: Uint8Array, stride: number, x0: number, y0: number, w: number, h: number, v: number) {
  for (let y = y0; y < y0 + h; y++) plane.fill(v, y * stride + x0, y * stride + x0 + w);
}

describe('matchLuma16x16', () => {
  it('uses DC 128 for the top-left macroblock, which has no neighbours', () => {
    const y = new Uint8Array(STRIDE * 48).fill(128);
    assert.equal(matchLuma16x16(y, STRIDE, 0, 0), Luma16x16Mode.Dc);
    y[5] = 127;
    assert.equal(matchLuma16x16(y, STRIDE, 0, 0), -1);
  });

  it('finds vertical when every row repeats the row above, horizontal when every column repeats the left one', () => {
    const y = new Uint8Array(STRIDE * 48);
    // Macroblock (1,1): columns of distinct values, and the row above it the same.
    for (let r = 15; r < 32; r++) for (let c = 16; c < 32; c++) y[r * STRIDE + c] = 10 + c;
    assert.equal(matchLuma16x16(y, STRIDE, 1, 1), Luma16x16Mode.Vertical);
    y[20 * STRIDE + 20] = 0;
    assert.equal(matchLuma16x16(y, STRIDE, 1, 1), -1);

    const h = new Uint8Array(STRIDE * 48);
    for (let r = 16; r < 32; r++) for (let c = 15; c < 32; c++) h[r * STRIDE + c] = 50 + r;
    assert.equal(matchLuma16x16(h, STRIDE, 1, 1), Luma16x16Mode.Horizontal);
    assert.equal(matchLuma16x16(h, STRIDE, 0, 1), -1, 'no left neighbour at column 0, rows differ');
  });

  it('DC averages the top row and left column with rounding, or whichever exists', () => {
    const y = new Uint8Array(STRIDE * 48);
    fill(y, STRIDE, 16, 15, 16, 1, 100); // row above MB (1,1)
    fill(y, STRIDE, 15, 16, 1, 16, 51); // column left of it
    fill(y, STRIDE, 16, 16, 16, 16, (16 * 100 + 16 * 51 + 16) >> 5); // 76 (75.5 rounds up)
    assert.equal(matchLuma16x16(y, STRIDE, 1, 1), Luma16x16Mode.Dc);
    fill(y, STRIDE, 16, 16, 16, 16, 75);
    assert.equal(matchLuma16x16(y, STRIDE, 1, 1), -1);

    // Top row of the picture: only the left column counts.
    const top = new Uint8Array(STRIDE * 48);
    for (let r = 0; r < 16; r++) top[r * STRIDE + 15] = r < 8 ? 10 : 11; // sum 168 -> (168+8)>>4 = 11
    fill(top, STRIDE, 16, 0, 16, 16, 11);
    assert.equal(matchLuma16x16(top, STRIDE, 1, 0), Luma16x16Mode.Dc);
  });
});

describe('matchChroma', () => {
  const CS = STRIDE / 2;

  it('predicts each 4x4 quarter of the DC block from its own neighbours', () => {
    const u = new Uint8Array(CS * 24);
    const v = new Uint8Array(CS * 24).fill(128);
    // Macroblock (1,1) in chroma: x 8..15, y 8..15. Above: 21 over the left half, 40 over the right.
    fill(u, CS, 8, 7, 4, 1, 21);
    fill(u, CS, 12, 7, 4, 1, 40);
    // Left: 60 beside the top half; 80 80 81 81 (sum 322) beside the bottom half.
    fill(u, CS, 7, 8, 1, 4, 60);
    fill(u, CS, 7, 12, 1, 2, 80);
    fill(u, CS, 7, 14, 1, 2, 81);
    fill(u, CS, 8, 8, 4, 4, 41); // top-left: both, (84 + 240 + 4) >> 3 (40.5 rounds up)
    fill(u, CS, 12, 8, 4, 4, 40); // top-right: the samples above only
    fill(u, CS, 8, 12, 4, 4, 81); // bottom-left: the samples to the left only, (322 + 2) >> 2
    // Bottom-right: both, (160 + 322 + 4) >> 3 = 60. Reading the block's own column 3 (81s) instead
    // of the macroblock's left neighbours would give 61.
    fill(u, CS, 12, 12, 4, 4, 60);
    // v is 128 everywhere, which DC also predicts.
    assert.equal(matchChroma(u, v, CS, 1, 1), ChromaMode.Dc);
    fill(u, CS, 12, 8, 4, 4, 50); // top-right as if it averaged both
    assert.equal(matchChroma(u, v, CS, 1, 1), -1);
  });

  it('falls back to the one available side, and to 128 with none', () => {
    const u = new Uint8Array(CS * 24);
    const v = new Uint8Array(CS * 24);
    // Macroblock (0,1): no left neighbour. Every quarter uses the samples above its column.
    fill(u, CS, 0, 7, 4, 1, 30);
    fill(u, CS, 4, 7, 4, 1, 90);
    fill(u, CS, 0, 8, 4, 8, 30);
    fill(u, CS, 4, 8, 4, 8, 90);
    fill(v, CS, 0, 7, 8, 9, 128);
    assert.equal(matchChroma(u, v, CS, 0, 1), ChromaMode.Dc);

    // Macroblock (1,0): no top neighbour. Every quarter uses the samples left of its row.
    const u2 = new Uint8Array(CS * 24);
    const v2 = new Uint8Array(CS * 24);
    fill(u2, CS, 7, 0, 1, 4, 10);
    fill(u2, CS, 7, 4, 1, 4, 70);
    fill(u2, CS, 8, 0, 8, 4, 10);
    fill(u2, CS, 8, 4, 8, 4, 70);
    fill(v2, CS, 7, 0, 9, 8, 128);
    assert.equal(matchChroma(u2, v2, CS, 1, 0), ChromaMode.Dc);

    const u3 = new Uint8Array(CS * 24).fill(128);
    assert.equal(matchChroma(u3, u3, CS, 0, 0), ChromaMode.Dc);
    u3[0] = 0;
    assert.equal(matchChroma(u3, new Uint8Array(CS * 24).fill(128), CS, 0, 0), -1);
  });

  it('finds horizontal and vertical when both Cb and Cr match, never one plane alone', () => {
    const u = new Uint8Array(CS * 24);
    const v = new Uint8Array(CS * 24);
    for (let r = 8; r < 16; r++) for (let c = 7; c < 16; c++) u[r * CS + c] = 3 * r;
    for (let r = 8; r < 16; r++) for (let c = 7; c < 16; c++) v[r * CS + c] = 200 - r;
    assert.equal(matchChroma(u, v, CS, 1, 1), ChromaMode.Horizontal);
    v[12 * CS + 12] = 0;
    assert.equal(matchChroma(u, v, CS, 1, 1), -1);

    const a = new Uint8Array(CS * 24);
    for (let r = 7; r < 16; r++) for (let c = 8; c < 16; c++) a[r * CS + c] = 5 * c;
    assert.equal(matchChroma(a, a, CS, 1, 1), ChromaMode.Vertical);
  });
});
