// Headless Chromium for the web page tests and benchmark: Debian's chromium driven by
// playwright-core (no browser download), and a reader for the clock the test pattern burns in.
import { inflateSync } from 'node:zlib';
import { type Browser, chromium } from 'playwright-core';
import { TestPatternCanvas } from '../../src/sources/testpattern/draw.js';
import { glyphRows } from '../../src/sources/testpattern/font.js';
import { CHROMIUM } from './tools.js';

/**
 * Headless Chromium that plays WebRTC on loopback: loopback ICE candidates allowed, host addresses
 * not hidden behind mDNS names (we would not resolve them), no DNS but 127.0.0.1, no background
 * requests, and muted autoplay without a gesture.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    timeout: 30_000,
    args: [
      '--no-sandbox',
      '--autoplay-policy=no-user-gesture-required',
      '--allow-loopback-in-peer-connection',
      '--disable-features=WebRtcHideLocalIpsWithMdns',
      '--disable-background-networking',
      '--disable-component-update',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    ],
  });
}

/** Where the pattern draws its clock line (`HH:MM:SS.mmm UTC`) in a picture of this size. */
export interface ClockGeometry {
  /** Top-left of the first character cell. */
  x: number;
  y: number;
  /** Cell size and font pixel size, in picture pixels. */
  cell: number;
  scale: number;
  chars: number;
}

export function clockGeometry(width: number, height: number): ClockGeometry {
  const canvas = new TestPatternCanvas({ width, height, fps: 25, label: '' });
  const cell = canvas.cellMbs * 16;
  // Column 0 is a margin; the clock is line 0.
  return { x: cell, y: canvas.lineTopMbs[0] * 16, cell, scale: canvas.fontScale, chars: 16 };
}

/** The points to sample (centre of each font pixel of each cell), in reading order. */
export function clockSamplePoints(g: ClockGeometry): Array<[number, number]> {
  const points: Array<[number, number]> = [];
  for (let i = 0; i < g.chars; i++)
    for (let row = 0; row < 8; row++)
      for (let col = 0; col < 8; col++)
        points.push([
          g.x + i * g.cell + Math.floor((col + 0.5) * g.scale),
          g.y + Math.floor((row + 0.5) * g.scale),
        ]);
  return points;
}

const CLOCK_CHARS = '0123456789:. UTC';

/**
 * Reads the clock from ink bits (1 = bright, one per sample point) by matching every cell against
 * the pattern's own font. `worst` is the largest number of font pixels any cell differs from its
 * best glyph: 0 for a clean picture.
 */
export function readClock(ink: ArrayLike<number>): { text: string; worst: number } {
  let text = '';
  let worst = 0;
  for (let i = 0; i < ink.length / 64; i++) {
    let best = '';
    let bestDistance = Number.POSITIVE_INFINITY;
    for (const ch of CLOCK_CHARS) {
      const rows = glyphRows(ch.charCodeAt(0));
      let d = 0;
      for (let row = 0; row < 8; row++)
        for (let col = 0; col < 8; col++) {
          const gx = col - 1; // one blank column on the left
          const want = gx >= 0 && gx < 5 ? (rows[row] >> (4 - gx)) & 1 : 0;
          if (want !== (ink[i * 64 + row * 8 + col] ? 1 : 0)) d++;
        }
      if (d < bestDistance) {
        bestDistance = d;
        best = ch;
      }
    }
    text += best;
    worst = Math.max(worst, bestDistance);
  }
  return { text, worst };
}

/** `HH:MM:SS.mmm UTC` → milliseconds since midnight UTC; undefined if it does not parse. */
export function clockMs(text: string): number | undefined {
  const m = /^(\d\d):(\d\d):(\d\d)\.(\d\d\d) UTC$/.exec(text);
  if (!m) return undefined;
  return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number(m[4]);
}

/** Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium's screenshots are). */
export function decodePng(png: Buffer): { width: number; height: number; rgba: Uint8Array } {
  let pos = 8;
  let width = 0;
  let height = 0;
  let channels = 4;
  const idat: Buffer[] = [];
  while (pos < png.length) {
    const len = png.readUInt32BE(pos);
    const type = png.toString('latin1', pos + 4, pos + 8);
    const data = png.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[12] !== 0) throw new Error('only 8-bit non-interlaced PNG');
      channels = data[9] === 6 ? 4 : data[9] === 2 ? 3 : 0;
      if (!channels) throw new Error(`PNG colour type ${data[9]} not handled`);
    } else if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = new Uint8Array(width * height * 4);
  const prev = new Uint8Array(stride);
  const cur = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? cur[i - channels] : 0;
      const b = prev[i];
      const c = i >= channels ? prev[i - channels] : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a);
      const pb = Math.abs(p - b);
      const pc = Math.abs(p - c);
      const predictor =
        filter === 0
          ? 0
          : filter === 1
            ? a
            : filter === 2
              ? b
              : filter === 3
                ? (a + b) >> 1
                : pa <= pb && pa <= pc
                  ? a
                  : pb <= pc
                    ? b
                    : c;
      cur[i] = (line[i] + predictor) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      for (let k = 0; k < 3; k++) out[(y * width + x) * 4 + k] = cur[x * channels + k];
      out[(y * width + x) * 4 + 3] = channels === 4 ? cur[x * channels + 3] : 255;
    }
    prev.set(cur);
  }
  return { width, height, rgba: out };
}
