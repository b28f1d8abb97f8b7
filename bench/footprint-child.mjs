// One footprint case, alone in a fresh process (started by bench/footprint.ts): plain JavaScript and
// no tsx, so what is measured is Node, the built package and nothing else. Prints one JSON line.
//   node bench/footprint-child.mjs bare|import|stream [entry] [seconds]
// bare: nothing imported; import: the package entry imported; stream: imported, a server on loopback
// and one H.264 stream pushed at 25 fps from the sample clip for [seconds]. The parent may play the
// stream meanwhile (the child prints `listening <port>` first and waits for a line on stdin to start).
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [mode = 'bare', entry = 'smolrtsp', secondsArg = '3'] = process.argv.slice(2);
const SAMPLE = new URL('../fixtures/sample-640x480-25fps.264', import.meta.url);

const START_CODE = Buffer.from([0, 0, 1]);

/**
 * The sample clip's access units: NAL units up to and including each slice (types 1 and 5).
 * Start codes are found with Buffer#indexOf, not a loop over the bytes in JavaScript: such a loop
 * gets optimised, and the optimising compiler's memory (~4 MB of RSS here) would be counted as the
 * library's, which a camera handing over its frames never pays.
 */
function accessUnits(bytes) {
  const starts = [];
  for (let i = bytes.indexOf(START_CODE); i >= 0; i = bytes.indexOf(START_CODE, i + 3)) starts.push(i + 3);
  const units = [];
  let pending = [];
  for (let k = 0; k < starts.length; k++) {
    let end = k + 1 < starts.length ? starts[k + 1] - 3 : bytes.length;
    while (end > starts[k] && bytes[end - 1] === 0) end--;
    const nal = bytes.subarray(starts[k], end);
    pending.push(nal);
    const type = nal[0] & 0x1f;
    if (type === 1 || type === 5) {
      units.push(pending);
      pending = [];
    }
  }
  return units;
}

const report = (fields) => {
  const mem = process.memoryUsage();
  process.stdout.write(
    `${JSON.stringify({ mode, ...fields, rssMB: mem.rss / 2 ** 20, heapMB: mem.heapUsed / 2 ** 20 })}\n`,
  );
};

const t0 = performance.now();
const lib = mode === 'bare' ? undefined : await import(entry);
const importMs = performance.now() - t0;

if (mode !== 'stream') {
  report({ importMs });
} else {
  const units = accessUnits(readFileSync(SAMPLE));
  const server = await lib.createServer({ host: '127.0.0.1', port: 0 });
  const track = server.addStream('/footprint', { video: { codec: 'H264' } }).video;
  let sessions = 0;
  server.on('play', () => sessions++);
  process.stdout.write(`listening ${server.port}\n`);
  // The parent says when its client (if any) is in place; then the push runs for a fixed time.
  await new Promise((resolve) => createInterface({ input: process.stdin }).once('line', resolve));
  let n = 0;
  const started = performance.now();
  const seconds = Number(secondsArg);
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      track.push(units[n % units.length], { pts: n * 40_000 });
      n++;
      if (performance.now() - started >= seconds * 1000) {
        clearInterval(timer);
        resolve();
      }
    }, 40);
  });
  report({ importMs, frames: n, sessions });
  await server.close();
}
process.exit(0);
