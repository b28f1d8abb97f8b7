import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MediaFormatError } from '../../../src/codecs/errors.js';
import { boxPositionAt, formatUtcClock, TestPatternCanvas } from '../../../src/sources/testpattern/draw.js';
import { CELL_SIZE, GLYPH_LEFT_MARGIN, glyphRows, hasGlyph } from '../../../src/sources/testpattern/font.js';

describe('formatUtcClock', () => {
  it('formats UTC time of day with milliseconds', () => {
    assert.equal(formatUtcClock(Date.UTC(2024, 0, 1, 12, 34, 56, 789)), '12:34:56.789');
    assert.equal(formatUtcClock(Date.UTC(2024, 0, 1, 0, 0, 0, 0)), '00:00:00.000');
    assert.equal(formatUtcClock(Date.UTC(2024, 0, 1, 23, 59, 59, 999) + 0.9), '23:59:59.999', 'floors');
    assert.equal(formatUtcClock(-1), '23:59:59.999', 'before the epoch wraps like Date does');
    const now = 1_732_550_400_123.4;
    assert.equal(formatUtcClock(now), new Date(Math.floor(now)).toISOString().slice(11, 23));
  });
});

describe('boxPositionAt', () => {
  it('bounces between 0 and travel in even steps', () => {
    const xs = Array.from({ length: 30 }, (_, f) => boxPositionAt(f, 100, 10));
    assert.deepEqual(xs.slice(0, 12), [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 90]);
    assert.equal(xs[20], 0);
    for (let f = 0; f < 500; f++) {
      const x = boxPositionAt(f, 333, 14);
      assert.ok(x >= 0 && x <= 333 && x % 2 === 0, `frame ${f}: ${x}`);
      assert.ok(x <= 322, 'whole steps only: 333 rounds down to 23 * 14');
      assert.notEqual(x, boxPositionAt(f + 1, 333, 14), 'moves every frame');
    }
    assert.equal(boxPositionAt(5, 0, 10), 0);
  });
});

describe('font', () => {
  it('has the characters the pattern needs, and ? for the rest', () => {
    for (const ch of '0123456789:./- ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz@_')
      assert.ok(hasGlyph(ch), ch);
    assert.equal(hasGlyph('~'), false);
    assert.deepEqual(glyphRows('~'.charCodeAt(0)), glyphRows('?'.charCodeAt(0)));
    assert.deepEqual(glyphRows(0x263a), glyphRows('?'.charCodeAt(0)));
    assert.deepEqual([...glyphRows(32)], [0, 0, 0, 0, 0, 0, 0, 0]);
    // Digits are 7 rows tall with a blank descender row; glyphs are distinct.
    const seen = new Set<string>();
    for (let d = 0; d < 10; d++) {
      const rows = glyphRows(48 + d);
      assert.ok(rows[0] !== 0 && rows[6] !== 0 && rows[7] === 0, `digit ${d}`);
      assert.ok(rows.every((r) => r < 32));
      seen.add(rows.join());
    }
    assert.equal(seen.size, 10);
  });
});

function snapshot(c: TestPatternCanvas) {
  return { y: c.picture.y.slice(), u: c.picture.u.slice(), v: c.picture.v.slice() };
}

/** Every sample that differs between two snapshots lies in a macroblock flagged as changed. */
function assertChangesFlagged(c: TestPatternCanvas, before: ReturnType<typeof snapshot>, label: string) {
  const { codedWidth, codedHeight } = c.picture;
  const flagged = (x: number, y: number) => c.changedMbs[(y >> 4) * c.widthMbs + (x >> 4)] === 1;
  let changed = 0;
  for (let y = 0; y < codedHeight; y++)
    for (let x = 0; x < codedWidth; x++) {
      if (c.picture.y[y * codedWidth + x] !== before.y[y * codedWidth + x]) {
        changed++;
        assert.ok(flagged(x, y), `${label}: luma (${x},${y}) changed but its macroblock is not flagged`);
      }
    }
  const cw = codedWidth / 2;
  for (let y = 0; y < codedHeight / 2; y++)
    for (let x = 0; x < cw; x++) {
      const i = y * cw + x;
      if (c.picture.u[i] !== before.u[i] || c.picture.v[i] !== before.v[i])
        assert.ok(flagged(2 * x, 2 * y), `${label}: chroma (${x},${y}) changed but not flagged`);
    }
  return changed;
}

describe('TestPatternCanvas', () => {
  for (const [w, h] of [
    [320, 240],
    [640, 480],
    [1280, 720],
    [350, 202],
    [128, 480],
    [128, 160],
    [160, 120],
    [128, 96],
  ]) {
    it(`${w}x${h}: flags every macroblock it changes, and not many more`, () => {
      const c = new TestPatternCanvas({ width: w, height: h, fps: 25, label: '/test' });
      assert.ok(
        c.changedMbs.every((f) => f === 1),
        'the first picture is all new',
      );
      c.draw(0, 0);
      c.clearChanged();
      let t = Date.UTC(2024, 5, 1, 23, 59, 58, 0);
      for (let f = 1; f < 120; f++) {
        t += f === 60 ? 3_600_000 : 40; // one jump changes every clock digit
        const before = snapshot(c);
        c.draw(f, t);
        const changedSamples = assertChangesFlagged(c, before, `frame ${f}`);
        assert.ok(changedSamples > 0, 'something moves every frame');
        const flaggedMbs = c.changedMbs.reduce((a, b) => a + b, 0);
        assert.ok(flaggedMbs < c.changedMbs.length / 5, `frame ${f}: ${flaggedMbs} macroblocks flagged`);
        c.clearChanged();
      }
    });
  }

  it('draws the clock digits as glyphs in the first text line', () => {
    const c = new TestPatternCanvas({ width: 640, height: 480, fps: 25, label: '/cam1' });
    c.draw(42, Date.UTC(2024, 0, 1, 12, 34, 56, 789));
    const { codedWidth } = c.picture;
    const scale = c.fontScale;
    const cell = CELL_SIZE * scale;
    const top = c.lineTopMbs[0] * 16;
    // "12:34:56.789 UTC" starts in text column 1.
    '12:34:56.789'.split('').forEach((ch, i) => {
      const rows = glyphRows(ch.charCodeAt(0));
      for (let gy = 0; gy < 8; gy++)
        for (let gx = 0; gx < 5; gx++) {
          const x = (i + 1) * cell + (GLYPH_LEFT_MARGIN + gx) * scale;
          const y = top + gy * scale;
          const ink = (rows[gy] >> (4 - gx)) & 1;
          assert.equal(c.picture.y[y * codedWidth + x], ink ? 235 : 16, `'${ch}' at (${gx},${gy})`);
        }
    });
  });

  it('refuses pictures too small for the layout', () => {
    assert.throws(
      () => new TestPatternCanvas({ width: 96, height: 480, fps: 25, label: '' }),
      MediaFormatError,
    );
    assert.throws(
      () => new TestPatternCanvas({ width: 640, height: 80, fps: 25, label: '' }),
      MediaFormatError,
    );
  });
});
