/**
 * Finds intra prediction modes whose prediction reproduces a macroblock exactly, so it can be
 * sent as I_16x16 with no residual. Neighbour samples are read from the picture being coded,
 * which equals the decoder's reconstruction because every macroblock this encoder codes is
 * lossless (I_PCM, exact prediction, or a skip of an unchanged block). Single slice per
 * picture: a neighbour is available iff it is inside the picture.
 */

/** Intra16x16PredMode values (Table 8-4). */
export const Luma16x16Mode = { Vertical: 0, Horizontal: 1, Dc: 2 } as const;
/** intra_chroma_pred_mode values (Table 8-5). */
export const ChromaMode = { Dc: 0, Horizontal: 1, Vertical: 2 } as const;

/** 16x16 luma: returns the Intra16x16PredMode that predicts the block exactly, or -1. */
export function matchLuma16x16(plane: Uint8Array, stride: number, mbX: number, mbY: number): number {
  const base = mbY * 16 * stride + mbX * 16;
  const hasTop = mbY > 0;
  const hasLeft = mbX > 0;

  if (hasTop && sameAsRowAbove(plane, stride, base, 16)) return Luma16x16Mode.Vertical;
  if (hasLeft && sameAsColumnLeft(plane, stride, base, 16)) return Luma16x16Mode.Horizontal;

  let dc = 128;
  if (hasTop || hasLeft) {
    let sum = 0;
    if (hasTop) for (let i = 0; i < 16; i++) sum += plane[base - stride + i];
    if (hasLeft) for (let i = 0; i < 16; i++) sum += plane[base + i * stride - 1];
    dc = hasTop && hasLeft ? (sum + 16) >> 5 : (sum + 8) >> 4;
  }
  return isFlat(plane, stride, base, 16, 16, dc) ? Luma16x16Mode.Dc : -1;
}

/**
 * 8x8 Cb and Cr (one mode for both): returns the intra_chroma_pred_mode that predicts both
 * blocks exactly, or -1.
 */
export function matchChroma(u: Uint8Array, v: Uint8Array, stride: number, mbX: number, mbY: number): number {
  const base = mbY * 8 * stride + mbX * 8;
  const hasTop = mbY > 0;
  const hasLeft = mbX > 0;
  if (chromaDcMatches(u, stride, base, hasTop, hasLeft) && chromaDcMatches(v, stride, base, hasTop, hasLeft))
    return ChromaMode.Dc;
  if (hasLeft && sameAsColumnLeft(u, stride, base, 8) && sameAsColumnLeft(v, stride, base, 8))
    return ChromaMode.Horizontal;
  if (hasTop && sameAsRowAbove(u, stride, base, 8) && sameAsRowAbove(v, stride, base, 8))
    return ChromaMode.Vertical;
  return -1;
}

/**
 * Chroma DC (8.3.4.1-3) predicts each 4x4 quarter separately. The top-right quarter prefers the
 * samples above, the bottom-left one prefers those to the left; the diagonal quarters average both.
 */
function chromaDcMatches(
  plane: Uint8Array,
  stride: number,
  base: number,
  hasTop: boolean,
  hasLeft: boolean,
): boolean {
  for (let by = 0; by < 2; by++) {
    for (let bx = 0; bx < 2; bx++) {
      const blk = base + by * 4 * stride + bx * 4;
      let sumTop = 0;
      let sumLeft = 0;
      if (hasTop) for (let i = 0; i < 4; i++) sumTop += plane[base - stride + bx * 4 + i];
      // The column left of the macroblock (x = -1), beside this quarter's rows.
      if (hasLeft) for (let i = 0; i < 4; i++) sumLeft += plane[base + (by * 4 + i) * stride - 1];
      let dc = 128;
      if (bx === by) {
        if (hasTop && hasLeft) dc = (sumTop + sumLeft + 4) >> 3;
        else if (hasLeft) dc = (sumLeft + 2) >> 2;
        else if (hasTop) dc = (sumTop + 2) >> 2;
      } else if (bx === 1) {
        if (hasTop) dc = (sumTop + 2) >> 2;
        else if (hasLeft) dc = (sumLeft + 2) >> 2;
      } else {
        if (hasLeft) dc = (sumLeft + 2) >> 2;
        else if (hasTop) dc = (sumTop + 2) >> 2;
      }
      if (!isFlat(plane, stride, blk, 4, 4, dc)) return false;
    }
  }
  return true;
}

function sameAsRowAbove(plane: Uint8Array, stride: number, base: number, size: number): boolean {
  const above = base - stride;
  for (let r = 0; r < size; r++) {
    const row = base + r * stride;
    for (let c = 0; c < size; c++) if (plane[row + c] !== plane[above + c]) return false;
  }
  return true;
}

function sameAsColumnLeft(plane: Uint8Array, stride: number, base: number, size: number): boolean {
  for (let r = 0; r < size; r++) {
    const row = base + r * stride;
    const left = plane[row - 1];
    for (let c = 0; c < size; c++) if (plane[row + c] !== left) return false;
  }
  return true;
}

function isFlat(
  plane: Uint8Array,
  stride: number,
  base: number,
  w: number,
  h: number,
  value: number,
): boolean {
  for (let r = 0; r < h; r++) {
    const row = base + r * stride;
    for (let c = 0; c < w; c++) if (plane[row + c] !== value) return false;
  }
  return true;
}
