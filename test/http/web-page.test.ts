// The web page as a user opens it: `smolrtsp serve --pattern ... --http-port P`, then real headless
// Chromium (Debian's, driven by playwright-core) loads http://127.0.0.1:P/. The page lists the
// path, its preview plays over WebRTC (WHEP), and a screenshot of the <video> is the test pattern:
// its colour bars where the pattern draws them, and its clock line read back with the pattern's own
// font, showing the time it was taken.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  clockGeometry,
  clockMs,
  clockSamplePoints,
  decodePng,
  launchChromium,
  readClock,
} from '../helpers/browser.js';
import { freePort, startCli } from '../helpers/cli.js';
import { requireChromium } from '../helpers/tools.js';

/** What these checks read of the page's <video> (the test is compiled without the DOM types). */
interface VideoElement {
  currentTime: number;
  videoWidth: number;
  videoHeight: number;
  style: Record<string, string>;
}

/**
 * RGB of a limited-range Y'CbCr colour. The pattern's stream does not tag its colour matrix, and
 * browsers take untagged video as BT.709 (Chromium does) or BT.601: either is the pattern's colour.
 */
function rgbOf(matrix: '601' | '709', y: number, cb: number, cr: number): number[] {
  const [rv, gu, gv, bu] = matrix === '601' ? [1.596, 0.392, 0.813, 2.017] : [1.793, 0.213, 0.533, 2.112];
  const l = 1.164 * (y - 16);
  return [l + rv * (cr - 128), l - gu * (cb - 128) - gv * (cr - 128), l + bu * (cb - 128)].map((v) =>
    Math.max(0, Math.min(255, Math.round(v))),
  );
}

// The pattern's 75% bars (src/sources/testpattern/draw.ts): grey, yellow, cyan, green, magenta, red, blue.
const BARS: Array<[string, number, number, number]> = [
  ['grey', 180, 128, 128],
  ['yellow', 162, 44, 142],
  ['cyan', 131, 156, 44],
  ['green', 112, 72, 58],
  ['magenta', 84, 184, 198],
  ['red', 65, 100, 212],
  ['blue', 35, 212, 114],
];

describe('web page', () => {
  it('lists the test pattern and plays it in Chromium over WebRTC: currentTime > 2 within 5 s, the screenshot shows the bars and a readable, current clock', async (t) => {
    if (!requireChromium(t)) return;
    const httpPort = await freePort();
    const cli = await startCli(['--pattern', '640x480@25', '--http-port', String(httpPort)]);
    let browser: Browser | undefined;
    try {
      await cli.waitForLine((l) => l.msg === 'http serving');
      browser = await launchChromium();
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      const loadStart = performance.now();
      // The page's list is the JSON API's (it has no list of its own).
      const listed = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/paths', {
        timeout: 5000,
      });
      await page.goto(`http://127.0.0.1:${httpPort}/`);
      assert.equal((await listed).status(), 200);
      assert.equal((await fetch(`http://127.0.0.1:${httpPort}/web/paths.json`)).status, 404);

      // The page lists the path with its codec.
      const card = page.locator('article[data-path="/test"]');
      await card.waitFor({ timeout: 5000 });
      assert.match((await card.locator('.facts').textContent()) ?? '', /video H264/);
      assert.match((await card.locator('.source').textContent()) ?? '', /test pattern 640x480@25/);

      // The preview plays: currentTime past 2 s within 5 s of the load.
      const video = card.locator('video');
      let currentTime = 0;
      while (performance.now() - loadStart < 5000) {
        currentTime = await video.evaluate((v: VideoElement) => v.currentTime);
        if (currentTime > 2) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const playingAfterMs = Math.round(performance.now() - loadStart);
      assert.ok(
        currentTime > 2,
        `the preview's currentTime is ${currentTime} ${playingAfterMs} ms after the load`,
      );
      t.diagnostic(`currentTime ${currentTime.toFixed(2)} s at ${playingAfterMs} ms after the load`);
      const size = await video.evaluate((v: VideoElement) => [v.videoWidth, v.videoHeight]);
      assert.deepEqual(size, [640, 480], 'the browser decodes the picture at its size');

      // The page counts the preview as a reader (polled every 1.5 s), as the API does.
      await page.waitForFunction(
        `document.querySelector('article[data-path="/test"] .facts')?.dataset.readers === '1'`,
        undefined,
        { timeout: 5000 },
      );
      const api = (await (await fetch(`http://127.0.0.1:${httpPort}/api/v1/paths/test`)).json()) as {
        readers: number;
        webrtcReaders: number;
        tracks: Array<{ webrtc: boolean }>;
      };
      assert.deepEqual([api.readers, api.webrtcReaders, api.tracks[0].webrtc], [1, 1, true]);

      // A screenshot at the picture's own size, pixel for pixel.
      await video.evaluate((v: VideoElement) => {
        Object.assign(v.style, {
          position: 'fixed',
          left: '0',
          top: '0',
          zIndex: '9',
          width: '640px',
          height: '480px',
        });
      });
      const shotAtMs = Date.now();
      const shot = decodePng(await page.screenshot({ clip: { x: 0, y: 0, width: 640, height: 480 } }));
      assert.equal(shot.width, 640);
      assert.equal(shot.height, 480);
      const px = (x: number, y: number) => {
        const i = (y * shot.width + x) * 4;
        return [shot.rgba[i], shot.rgba[i + 1], shot.rgba[i + 2]];
      };

      // The colour bars, sampled in the middle of each bar above the moving box.
      for (const [i, [name, y, cb, cr]] of BARS.entries()) {
        const x = Math.round(((i + 0.5) * 640) / BARS.length);
        const got = px(x, 24);
        const wants = [rgbOf('709', y, cb, cr), rgbOf('601', y, cb, cr)];
        const off = Math.min(...wants.map((want) => Math.max(...got.map((v, k) => Math.abs(v - want[k])))));
        assert.ok(
          off <= 16,
          `${name} bar at x=${x}: got rgb(${got}), want about rgb(${wants[0]}) or rgb(${wants[1]})`,
        );
      }

      // The clock line, read cell by cell against the pattern's font.
      const ink = clockSamplePoints(clockGeometry(640, 480)).map(([x, y]) => {
        const [r, g, b] = px(x, y);
        return 0.299 * r + 0.587 * g + 0.114 * b > 128 ? 1 : 0;
      });
      const clock = readClock(ink);
      t.diagnostic(
        `clock read from the screenshot: "${clock.text}" (worst cell ${clock.worst} font pixels off)`,
      );
      assert.ok(
        clock.worst <= 2,
        `every clock character matches a glyph: "${clock.text}" worst ${clock.worst}`,
      );
      const shown = clockMs(clock.text);
      assert.ok(shown !== undefined, `the clock reads as HH:MM:SS.mmm UTC: "${clock.text}"`);
      const day = 86_400_000;
      const behind = (((((shotAtMs % day) - shown + day) % day) + day / 2) % day) - day / 2;
      t.diagnostic(`the clock in the screenshot is ${behind} ms behind the wall clock`);
      assert.ok(behind > -1000 && behind < 5000, `the picture shows the current time (${behind} ms behind)`);

      // Leaving the page ends the WebRTC session on the server.
      await page.close();
      const ended = await cli.waitForLine((l) => l.msg === 'webrtc preview ended', 15_000);
      assert.ok((ended.packets as number) > 50, 'the preview got packets');
    } finally {
      await browser?.close();
      cli.child.kill('SIGTERM');
    }
    assert.equal(await cli.exited, 0);
    const started = cli.logLines().filter((l) => l.msg === 'webrtc preview started').length;
    const endedCount = cli.logLines().filter((l) => l.msg === 'webrtc preview ended').length;
    assert.equal(started, 1);
    assert.equal(endedCount, started, 'every WebRTC session ended');
  });
});
