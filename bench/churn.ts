// `npm run bench:churn`: what sessions that come and go leave behind, and what one held costs.
// Churn: 2,000 connect → DESCRIBE → SETUP → PLAY → TEARDOWN cycles, 50 at a time, a quarter over UDP,
// 200 of them cut abruptly (socket destroyed or reset mid-session, never torn down); the server's
// RSS and heap after forced GCs before and after, and its CPU per cycle (the idle stream's own CPU
// taken out). Memory: the server's RSS and heap with 0 and with 1,000 playing TCP sessions.
// The server runs alone in a child process (bench/churn-server.ts, --expose-gc).
// Options: --runs 2  --cycles 2000  --sessions 1000  --only churn|memory (not written)  --write / --no-write
import { fork } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { RtspResponse } from '../src/protocol/message.js';
import { RtspParser } from '../src/protocol/parser.js';
import { BENCHMARKS_MD, writeBenchmarksSection } from './benchmarks-md.js';
import type { ChurnSample, FromChurnServer, ToChurnServer } from './churn-server.js';

const SERVER = fileURLToPath(new URL('./churn-server.ts', import.meta.url));
export const CHURN_START = '<!-- churn:start -->';
export const CHURN_END = '<!-- churn:end -->';
const CONCURRENCY = 50;
const REQUEST_TIMEOUT_MS = 10_000;
const SETTLE_MS = 1000;
const MiB = 1024 * 1024;
/** The stream's bitrate in the memory run: low, so 1,000 clients on a loaded machine all keep up. */
const MEMORY_BITRATE = 250_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A minimal RTSP client: one request at a time; once playing it reads and drops what comes. */
class ChurnClient {
  private readonly parser = new RtspParser({ maxBodyBytes: 1 << 16 });
  private waiting: { resolve: (r: RtspResponse) => void; reject: (e: Error) => void } | undefined;
  private cseq = 0;
  private parsing = true;
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      if (!this.parsing) return;
      for (const m of this.parser.push(chunk)) {
        if (m.kind !== 'response' || !this.waiting) continue;
        const w = this.waiting;
        this.waiting = undefined;
        w.resolve(m);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.waiting?.reject(new Error('closed by the server'));
      this.waiting = undefined;
    });
  }

  static open(port: number): Promise<ChurnClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' }, () => {
        socket.off('error', reject);
        resolve(new ChurnClient(socket));
      });
      socket.once('error', reject);
    });
  }

  send(method: string, uri: string, headers: Record<string, string> = {}): void {
    let text = `${method} ${uri} RTSP/1.0\r\nCSeq: ${++this.cseq}\r\n`;
    for (const [k, v] of Object.entries(headers)) text += `${k}: ${v}\r\n`;
    this.socket.write(`${text}\r\n`);
  }

  request(method: string, uri: string, headers: Record<string, string> = {}): Promise<RtspResponse> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${method}: no answer in time`)), REQUEST_TIMEOUT_MS);
      this.waiting = {
        resolve: (r) => {
          clearTimeout(timer);
          if (r.status === 200) resolve(r);
          else reject(new Error(`${method}: ${r.status} ${r.reason}`));
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.send(method, uri, headers);
    });
  }

  /** From now on media is read and dropped without parsing (the client's CPU is not the server's). */
  stopParsing(): void {
    this.parsing = false;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 2000).unref();
    });
  }
}

type Cut = 'none' | 'describe' | 'setup' | 'play-destroy' | 'play-reset';

/** Every 10th cycle is cut, in four ways in turn; every 4th is UDP. */
function plan(i: number): { udp: boolean; cut: Cut } {
  const cuts: Cut[] = ['describe', 'setup', 'play-destroy', 'play-reset'];
  return { udp: i % 4 === 1, cut: i % 10 === 0 ? cuts[(i / 10) % 4] : 'none' };
}

async function setUpAndPlay(c: ChurnClient, url: string, udp: boolean, clientPort: number): Promise<string> {
  await c.request('DESCRIBE', url, { Accept: 'application/sdp' });
  const transport = udp
    ? `RTP/AVP;unicast;client_port=${clientPort}-${clientPort + 1}`
    : 'RTP/AVP/TCP;unicast;interleaved=0-1';
  const setup = await c.request('SETUP', `${url}/trackID=0`, { Transport: transport });
  return (setup.headers.get('session') ?? '').split(';')[0];
}

async function cycle(port: number, url: string, i: number): Promise<void> {
  const { udp, cut } = plan(i);
  const c = await ChurnClient.open(port);
  try {
    if (cut === 'describe') {
      c.send('DESCRIBE', url);
      c.socket.destroy();
      return;
    }
    // Client ports nobody listens on (above the server's range): the server's RTCP to them is lost.
    const session = await setUpAndPlay(c, url, udp, 50000 + (i % 5000) * 2);
    if (cut === 'setup') {
      c.socket.destroy();
      return;
    }
    await c.request('PLAY', url, { Session: session });
    if (cut === 'play-destroy') {
      c.socket.destroy();
      return;
    }
    if (cut === 'play-reset') {
      c.socket.resetAndDestroy();
      return;
    }
    await c.request('TEARDOWN', url, { Session: session });
  } finally {
    await c.close();
  }
}

/** Runs `count` jobs, `limit` at a time; resolves with the errors (none expected). */
async function bounded(count: number, limit: number, job: (i: number) => Promise<void>): Promise<string[]> {
  const errors: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await job(i).catch((e: Error) => errors.push(`#${i}: ${e.message}`));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return errors;
}

interface ServerHandle {
  port: number;
  url: string;
  sample(): Promise<ChurnSample>;
  stop(): Promise<void>;
}

async function startServer(bitsPerSecond = 1_000_000): Promise<ServerHandle> {
  const child = fork(SERVER, [], {
    env: { ...process.env, BENCH_BITRATE: String(bitsPerSecond) },
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let nextId = 0;
  const pending = new Map<number, (s: ChurnSample) => void>();
  const ready = new Promise<{ port: number; path: string }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`churn server exited (${code}) before it was ready`)));
    child.on('message', (msg: FromChurnServer) => {
      if (msg.type === 'ready') resolve(msg);
      else if (msg.type === 'sample') {
        pending.get(msg.id)?.(msg.sample);
        pending.delete(msg.id);
      }
    });
  });
  const { port, path } = await ready;
  return {
    port,
    url: `rtsp://127.0.0.1:${port}${path}`,
    sample() {
      const id = nextId++;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        child.send({ type: 'sample', id, settleMs: SETTLE_MS } satisfies ToChurnServer);
      });
    },
    async stop() {
      if (child.connected) child.send({ type: 'shutdown' } satisfies ToChurnServer);
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}

const cpuUs = (s: ChurnSample) => s.cpuUserUs + s.cpuSystemUs;

interface ChurnResult {
  start: ChurnSample;
  warm: ChurnSample;
  /** Right after the cycles (the CPU figure's end). */
  after: ChurnSample;
  /** Once V8 has given back the young generation it grew for the burst. */
  settled: ChurnSample;
  settleSeconds: number;
  cycles: number;
  warmup: number;
  seconds: number;
  cpuPerCycleMs: number;
  idleCpuPerSecondMs: number;
  errors: string[];
}

/** One churn run on a fresh server: a sample at start, after a warm-up, after the cycles. */
async function churn(cycles: number): Promise<ChurnResult> {
  const server = await startServer();
  try {
    const warmup = 200;
    const start = await server.sample();
    // The stream alone, no client: its CPU per second is taken out of the cycles' figure.
    const idleFrom = await server.sample();
    const idleT0 = performance.now();
    await sleep(3000);
    const idleTo = await server.sample();
    const idleCpuPerSecondMs =
      (cpuUs(idleTo) - cpuUs(idleFrom)) / 1000 / ((performance.now() - idleT0) / 1000);
    const errors = await bounded(warmup, CONCURRENCY, (i) => cycle(server.port, server.url, i + cycles));
    const warm = await server.sample();
    const t0 = performance.now();
    errors.push(...(await bounded(cycles, CONCURRENCY, (i) => cycle(server.port, server.url, i))));
    const seconds = (performance.now() - t0) / 1000;
    const after = await server.sample();
    // V8 grew its young generation for the burst; it gives it back once allocation slows (the memory
    // reducer, a few seconds later). Settled: young generation back to its warm size and RSS steady.
    const settleT0 = performance.now();
    let settled = after;
    for (let prev = after; performance.now() - settleT0 < 30_000; ) {
      await sleep(2000);
      settled = await server.sample();
      const young = settled.spaces.new_space <= warm.spaces.new_space * 1.1;
      if (young && Math.abs(settled.rssBytes - prev.rssBytes) < 0.5 * MiB) break;
      prev = settled;
    }
    const settleSeconds = (performance.now() - settleT0) / 1000;
    // Between the two samples: the cycles, then one settle; the stream ran all along.
    const elapsedS = seconds + SETTLE_MS / 1000;
    const cpuPerCycleMs = ((cpuUs(after) - cpuUs(warm)) / 1000 - idleCpuPerSecondMs * elapsedS) / cycles;
    return {
      start,
      warm,
      after,
      settled,
      settleSeconds,
      cycles,
      warmup,
      seconds,
      cpuPerCycleMs,
      idleCpuPerSecondMs,
      errors,
    };
  } finally {
    await server.stop();
  }
}

interface MemoryResult {
  sessions: number;
  zero: ChurnSample;
  full: ChurnSample;
  emptied: ChurnSample;
  errors: string[];
}

/** RSS and heap of a fresh server with 0, then `sessions` playing TCP sessions, then 0 again. */
async function memory(sessions: number): Promise<MemoryResult> {
  const server = await startServer(MEMORY_BITRATE);
  const clients: ChurnClient[] = [];
  try {
    // The same paths once before the zero sample, so code and pools first used by a session are in it.
    const errors = await bounded(100, CONCURRENCY, (i) => cycle(server.port, server.url, i * 4));
    const zero = await server.sample();
    errors.push(
      ...(await bounded(sessions, CONCURRENCY, async () => {
        const c = await ChurnClient.open(server.port);
        clients.push(c);
        const id = await setUpAndPlay(c, server.url, false, 0);
        await c.request('PLAY', server.url, { Session: id });
        c.stopParsing();
      })),
    );
    // Past a keyframe: every session is sending.
    await sleep(1500);
    const full = await server.sample();
    await Promise.all(clients.map((c) => c.close()));
    const emptied = await server.sample();
    return { sessions, zero, full, emptied, errors };
  } finally {
    for (const c of clients) c.socket.destroy();
    await server.stop();
  }
}

const mib = (b: number) => (b / MiB).toFixed(1);
const signedMib = (b: number) => `${b >= 0 ? '+' : ''}${(b / MiB).toFixed(2)}`;
const spread = (xs: number[], digits: number) =>
  xs.length === 1
    ? xs[0].toFixed(digits)
    : `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;

function report(churns: ChurnResult[], mems: MemoryResult[]): string {
  const lines: string[] = [];
  const c0 = churns[0] as ChurnResult | undefined;
  lines.push(
    `| churn run | cycles (cut) | wall | RSS start → warm → just after → settled | settled − warm | heap used warm → settled | server CPU per cycle | left: sessions, connections, UDP pairs |`,
    '|---|---|---|---|---|---|---|---|',
  );
  for (const [i, c] of churns.entries()) {
    lines.push(
      `| ${i + 1} | ${c.cycles} (${c.cycles / 10}) | ${c.seconds.toFixed(1)} s | ${mib(c.start.rssBytes)} → ${mib(c.warm.rssBytes)} → ${mib(c.after.rssBytes)} → ${mib(c.settled.rssBytes)} MiB (${c.settleSeconds.toFixed(0)} s) | ${signedMib(c.settled.rssBytes - c.warm.rssBytes)} MiB | ${mib(c.warm.heapUsedBytes)} → ${mib(c.settled.heapUsedBytes)} MiB | ${c.cpuPerCycleMs.toFixed(2)} ms | ${c.settled.sessions}, ${c.settled.connections}, ${c.settled.udpPairs} |`,
    );
  }
  lines.push(
    '',
    `| memory run | sessions playing | RSS 0 → N → 0 | per session: RSS | RSS less young-generation growth | heap used | external |`,
    '|---|---|---|---|---|---|---|',
  );
  for (const [i, m] of mems.entries()) {
    const per = (a: number, b: number) => ((b - a) / m.full.playing / 1024).toFixed(1);
    lines.push(
      `| ${i + 1} | ${m.full.playing} of ${m.sessions} | ${mib(m.zero.rssBytes)} → ${mib(m.full.rssBytes)} → ${mib(m.emptied.rssBytes)} MiB | ${per(m.zero.rssBytes, m.full.rssBytes)} KB | ${per(m.zero.rssBytes - m.zero.spaces.new_space, m.full.rssBytes - m.full.spaces.new_space)} KB | ${per(m.zero.heapUsedBytes, m.full.heapUsedBytes)} KB | ${per(m.zero.externalBytes, m.full.externalBytes)} KB |`,
    );
  }
  lines.push(
    '',
    `Churn: ${c0?.cycles} cycles per run after a ${c0?.warmup}-cycle warm-up, ${CONCURRENCY} at a time, every 4th over UDP, ` +
      `every 10th cut abruptly (destroyed during DESCRIBE, after SETUP, after PLAY, or reset after PLAY). ` +
      `Idle stream CPU taken out: ${spread(
        churns.map((c) => c.idleCpuPerSecondMs),
        1,
      )} ms per second. RSS "start" is the server before its first client, "warm" after the warm-up; ` +
      `"just after" includes the young generation V8 grew for the burst (up to ~30 MiB of new space), ` +
      `"settled" is once it has been given back (V8's memory reducer, seconds later). ` +
      `Memory: 1,000 TCP clients playing a ${MEMORY_BITRATE / 1000} kbit/s stream (the per-session cost, not queued media), ` +
      `after 100 warm-up cycles; "young-generation growth" is V8's new space enlarged for the allocation rate of 1,000 ` +
      `playing clients, not held by any session.`,
  );
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '2' },
      cycles: { type: 'string', default: '2000' },
      sessions: { type: 'string', default: '1000' },
      only: { type: 'string' },
      write: { type: 'boolean', default: true },
      'no-write': { type: 'boolean', default: false },
    },
  });
  const runs = Number(values.runs);
  const cycles = Number(values.cycles);
  const sessions = Number(values.sessions);
  const churns: ChurnResult[] = [];
  const mems: MemoryResult[] = [];
  const errors: string[] = [];
  for (let r = 0; r < runs; r++) {
    if (values.only !== 'memory') {
      const c = await churn(cycles);
      churns.push(c);
      errors.push(...c.errors);
      console.log(
        `churn ${r + 1}: RSS ${mib(c.start.rssBytes)} → ${mib(c.warm.rssBytes)} → ${mib(c.after.rssBytes)} → ${mib(c.settled.rssBytes)} MiB, ` +
          `${c.cpuPerCycleMs.toFixed(2)} ms CPU per cycle, ${c.seconds.toFixed(1)} s, left ${c.after.sessions}/${c.after.connections}/${c.after.udpPairs}, ` +
          `heapTotal ${mib(c.warm.heapTotalBytes)} → ${mib(c.after.heapTotalBytes)} MiB, resources ${JSON.stringify(c.after.resources)}`,
      );
    }
    if (values.only === 'churn') continue;
    const m = await memory(sessions);
    mems.push(m);
    errors.push(...m.errors);
    console.log(
      `memory ${r + 1}: ${m.full.playing} playing, RSS ${mib(m.zero.rssBytes)} → ${mib(m.full.rssBytes)} → ${mib(m.emptied.rssBytes)} MiB, ` +
        `${((m.full.rssBytes - m.zero.rssBytes) / m.full.playing / 1024).toFixed(1)} KB RSS, ` +
        `${((m.full.heapUsedBytes - m.zero.heapUsedBytes) / m.full.playing / 1024).toFixed(1)} KB heap per session`,
    );
  }
  if (errors.length > 0)
    console.log(`${errors.length} client errors, first: ${errors.slice(0, 5).join('; ')}`);
  const table = report(churns, mems);
  console.log(`\n${table}`);
  if (!values.write || values['no-write'] || values.only) return;
  const section = `${CHURN_START}
## Churn and memory per session

Produced by \`npm run bench:churn\` (bench/churn.ts, about a minute). Last run: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}, load average ${loadavg()[0].toFixed(2)}.

${table}
${CHURN_END}`;
  writeBenchmarksSection(CHURN_START, CHURN_END, section);
  console.log(`wrote the churn section of ${BENCHMARKS_MD}`);
}

await main();
