/**
 * Draws smolrtsp's test pattern into a YUV 4:2:0 picture: colour bars with a box bouncing
 * across them, a grey step wedge, and a panel with a UTC wall clock, a frame counter and a label.
 *
 * Pure (no timers, no I/O): time and frame number are passed in. Only what changes is redrawn,
 * and every macroblock touched is flagged in `changedMbs`, so the encoder looks at nothing else.
 *
 * The layout is chosen to be cheap for the lossless encoder: bar, step and text-cell edges fall on
 * macroblock boundaries, so static areas code as flat I_16x16 and each changed character costs
 * exactly one cell of I_PCM macroblocks; the box spans whole macroblock rows, so below its top row
 * its edges are predicted vertically.
 */

import { MediaFormatError } from '../../codecs/errors.js';
import { allocatePicture, type Yuv420Picture } from '../../codecs/h264/encoder/picture.js';
import { CELL_SIZE, GLYPH_COLUMNS, GLYPH_LEFT_MARGIN, GLYPH_ROWS, glyphRows } from './font.js';

export interface TestPatternDrawOptions {
  width: number;
  height: number;
  fps: number;
  /** Shown on the third text line (e.g. the stream path). */
  label: string;
}

/** BT.601 limited-range Y, Cb, Cr. */
type Colour = readonly [number, number, number];

// 75% colour bars (SMPTE order): grey, yellow, cyan, green, magenta, red, blue.
const BARS: readonly Colour[] = [
  [180, 128, 128],
  [162, 44, 142],
  [131, 156, 44],
  [112, 72, 58],
  [84, 184, 198],
  [65, 100, 212],
  [35, 212, 114],
];
const WEDGE_STEPS = 11; // 0%..100% luma in 10% steps
const PANEL: Colour = [16, 128, 128];
const TEXT: Colour = [235, 128, 128];
const BOX: Colour = [235, 128, 128];

export const MIN_PATTERN_WIDTH = 128;
/** Small pictures (QQVGA 160x120) get the compact layout: three text lines with no gaps. */
export const MIN_PATTERN_HEIGHT = 96;

/** `HH:MM:SS.mmm` of a Unix time in milliseconds, UTC. */
export function formatUtcClock(wallClockMs: number): string {
  const day = 86_400_000;
  const t = ((Math.floor(wallClockMs) % day) + day) % day;
  const h = Math.floor(t / 3_600_000);
  const m = Math.floor(t / 60_000) % 60;
  const s = Math.floor(t / 1000) % 60;
  const ms = t % 1000;
  return `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}.${pad(ms, 3)}`;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * Left edge x of the box at a frame: bounces between 0 and `travel` moving `step` (even) pixels a
 * frame. The range used is `travel` rounded down to whole steps, so the turn points are hit exactly
 * and the box never stands still for a frame (which would look like a freeze).
 */
export function boxPositionAt(frameIndex: number, travel: number, step: number): number {
  const range = travel - (travel % step);
  if (range <= 0) return 0;
  const period = 2 * range;
  const p = (((frameIndex * step) % period) + period) % period;
  return p <= range ? p : period - p;
}

export class TestPatternCanvas {
  /** Coded-size picture (what the encoder codes; the display area is its top-left corner). */
  readonly picture: Yuv420Picture;
  /** One byte per macroblock, raster order: 1 where drawing touched it since clearChanged(). */
  readonly changedMbs: Uint8Array;

  readonly widthMbs: number;
  readonly heightMbs: number;
  /** Text cell size in macroblocks (each cell is an 8x8 font grid scaled to whole macroblocks). */
  readonly cellMbs: number;
  /** Font pixel size in picture pixels. */
  readonly fontScale: number;
  /** Box geometry: size in pixels, top row in macroblocks, travel range and speed. */
  readonly boxSize: number;
  readonly boxTopMb: number;
  readonly boxTravel: number;
  readonly boxStep: number;

  private readonly label: string;
  private readonly fps: number;
  private readonly textCols: number;
  /** Top macroblock row of each text line (clock, frame counter, label). */
  readonly lineTopMbs: readonly number[];
  /** What each text line currently shows. */
  private readonly lineText: string[] = ['', '', ''];
  /** One luma / chroma row of the bars: every bar row is identical, so one row restores any area. */
  private readonly barRowY: Uint8Array;
  private readonly barRowU: Uint8Array;
  private readonly barRowV: Uint8Array;
  private boxX = -1;

  constructor(opts: TestPatternDrawOptions) {
    const { width, height } = opts;
    if (width < MIN_PATTERN_WIDTH || height < MIN_PATTERN_HEIGHT)
      throw new MediaFormatError(
        `test pattern needs at least ${MIN_PATTERN_WIDTH}x${MIN_PATTERN_HEIGHT}, got ${width}x${height}`,
      );
    this.picture = allocatePicture(width, height);
    this.fps = opts.fps;
    this.label = opts.label;
    this.widthMbs = this.picture.codedWidth / 16;
    this.heightMbs = this.picture.codedHeight / 16;
    this.changedMbs = new Uint8Array(this.widthMbs * this.heightMbs);

    // Text grows with the picture: 16 px cells up to ~600 lines, 32 px at 720p/1080p.
    this.cellMbs = Math.max(1, Math.round(height / 480));
    this.fontScale = (this.cellMbs * 16) / CELL_SIZE;
    this.textCols = Math.floor(Math.floor(width / 16) / this.cellMbs);

    // Rows (macroblocks): bars | wedge (one cell) | panel (3 text lines, blank cell rows between).
    // Below 10 cell rows the blank rows go, so the bars keep at least two macroblock rows.
    const compact = this.heightMbs < 10 * this.cellMbs;
    const panelMbs = (compact ? 3 : 7) * this.cellMbs;
    const wedgeMbs = this.cellMbs;
    const barsMbs = this.heightMbs - panelMbs - wedgeMbs;
    const panelTopMb = barsMbs + wedgeMbs;
    this.lineTopMbs = (compact ? [0, 1, 2] : [1, 3, 5]).map((cellRow) => panelTopMb + cellRow * this.cellMbs);

    // A square box half as tall as the bars (at most half the width, so it has room to move),
    // centred on them.
    const boxMbs = Math.max(1, Math.min(Math.round(barsMbs / 2), Math.floor(width / 32)));
    this.boxTopMb = Math.floor((barsMbs - boxMbs) / 2);
    this.boxSize = boxMbs * 16;
    this.boxTravel = Math.max(0, (width - this.boxSize) & ~1);
    // About two seconds per crossing, in whole chroma samples.
    this.boxStep = Math.max(2, Math.round(this.boxTravel / (2 * opts.fps) / 2) * 2);

    const cw = this.picture.codedWidth;
    this.barRowY = new Uint8Array(cw);
    this.barRowU = new Uint8Array(cw / 2);
    this.barRowV = new Uint8Array(cw / 2);
    fillSteps(this.barRowY, this.barRowU, this.barRowV, BARS, this.widthMbs);
    this.drawBackground(barsMbs, wedgeMbs);
  }

  /** Marks everything unchanged (call after the encoder consumed `changedMbs`). */
  clearChanged(): void {
    this.changedMbs.fill(0);
  }

  /** Updates the moving box, clock, frame counter and label for this frame. */
  draw(frameIndex: number, wallClockMs: number): void {
    this.moveBox(boxPositionAt(frameIndex, this.boxTravel, this.boxStep));
    this.setLine(0, `${formatUtcClock(wallClockMs)} UTC`);
    this.setLine(1, `FRAME ${pad(frameIndex, 6)}`);
    this.setLine(2, `${this.label}  ${this.picture.width}x${this.picture.height}@${this.fps}`);
  }

  private drawBackground(barsMbs: number, wedgeMbs: number): void {
    const pic = this.picture;
    const cw = pic.codedWidth;
    const ccw = cw / 2;
    const wedge: Colour[] = [];
    for (let i = 0; i < WEDGE_STEPS; i++)
      wedge.push([16 + Math.round((219 * i) / (WEDGE_STEPS - 1)), 128, 128]);
    const wedgeY = new Uint8Array(cw);
    const wedgeU = new Uint8Array(ccw);
    const wedgeV = new Uint8Array(ccw);
    fillSteps(wedgeY, wedgeU, wedgeV, wedge, this.widthMbs);

    for (let mbRow = 0; mbRow < this.heightMbs; mbRow++) {
      const [rowY, rowU, rowV] =
        mbRow < barsMbs
          ? [this.barRowY, this.barRowU, this.barRowV]
          : mbRow < barsMbs + wedgeMbs
            ? [wedgeY, wedgeU, wedgeV]
            : [null, null, null];
      for (let r = 0; r < 16; r++) {
        const y = mbRow * 16 + r;
        if (rowY) pic.y.set(rowY, y * cw);
        else pic.y.fill(PANEL[0], y * cw, (y + 1) * cw);
      }
      for (let r = 0; r < 8; r++) {
        const y = mbRow * 8 + r;
        if (rowU && rowV) {
          pic.u.set(rowU, y * ccw);
          pic.v.set(rowV, y * ccw);
        } else {
          pic.u.fill(PANEL[1], y * ccw, (y + 1) * ccw);
          pic.v.fill(PANEL[2], y * ccw, (y + 1) * ccw);
        }
      }
    }
    this.changedMbs.fill(1);
  }

  /** Moves the box, redrawing only the column strips it uncovers and newly covers. */
  private moveBox(x: number): void {
    const old = this.boxX;
    if (old === x) return;
    this.boxX = x;
    const size = this.boxSize;
    if (old < 0 || Math.abs(x - old) >= size) {
      if (old >= 0) this.paintBoxColumns(old, old + size, false);
      this.paintBoxColumns(x, x + size, true);
    } else if (x > old) {
      this.paintBoxColumns(old, x, false);
      this.paintBoxColumns(old + size, x + size, true);
    } else {
      this.paintBoxColumns(x, old, true);
      this.paintBoxColumns(x + size, old + size, false);
    }
  }

  /** Paints luma columns [from, to) (even bounds) of the box rows with the box or the bars behind it. */
  private paintBoxColumns(from: number, to: number, box: boolean): void {
    const pic = this.picture;
    const cw = pic.codedWidth;
    const top = this.boxTopMb * 16;
    const size = this.boxSize;
    for (let r = 0; r < size; r++) {
      const row = (top + r) * cw;
      if (box) pic.y.fill(BOX[0], row + from, row + to);
      else for (let c = from; c < to; c++) pic.y[row + c] = this.barRowY[c];
    }
    const ccw = cw / 2;
    const cFrom = from / 2;
    const cTo = to / 2;
    for (let r = 0; r < size / 2; r++) {
      const row = (top / 2 + r) * ccw;
      if (box) {
        pic.u.fill(BOX[1], row + cFrom, row + cTo);
        pic.v.fill(BOX[2], row + cFrom, row + cTo);
      } else {
        for (let c = cFrom; c < cTo; c++) {
          pic.u[row + c] = this.barRowU[c];
          pic.v[row + c] = this.barRowV[c];
        }
      }
    }
    this.markChanged(from >> 4, this.boxTopMb, ((to - 1) >> 4) + 1, this.boxTopMb + size / 16);
  }

  /** Sets one text line, redrawing only the character cells that differ. */
  private setLine(line: number, text: string): void {
    // Column 0 stays blank as a margin.
    const visible = text.length > this.textCols - 1 ? text.slice(0, this.textCols - 1) : text;
    const old = this.lineText[line];
    if (old === visible) return;
    this.lineText[line] = visible;
    const n = Math.max(old.length, visible.length);
    for (let i = 0; i < n; i++) {
      const ch = i < visible.length ? visible.charCodeAt(i) : 32;
      const prev = i < old.length ? old.charCodeAt(i) : 32;
      if (ch !== prev) this.drawCell(i + 1, this.lineTopMbs[line], ch);
    }
  }

  /** Draws one character (glyph on panel colour) into text column `col` of the line at `topMb`. */
  private drawCell(col: number, topMb: number, charCode: number): void {
    const pic = this.picture;
    const cw = pic.codedWidth;
    const cellPx = this.cellMbs * 16;
    const x0 = col * cellPx;
    const y0 = topMb * 16;
    const s = this.fontScale;
    const glyph = glyphRows(charCode);
    for (let py = 0; py < cellPx; py++) {
      const gy = Math.floor(py / s);
      const bits = gy < GLYPH_ROWS ? glyph[gy] : 0;
      const line = (y0 + py) * cw + x0;
      for (let px = 0; px < cellPx; px++) {
        const gx = Math.floor(px / s) - GLYPH_LEFT_MARGIN;
        const ink = gx >= 0 && gx < GLYPH_COLUMNS && (bits >> (GLYPH_COLUMNS - 1 - gx)) & 1;
        pic.y[line + px] = ink ? TEXT[0] : PANEL[0];
      }
    }
    // Text and panel share neutral chroma, so the chroma samples of the cell never change.
    const mbX = col * this.cellMbs;
    const mbY = topMb;
    this.markChanged(mbX, mbY, mbX + this.cellMbs, mbY + this.cellMbs);
  }

  private markChanged(mbX0: number, mbY0: number, mbX1: number, mbY1: number): void {
    const x1 = Math.min(mbX1, this.widthMbs);
    const y1 = Math.min(mbY1, this.heightMbs);
    for (let my = Math.max(0, mbY0); my < y1; my++)
      for (let mx = Math.max(0, mbX0); mx < x1; mx++) this.changedMbs[my * this.widthMbs + mx] = 1;
  }
}

/** Fills one row with equal-width colour steps whose edges fall on macroblock boundaries. */
function fillSteps(
  rowY: Uint8Array,
  rowU: Uint8Array,
  rowV: Uint8Array,
  colours: readonly Colour[],
  widthMbs: number,
): void {
  for (let i = 0; i < colours.length; i++) {
    const x0 = Math.round((i * widthMbs) / colours.length) * 16;
    const x1 = Math.round(((i + 1) * widthMbs) / colours.length) * 16;
    rowY.fill(colours[i][0], x0, x1);
    rowU.fill(colours[i][1], x0 / 2, x1 / 2);
    rowV.fill(colours[i][2], x0 / 2, x1 / 2);
  }
}
