// `npm run bench:chain` (and the last part of `npm run bench`): the latency each hop of an origin →
// edge chain adds. A: the built-in test pattern (every picture carries its generation time in a
// timestamp SEI); B: an origin, a publish path that `ffmpeg -c copy -f rtsp` feeds from A; C: an
// edge, a RelaySource of B (what `serve --relay` runs). Each server is a process of its own; K
// clients on each of A, B and C (in this process) read the stamps of the pictures they complete.
// Options: --seconds 10 --only 1,10 --write/--no-write
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { RtspClient } from '../src/client/rtsp-client.js';
import { parseTimestampSei } from '../src/codecs/h264/encoder/sei.js';
import { wallClockMs } from '../src/media/track.js';
import { BENCHMARKS_MD, writeBenchmarksSection } from './benchmarks-md.js';
import type { ChainServerMessage } from './chain-server.js';

const PATTERN_SERVER = fileURLToPath(new URL('./latency-server.ts', import.meta.url));
const CHAIN_SERVER = fileURLToPath(new URL('./chain-server.ts', import.meta.url));
export const CHAIN_START = '<!-- chain:start -->';
export const CHAIN_END = '<!-- chain:end -->';
const SETTLE_MS = 2000;
const START_TIMEOUT_MS = 30_000;

type Name = 'A' | 'B' | 'C';
const NAMES: Name[] = ['A', 'B', 'C'];
const ROLE: Record<Name, string> = {
  A: 'A pattern',
  B: 'B origin (publish path)',
  C: 'C edge (relay of B)',
};

interface ServerProcess {
  child: ChildProcess;
  port: number;
  path: string;
}

interface CpuStats {
  processCpuS: number;
  wallS: number;
}

/** The next message from `child` that `pick` accepts, or a rejection after `timeoutMs`. */
function nextMessage<T>(
  child: ChildProcess,
  pick: (m: unknown) => T | undefined,
  timeoutMs: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`no answer from ${child.spawnargs.join(' ')} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (m: unknown) => {
      const v = pick(m);
      if (v === undefined) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(v);
    };
    child.on('message', onMessage);
  });
}

async function startServer(script: string, args: string[], path: string): Promise<ServerProcess> {
  const child = fork(script, args, {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await nextMessage(
    child,
    (m) => ((m as { type?: string }).type === 'ready' ? (m as { port: number }).port : undefined),
    START_TIMEOUT_MS,
  );
  return { child, port, path };
}

function cpu(server: ServerProcess): Promise<CpuStats> {
  const answer = nextMessage(
    server.child,
    (m) => ((m as { type?: string }).type === 'stats' ? (m as CpuStats) : undefined),
    10_000,
  );
  server.child.send({ type: 'stats' });
  return answer;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summary(values: number[]): { n: number; p50: number; p99: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

const median = (values: number[]) => summary(values).p50;

/** Delays (ms, receipt minus generation) seen by K clients of one server, by frame number. */
type Delays = Map<number, number[]>;

async function measure(servers: Record<Name, ServerProcess>, k: number, seconds: number) {
  const delays: Record<Name, Delays> = { A: new Map(), B: new Map(), C: new Map() };
  let recording = false;
  const clients: RtspClient[] = [];
  for (const name of NAMES) {
    const { port, path } = servers[name];
    for (let i = 0; i < k; i++) {
      const client = new RtspClient(`rtsp://127.0.0.1:${port}${path}`, {
        transport: 'tcp',
        tracks: (t) => t.media.kind === 'video',
      });
      client.on('unit', (unit) => {
        if (!recording || !Array.isArray(unit.data)) return;
        const arrived = wallClockMs();
        for (const nal of unit.data) {
          const sei = parseTimestampSei(nal);
          if (!sei) continue;
          const list = delays[name].get(sei.frameNumber) ?? [];
          list.push(arrived - sei.wallClockMs);
          delays[name].set(sei.frameNumber, list);
        }
      });
      clients.push(client);
    }
  }
  try {
    await Promise.all(clients.map((c) => c.start()));
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const before = await Promise.all(NAMES.map((n) => cpu(servers[n])));
    recording = true;
    await new Promise((r) => setTimeout(r, seconds * 1000));
    recording = false;
    const after = await Promise.all(NAMES.map((n) => cpu(servers[n])));
    const perServer = NAMES.map((name, i) => ({
      name,
      ...summary([...delays[name].values()].flat()),
      cpuS: after[i].processCpuS - before[i].processCpuS,
      windowS: after[i].wallS - before[i].wallS,
    }));
    // A hop's cost per picture: the median delay of its K clients at the far server minus that at
    // the near one, over the pictures both saw.
    const hop = (near: Name, far: Name) => {
      const added: number[] = [];
      for (const [frame, farDelays] of delays[far]) {
        const nearDelays = delays[near].get(frame);
        if (nearDelays) added.push(median(farDelays) - median(nearDelays));
      }
      return { hop: `${near}→${far}`, ...summary(added) };
    };
    return { k, perServer, hops: [hop('A', 'B'), hop('B', 'C')] };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

type Run = Awaited<ReturnType<typeof measure>>;

function stopServer(server: ServerProcess | undefined): Promise<void> {
  if (!server || server.child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => server.child.kill('SIGKILL'), 5000);
    server.child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    server.child.send({ type: 'stop' });
  });
}

function waitAvailable(server: ServerProcess, what: string): Promise<void> {
  return nextMessage(
    server.child,
    (m) => ((m as ChainServerMessage).type === 'available' ? true : undefined),
    START_TIMEOUT_MS,
  ).then(
    () => undefined,
    () => {
      throw new Error(`${what} had no media within ${START_TIMEOUT_MS} ms`);
    },
  );
}

const f = (x: number) => x.toFixed(2);

async function main() {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '10' },
      only: { type: 'string', default: '1,10' },
      write: { type: 'boolean' },
      'no-write': { type: 'boolean' },
    },
  });
  const seconds = Number(values.seconds);
  if (!(seconds > 0 && seconds <= 60)) {
    console.error(`--seconds takes 1 to 60 (got ${values.seconds})`);
    process.exit(2);
  }
  const ks = String(values.only)
    .split(',')
    .map((x) => Number(x.trim()));
  if (ks.some((k) => !Number.isInteger(k) || k < 1 || k > 100)) {
    console.error(`--only takes client counts (per server) from 1 to 100, e.g. 1,10 (got ${values.only})`);
    process.exit(2);
  }
  // Whatever happens, the run ends: the children and ffmpeg are killed with it.
  const guard = setTimeout(
    () => {
      console.error('chain bench: out of time');
      process.exit(1);
    },
    (60 + ks.length * (seconds + 20)) * 1000,
  );
  guard.unref();

  const servers: Partial<Record<Name, ServerProcess>> = {};
  let publisher: ChildProcess | undefined;
  const runs: Run[] = [];
  try {
    servers.A = await startServer(PATTERN_SERVER, [], '/test');
    servers.B = await startServer(CHAIN_SERVER, ['origin'], '/live');
    const originAvailable = waitAvailable(servers.B, 'the origin');
    // biome-ignore format: one ffmpeg option per line pair
    publisher = spawn('ffmpeg', [
      '-nostdin', '-v', 'error', '-rtsp_transport', 'tcp', '-fflags', 'nobuffer',
      '-i', `rtsp://127.0.0.1:${servers.A.port}/test`, '-c', 'copy',
      '-f', 'rtsp', '-rtsp_transport', 'tcp', `rtsp://127.0.0.1:${servers.B.port}/live`,
    ], { stdio: ['ignore', 'ignore', 'inherit'] });
    publisher.on('exit', (code, signal) => {
      if (signal === null) console.error(`chain bench: the ffmpeg publisher exited (${code})`);
    });
    await originAvailable;
    servers.C = await startServer(CHAIN_SERVER, ['edge', `rtsp://127.0.0.1:${servers.B.port}/live`], '/live');
    await waitAvailable(servers.C, 'the edge');
    const all = servers as Record<Name, ServerProcess>;
    for (const k of ks) {
      const r = await measure(all, k, seconds);
      runs.push(r);
      for (const s of r.perServer) {
        console.log(
          `chain k=${k} ${ROLE[s.name]}: ${s.n} delays, p50 ${f(s.p50)} ms, p99 ${f(s.p99)} ms, max ${f(s.max)} ms; ` +
            `CPU ${f(s.cpuS)} s / ${s.windowS.toFixed(1)} s`,
        );
      }
      for (const h of r.hops) {
        console.log(
          `chain k=${k} hop ${h.hop}: ${h.n} pictures, added p50 ${f(h.p50)} ms, p99 ${f(h.p99)} ms, max ${f(h.max)} ms`,
        );
      }
    }
  } finally {
    publisher?.kill('SIGKILL');
    await Promise.all(NAMES.map((n) => stopServer(servers[n])));
    clearTimeout(guard);
  }

  const write = values['no-write'] ? false : values.write || (seconds === 10 && ks.join(',') === '1,10');
  if (!write) return;
  const serverRows = runs.flatMap((r) =>
    r.perServer.map(
      (s) =>
        `| ${r.k} | ${ROLE[s.name]} | ${s.n} | ${f(s.p50)} | ${f(s.p99)} | ${f(s.max)} | ${f(s.cpuS)} / ${s.windowS.toFixed(1)} s |`,
    ),
  );
  const hopRows = runs.flatMap((r) =>
    r.hops.map((h) => `| ${r.k} | ${h.hop} | ${h.n} | ${f(h.p50)} | ${f(h.p99)} | ${f(h.max)} |`),
  );
  const section = `${CHAIN_START}
## Latency per hop: pattern → origin → edge

Produced by \`npm run bench\` (bench/chain.ts). Last run: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}.
A serves the built-in test pattern (640x480@25, 2 s GOP), each picture stamped with its generation
time (timestamp SEI). B is an origin: a publish path that \`ffmpeg -rtsp_transport tcp -i A -c copy
-f rtsp -rtsp_transport tcp B\` feeds. C is an edge: a relay of B (RelaySource, as \`serve --relay\`).
A, B and C each run in a process of their own; K clients per server, in one other process, play over
TCP, reassemble each picture and subtract its stamp from the time it completed. ${seconds} s window
per row, after ${SETTLE_MS / 1000} s of settling.

| clients per server | server | delays timed | delay p50 ms | delay p99 ms | delay max ms | server CPU s per window |
| ---: | --- | ---: | ---: | ---: | ---: | ---: |
${serverRows.join('\n')}

Added per hop, per picture: the median delay of the K clients at the far server minus that at the
near one. A→B includes the ffmpeg process that copies A's stream into B's publish path, which holds
each picture until the next one begins (its H.264 parser): about one frame interval, 40 ms at 25 fps
(ffmpeg copying A to a pipe shows the same). B→C is smolrtsp alone: the relay's client, then its
fan-out.

| clients per server | hop | pictures | added p50 ms | added p99 ms | added max ms |
| ---: | --- | ---: | ---: | ---: | ---: |
${hopRows.join('\n')}
${CHAIN_END}`;
  writeBenchmarksSection(CHAIN_START, CHAIN_END, section);
  console.log(`wrote the chain section of ${BENCHMARKS_MD}`);
}

await main();
