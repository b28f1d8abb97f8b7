// `npm run bench:web`: the web page's preview in headless Chromium (Debian's, via playwright-core):
// how long until the first picture shows, and glass-to-glass latency from the clock the test pattern
// burns into each picture (the same time its SEI carries) to the moment Chromium presents it.
// A browser cannot read SEI from a <video>, so the clock is read from the pixels: at each
// requestVideoFrameCallback the presented frame is drawn to a canvas and its clock line matched
// against the pattern's font. Server and browser run on this machine, on one wall clock.
// Options: --seconds N (default 10)  --write / --no-write
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import {
  clockGeometry,
  clockMs,
  clockSamplePoints,
  launchChromium,
  readClock,
} from '../test/helpers/browser.js';
import { freePort, startCli } from '../test/helpers/cli.js';
import { CHROMIUM, hasTool } from '../test/helpers/tools.js';
import { BENCHMARKS_MD, writeBenchmarksSection } from './benchmarks-md.js';

export const WEB_START = '<!-- web-latency:start -->';
export const WEB_END = '<!-- web-latency:end -->';
const WIDTH = 640;
const HEIGHT = 480;
const FPS = 25;

const { values } = parseArgs({
  options: { seconds: { type: 'string' }, write: { type: 'boolean' }, 'no-write': { type: 'boolean' } },
});
const seconds = Number(values.seconds ?? 10);

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/**
 * Runs in the page: for `ms`, at every presented frame, the ink bits of the clock line (one per
 * sample point) and when the frame is shown (wall-clock ms). A string, so nothing of our TypeScript
 * toolchain has to run in the browser.
 */
const COLLECT = `async ([points, ms]) => {
  const video = document.querySelector('article[data-path="/test"] video');
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  const g = canvas.getContext('2d', { willReadFrequently: true });
  const frames = [];
  const end = performance.now() + ms;
  await new Promise((resolve) => {
    const onFrame = (now, meta) => {
      g.drawImage(video, 0, 0);
      const img = g.getImageData(0, 0, canvas.width, canvas.height).data;
      let bits = '';
      for (const [x, y] of points) {
        const i = (y * canvas.width + x) * 4;
        bits += 0.299 * img[i] + 0.587 * img[i + 1] + 0.114 * img[i + 2] > 128 ? '1' : '0';
      }
      frames.push({ bits, shownAt: performance.timeOrigin + meta.expectedDisplayTime });
      if (performance.now() < end) video.requestVideoFrameCallback(onFrame);
      else resolve();
    };
    video.requestVideoFrameCallback(onFrame);
  });
  return frames;
}`;

async function main(): Promise<void> {
  if (!hasTool(CHROMIUM)) {
    console.log(`bench:web skipped: ${CHROMIUM} not found (Debian's chromium package)`);
    return;
  }
  const httpPort = await freePort();
  const cli = await startCli(['--pattern', `${WIDTH}x${HEIGHT}@${FPS}`, '--http-port', String(httpPort)]);
  const browser = await launchChromium();
  let firstPictureMs = 0;
  let frames: Array<{ bits: string; shownAt: number }> = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const loadStart = performance.now();
    await page.goto(`http://127.0.0.1:${httpPort}/`);
    await page.waitForFunction(
      `(document.querySelector('article[data-path="/test"] video')?.currentTime ?? 0) > 0`,
      undefined,
      { timeout: 15_000, polling: 10 },
    );
    firstPictureMs = performance.now() - loadStart;
    // A second to settle (jitter buffer), then the measured window.
    await page.waitForTimeout(1000);
    const points = clockSamplePoints(clockGeometry(WIDTH, HEIGHT));
    frames = (await page.evaluate(
      `(${COLLECT})(${JSON.stringify([points, seconds * 1000])})`,
    )) as typeof frames;
  } finally {
    await browser.close();
    cli.child.kill('SIGTERM');
    await cli.exited;
  }
  const day = 86_400_000;
  const latencies: number[] = [];
  let unreadable = 0;
  for (const f of frames) {
    const clock = readClock([...f.bits].map(Number));
    const burned = clock.worst <= 2 ? clockMs(clock.text) : undefined;
    if (burned === undefined) {
      unreadable++;
      continue;
    }
    latencies.push((((((f.shownAt % day) - burned + day) % day) + day / 2) % day) - day / 2);
  }
  const fmt = (x: number) => x.toFixed(0);
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  console.log(
    `web preview: first picture ${fmt(firstPictureMs)} ms after the load; glass-to-glass over ${frames.length} presented frames (${unreadable} unreadable): p50 ${fmt(p50)} ms, p99 ${fmt(p99)} ms, min ${fmt(Math.min(...latencies))} ms, max ${fmt(Math.max(...latencies))} ms`,
  );
  if (latencies.length < frames.length / 2 || latencies.length === 0) {
    throw new Error(`only ${latencies.length} of ${frames.length} frames had a readable clock`);
  }
  const write = values['no-write'] ? false : (values.write ?? values.seconds === undefined);
  if (!write) return;
  const section = `${WEB_START}
## Web page preview (WebRTC) latency

Produced by \`npm run bench:web\` (bench/web-latency.ts, about ${seconds + 5} s). Last run: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}, load average ${loadavg()[0].toFixed(2)}.
\`smolrtsp serve --pattern ${WIDTH}x${HEIGHT}@${FPS} --http-port P\`, its page opened in headless Chromium (Debian's),
the preview played over WHEP on loopback. Glass-to-glass: from the time the pattern burns into a
picture when it draws it (the time its SEI carries too) to the time Chromium presents that picture
(\`requestVideoFrameCallback\`'s expectedDisplayTime), the clock read from the presented pixels with
the pattern's font, over ${seconds} s.

| first picture after the page load | frames read | glass-to-glass p50 | p99 | min | max |
|---:|---:|---:|---:|---:|---:|
| ${fmt(firstPictureMs)} ms | ${latencies.length}/${frames.length} | ${fmt(p50)} ms | ${fmt(p99)} ms | ${fmt(Math.min(...latencies))} ms | ${fmt(Math.max(...latencies))} ms |
${WEB_END}`;
  writeBenchmarksSection(WEB_START, WEB_END, section);
  console.log(`wrote the web preview section of ${BENCHMARKS_MD}`);
}

await main();
