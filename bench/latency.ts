// `npm run bench` (second part): glass-to-client latency of the built-in test pattern. K clients
// (1, 10, 50) play over TCP; each depacketizes H.264, reads the timestamp SEI every picture carries
// and measures receipt time minus generation time. Also the generator's CPU per second of video.
// Options: --seconds 10 --only 1,10,50 --write/--no-write
import { fork } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { H264Depacketizer } from '../src/codecs/h264/depacketizer.js';
import { parseTimestampSei } from '../src/codecs/h264/encoder/sei.js';
import { RtspParser } from '../src/protocol/parser.js';
import { BENCHMARKS_MD, writeBenchmarksSection } from './benchmarks-md.js';

const SERVER = fileURLToPath(new URL('./latency-server.ts', import.meta.url));
export const LATENCY_START = '<!-- latency:start -->';
export const LATENCY_END = '<!-- latency:end -->';

interface Stats {
  frames: number;
  videoSeconds: number;
  encodeMs: number;
  processCpuS: number;
  wallS: number;
  width: number;
  height: number;
  fps: number;
}

const now = () => performance.timeOrigin + performance.now();

/** One RTSP/TCP client that records the delay of every picture it completes. */
function startClient(port: number, delays: number[], until: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const url = `rtsp://127.0.0.1:${port}/test`;
    const socket = connect(port, '127.0.0.1');
    const parser = new RtspParser({ maxBodyBytes: 1 << 20 });
    const depack = new H264Depacketizer();
    let step = 0;
    let session = '';
    const send = (method: string, uri: string, extra: string) =>
      socket.write(`${method} ${uri} RTSP/1.0\r\nCSeq: ${++step}\r\n${extra}\r\n`);
    socket.on('connect', () =>
      send('SETUP', `${url}/trackID=0`, 'Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n'),
    );
    socket.on('error', reject);
    socket.on('close', () => resolve());
    socket.on('data', (chunk: Buffer) => {
      for (const m of parser.push(chunk)) {
        if (m.kind === 'response') {
          if (m.status !== 200) return reject(new Error(`status ${m.status}`));
          if (step === 1) {
            session = (m.headers.get('session') ?? '').split(';')[0];
            send('PLAY', url, `Session: ${session}\r\n`);
          } else if (step === 2) resolve();
        } else if (m.kind === 'interleaved' && m.channel === 0) {
          const au = depack.push(m.data);
          if (!au) continue;
          const arrived = now();
          for (const nal of au.nalus) {
            if ((nal[0] & 0x1f) !== 6) continue;
            const sei = parseTimestampSei(nal);
            if (sei && !until()) delays.push(arrived - sei.wallClockMs);
          }
        }
      }
    });
    closers.push(() => socket.destroy());
  });
}

const closers: Array<() => void> = [];

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function runOne(k: number, seconds: number) {
  const child = fork(SERVER, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<{ port: number }>((resolve) =>
    child.once('message', (m) => resolve(m as { port: number })),
  );
  const delays: number[] = [];
  let over = false;
  await Promise.all(Array.from({ length: k }, () => startClient(ready.port, delays, () => over)));
  // Settle (the first IDR), then measure a window.
  await new Promise((r) => setTimeout(r, 1000));
  delays.length = 0;
  const ask = () =>
    new Promise<Stats>((resolve) => {
      child.once('message', (m) => resolve(m as Stats));
      child.send({ type: 'stats' });
    });
  const before = await ask();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  over = true;
  const after = await ask();
  for (const c of closers.splice(0)) c();
  child.send({ type: 'stop' });
  await new Promise((r) => child.once('exit', r));
  const sorted = [...delays].sort((a, b) => a - b);
  const videoS = after.videoSeconds - before.videoSeconds;
  return {
    k,
    pictures: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
    generatorCpuMsPerVideoS: (after.encodeMs - before.encodeMs) / videoS,
    serverCpuS: after.processCpuS - before.processCpuS,
    windowS: after.wallS - before.wallS,
    format: `${after.width}x${after.height}@${after.fps}`,
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '10' },
      only: { type: 'string', default: '1,10,50' },
      write: { type: 'boolean' },
      'no-write': { type: 'boolean' },
    },
  });
  const seconds = Number(values.seconds);
  const ks = String(values.only)
    .split(',')
    .map((x) => Number(x.trim()));
  if (ks.some((k) => !Number.isInteger(k) || k < 1 || k > 500)) {
    console.error(`--only takes client counts from 1 to 500, e.g. 1,10,50 (got ${values.only})`);
    process.exit(2);
  }
  const rows = [];
  for (const k of ks) {
    const r = await runOne(k, seconds);
    rows.push(r);
    console.log(
      `latency k=${r.k}: ${r.pictures} pictures, delay p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ` +
        `max ${r.max.toFixed(2)} ms; generator ${r.generatorCpuMsPerVideoS.toFixed(1)} ms CPU per s of video; ` +
        `server ${r.serverCpuS.toFixed(2)} CPU s / ${r.windowS.toFixed(1)} s`,
    );
  }
  const write = values['no-write'] ? false : values.write || (seconds === 10 && ks.join(',') === '1,10,50');
  if (!write) return;
  const table = [
    '| clients | pictures timed | delay p50 ms | delay p99 ms | delay max ms | generator CPU ms per s of video | server CPU s per window |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.k} | ${r.pictures} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(2)} | ${r.generatorCpuMsPerVideoS.toFixed(1)} | ${r.serverCpuS.toFixed(2)} / ${r.windowS.toFixed(1)} s |`,
    ),
  ].join('\n');
  const section = `${LATENCY_START}
## Latency: the test pattern, generation to receipt

Produced by \`npm run bench\` (bench/latency.ts). Last run: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}.
The server serves the default stream (${rows[0]?.format}, 2 s GOP) in its own process; K clients in
one other process play it over TCP, reassemble each picture (H.264 depacketizer) and subtract the
generation time carried in the picture's timestamp SEI from the time the picture's last packet
arrived. Both processes read the same clock. ${seconds} s window per row, after 1 s of settling.

${table}

"generator CPU" is the time spent drawing and encoding, per second of video produced (1000 ms would
be a whole core); "server CPU" is the whole server process (generator, packetizing, sending) over the
window.
${LATENCY_END}`;
  writeBenchmarksSection(LATENCY_START, LATENCY_END, section);
  console.log(`wrote the latency section of ${BENCHMARKS_MD}`);
}

await main();
