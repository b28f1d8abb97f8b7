/**
 * A YUV 4:2:0 picture at macroblock-aligned (coded) size: luma stride = codedWidth,
 * chroma stride = codedWidth / 2. The display size (width/height) may be smaller; the SPS crops.
 */
export interface Yuv420Picture {
  /** Display size. */
  width: number;
  height: number;
  /** Coded size: multiples of 16. */
  codedWidth: number;
  codedHeight: number;
  y: Uint8Array;
  u: Uint8Array;
  v: Uint8Array;
}

/** Tightly packed display-size planes (what `ffmpeg -pix_fmt yuv420p` writes for one frame). */
export interface CroppedYuv420 {
  width: number;
  height: number;
  y: Uint8Array;
  u: Uint8Array;
  v: Uint8Array;
}

export function allocatePicture(width: number, height: number): Yuv420Picture {
  const codedWidth = Math.ceil(width / 16) * 16;
  const codedHeight = Math.ceil(height / 16) * 16;
  return {
    width,
    height,
    codedWidth,
    codedHeight,
    y: new Uint8Array(codedWidth * codedHeight),
    u: new Uint8Array((codedWidth / 2) * (codedHeight / 2)),
    v: new Uint8Array((codedWidth / 2) * (codedHeight / 2)),
  };
}

/** Copies the display area out of a coded-size picture. */
export function cropPicture(pic: Yuv420Picture): CroppedYuv420 {
  const { width, height, codedWidth } = pic;
  const cw = width / 2;
  const ch = height / 2;
  const y = new Uint8Array(width * height);
  const u = new Uint8Array(cw * ch);
  const v = new Uint8Array(cw * ch);
  for (let r = 0; r < height; r++) y.set(pic.y.subarray(r * codedWidth, r * codedWidth + width), r * width);
  const cs = codedWidth / 2;
  for (let r = 0; r < ch; r++) {
    u.set(pic.u.subarray(r * cs, r * cs + cw), r * cw);
    v.set(pic.v.subarray(r * cs, r * cs + cw), r * cw);
  }
  return { width, height, y, u, v };
}
