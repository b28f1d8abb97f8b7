// `npm run bench:play`: how long a client waits for PLAY's answer and for its first keyframe, apart.
// N clients (1, 50, 500) connect over TCP to a server looping an H.264 file with a 1 s or a 4 s GOP
// (made here with ffmpeg from lavfi testsrc2, cached in the temp dir). Each scenario stops by itself.
// Options: --only gop25-50,gop100-1  --write / --no-write
import { execFileSync, fork } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BENCHMARKS_MD, writeBenchmarksSection } from './benchmarks-md.js';
import { LoadClient } from './load-client.js';

const SERVER = fileURLToPath(new URL('./play-start-server.ts', import.meta.url));
export const PLAY_START = '<!-- play-start:start -->';
export const PLAY_END = '<!-- play-start:end -->';
const FPS = 25;
const GROUP = 50;
const REQUEST_TIMEOUT_MS = 10_000;

interface Scenario {
  name: string;
  gopFrames: number;
  clients: number;
}

const SCENARIOS: Scenario[] = [25, 100].flatMap((gopFrames) =>
  [1, 50, 500].map((clients) => ({ name: `gop${gopFrames}-${clients}`, gopFrames, clients })),
);

interface Result {
  scenario: Scenario;
  playing: number;
  errors: string[];
  play: number[];
  playRequest: number[];
  keyframe: number[];
  firstIsKeyframe: number;
  loadAvg: number;
}

/** An 8 s H.264 clip, 640x480 at 25 fps, with an IDR every `gopFrames` frames and no B-frames. */
function clip(gopFrames: number): string {
  const dir = join(tmpdir(), 'smolrtsp-bench-play');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `testsrc2-640x480-25fps-g${gopFrames}.264`);
  if (existsSync(file)) return file;
  const partial = `${file}.part`;
  // biome-ignore format: one ffmpeg option per line pair
  execFileSync('ffmpeg', [
    '-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=640x480:rate=${FPS}`, '-t', '8',
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-bf', '0',
    '-g', String(gopFrames), '-keyint_min', String(gopFrames), '-sc_threshold', '0', '-f', 'h264', partial,
  ], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 60_000 });
  renameSync(partial, file);
  return file;
}

function percentile(values: number[], p: number): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function runOne(scenario: Scenario, file: string): Promise<Result> {
  const child = fork(SERVER, [], {
    env: { ...process.env, BENCH_FILE: file },
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const gopMs = (scenario.gopFrames * 1000) / FPS;
  const clients: LoadClient[] = [];
  const result: Result = {
    scenario,
    playing: 0,
    errors: [],
    play: [],
    playRequest: [],
    keyframe: [],
    firstIsKeyframe: 0,
    loadAvg: loadavg()[0],
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('server did not start')), 20_000);
      child.once('message', (m: { port: number }) => {
        clearTimeout(timer);
        resolve(m.port);
      });
      child.once('exit', (code) => reject(new Error(`server exited (${code})`)));
    });
    // Start the ramp half a GOP after a keyframe (the file starts with one), past the first second.
    await sleep(gopMs * Math.ceil(1000 / gopMs) + gopMs / 2);
    const url = `rtsp://127.0.0.1:${port}/bench`;
    // One unmeasured client first: the figures are a running server's, not its first request's
    // (cold code paths and JIT), which only the very first client of a server ever meets.
    const warm = new LoadClient({
      port,
      host: '127.0.0.1',
      url,
      transport: 'tcp',
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
    });
    await warm.start(() => {}).catch(() => {});
    warm.close();
    const started: Array<Promise<void>> = [];
    for (let i = 0; i < scenario.clients; i += GROUP) {
      const group: Array<Promise<void>> = [];
      for (let k = i; k < Math.min(scenario.clients, i + GROUP); k++) {
        const c = new LoadClient({
          port,
          host: '127.0.0.1',
          url,
          transport: 'tcp',
          requestTimeoutMs: REQUEST_TIMEOUT_MS,
        });
        clients.push(c);
        let setupDone: () => void = () => {};
        group.push(new Promise<void>((r) => (setupDone = r)));
        const run = c.start(setupDone).catch((err: Error) => {
          setupDone();
          result.errors.push(err.message);
        });
        started.push(run);
      }
      // The next group starts when this one's SETUPs are answered (PLAY may still be waiting).
      await Promise.all(group);
    }
    await Promise.all(started);
    // Every playing client's first keyframe, or two GOPs and a bit past the last answer.
    const deadline = performance.now() + 2 * gopMs + 2000;
    while (performance.now() < deadline && clients.some((c) => c.playAnsweredAt > 0 && c.firstRtpAt === 0))
      await sleep(20);
    for (const c of clients) {
      if (c.playAnsweredAt === 0) continue;
      result.playing++;
      result.play.push(c.playMs);
      result.playRequest.push(c.playRequestMs);
      result.keyframe.push(c.firstPacketMs);
      if (c.firstRtpKeyframe === true) result.firstIsKeyframe++;
    }
  } finally {
    for (const c of clients) c.close();
    child.disconnect();
    await Promise.race([new Promise((r) => child.once('exit', r)), sleep(3000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  return result;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? (x < 10 ? x.toFixed(1) : x.toFixed(0)) : '—';
}

function table(results: Result[]): string {
  const rows = results.map((r) => {
    const s = r.scenario;
    return `| ${s.gopFrames / FPS} s (${s.gopFrames} frames) | ${s.clients} | ${r.playing}/${s.clients} | ${fmt(percentile(r.playRequest, 50))} | ${fmt(percentile(r.playRequest, 99))} | ${fmt(percentile(r.play, 50))} | ${fmt(percentile(r.play, 99))} | ${fmt(percentile(r.keyframe, 50))} | ${fmt(percentile(r.keyframe, 99))} | ${r.firstIsKeyframe}/${r.playing} | ${r.loadAvg.toFixed(2)} |`;
  });
  return [
    '| GOP | clients | playing | PLAY sent→answered p50 ms | p99 ms | connect→PLAY answer p50 ms | p99 ms | connect→first keyframe p50 ms | p99 ms | first packet starts an IDR | load avg |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
}

async function main() {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', multiple: true },
      write: { type: 'boolean' },
      'no-write': { type: 'boolean' },
    },
  });
  const names = (values.only ?? []).flatMap((s) => s.split(',')).filter(Boolean);
  const scenarios = names.length > 0 ? SCENARIOS.filter((s) => names.includes(s.name)) : SCENARIOS;
  const files = new Map<number, string>();
  const results: Result[] = [];
  for (const s of scenarios) {
    if (!files.has(s.gopFrames)) files.set(s.gopFrames, clip(s.gopFrames));
    const r = await runOne(s, files.get(s.gopFrames)!);
    results.push(r);
    console.log(
      `${s.name}: ${r.playing}/${s.clients} playing, PLAY sent→answered p50 ${fmt(percentile(r.playRequest, 50))} p99 ${fmt(percentile(r.playRequest, 99))} ms, connect→PLAY p50 ${fmt(percentile(r.play, 50))} p99 ${fmt(percentile(r.play, 99))} ms, first keyframe p50 ${fmt(percentile(r.keyframe, 50))} p99 ${fmt(percentile(r.keyframe, 99))} ms, IDR first ${r.firstIsKeyframe}/${r.playing}${r.errors.length ? `, errors: ${r.errors.length} (${r.errors[0]})` : ''}`,
    );
  }
  console.log(`\n${table(results)}`);
  const write = values['no-write'] ? false : (values.write ?? names.length === 0);
  if (!write) return;
  const section = `${PLAY_START}
## PLAY answer and first keyframe

Produced by \`npm run bench:play\` (bench/play-start.ts, about a minute). Last run: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}.
A server in its own process loops an 8 s H.264 clip (640x480, 25 fps, ffmpeg lavfi testsrc2, libx264,
no B-frames) with an IDR every 25 or 100 frames (1 s, 4 s GOP); a file cannot make a keyframe on
demand. N clients in one other process connect over TCP in groups of ${GROUP} (the next group when
the previous SETUPs are answered), the first half a GOP after a keyframe, after one unmeasured
client has warmed the server: connect, DESCRIBE, SETUP, PLAY. "PLAY sent→answered" is the PLAY request alone; "connect→PLAY answer" adds the TCP connect,
DESCRIBE and SETUP (and, with many clients, the queue of the others' requests); "connect→first
keyframe" ends when the first RTP packet arrives, which must start an IDR (checked: last column but
one).

${table(results)}
${PLAY_END}`;
  writeBenchmarksSection(PLAY_START, PLAY_END, section);
  console.log(`wrote the PLAY-start section of ${BENCHMARKS_MD}`);
}

await main();
