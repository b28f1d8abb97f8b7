// The churn and memory benchmark's server process: one smolrtsp server with one synthetic H.264
// stream on a 25 fps timer, alone in its process (started by bench/churn.ts with --expose-gc) so its
// CPU time and RSS are its own. Each sample is taken after forced garbage collections and a pause,
// so what it shows is what the server still holds, not garbage waiting for the collector.
// Stops by itself when the runner goes away or after a hard limit.
import { performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { createServer } from '../src/server/rtsp-server.js';
import { buildSyntheticStream } from './frames.js';

export interface ChurnSample {
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  /** V8 heap spaces' committed sizes, by space name. */
  spaces: Record<string, number>;
  externalBytes: number;
  arrayBuffersBytes: number;
  /** process.cpuUsage(), microseconds since the process started. */
  cpuUserUs: number;
  cpuSystemUs: number;
  sessions: number;
  playing: number;
  connections: number;
  udpPairs: number;
  /** process.getActiveResourcesInfo(), counted by kind. */
  resources: Record<string, number>;
}

export type ToChurnServer = { type: 'sample'; id: number; settleMs: number } | { type: 'shutdown' };
export type FromChurnServer =
  | { type: 'ready'; port: number; path: string }
  | { type: 'sample'; id: number; sample: ChurnSample };

const HARD_LIMIT_MS = Number(process.env.BENCH_SERVER_LIMIT_MS ?? 300_000);
const PATH = '/churn';
const gc = (globalThis as { gc?: () => void }).gc;

if (!process.send || !gc) {
  console.error('bench/churn-server.ts is started by bench/churn.ts (IPC channel, --expose-gc)');
  process.exit(2);
}
const hardLimit = setTimeout(() => {
  console.error(`churn server: still running after ${HARD_LIMIT_MS} ms, exiting`);
  process.exit(3);
}, HARD_LIMIT_MS);
hardLimit.unref();

// 1 Mbit/s: the per-session cost measured is the server's own, not megabytes queued for a client.
const source = buildSyntheticStream({
  bitsPerSecond: Number(process.env.BENCH_BITRATE ?? 1_000_000),
  keyframeBytes: 12_000,
});
const server = await createServer({
  host: '127.0.0.1',
  port: 0,
  rtpPortRange: [30000, 39999],
  maxSessions: 5000,
  maxConnections: 5000,
  // Every benchmark client comes from 127.0.0.1: lift the per-address and per-path defaults.
  maxConnectionsPerAddress: 5000,
  maxSessionsPerAddress: 5000,
  maxSessionsPerPath: 5000,
});
// Nothing should be refused: say so if it is.
server.on('refused', (r) =>
  console.error(`churn server: refused ${r.method ?? 'connection'}: ${r.status ?? ''} ${r.reason}`),
);
const track = server.addStream(PATH, { video: { codec: 'H264' } }).video!;
const intervalMs = 1000 / source.fps;
const t0 = performance.now();
let n = 0;
let timer: NodeJS.Timeout | undefined;
function tick(): void {
  const now = performance.now();
  while (t0 + n * intervalMs <= now) {
    track.pushUnits(n % source.gop === 0 ? source.keyframe : source.delta, { pts: (n * 1e6) / source.fps });
    n++;
  }
  timer = setTimeout(tick, Math.max(0, t0 + n * intervalMs - performance.now()));
}
tick();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function sample(settleMs: number): Promise<ChurnSample> {
  // Collect, let closing handles and freed pages settle, collect again.
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((r) => setImmediate(r));
  }
  await sleep(settleMs);
  gc!();
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  const sessions = server.sessions();
  const resources: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) resources[r] = (resources[r] ?? 0) + 1;
  return {
    rssBytes: mem.rss,
    heapUsedBytes: mem.heapUsed,
    heapTotalBytes: mem.heapTotal,
    spaces: Object.fromEntries(getHeapSpaceStatistics().map((sp) => [sp.space_name, sp.physical_space_size])),
    externalBytes: mem.external,
    arrayBuffersBytes: mem.arrayBuffers,
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    sessions: sessions.length,
    playing: sessions.filter((s) => s.state === 'playing').length,
    connections: server.connectionCount,
    udpPairs: (server as unknown as { ports: { allocated: number } }).ports.allocated,
    resources,
  };
}

function send(msg: FromChurnServer): void {
  process.send?.(msg);
}

process.on('message', (msg: ToChurnServer) => {
  if (msg.type === 'sample') {
    void sample(msg.settleMs).then((s) => send({ type: 'sample', id: msg.id, sample: s }));
  } else if (msg.type === 'shutdown') {
    void shutdown();
  }
});
process.on('disconnect', () => void shutdown());

let shuttingDown = false;
async function shutdown(): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  clearTimeout(timer);
  await server.close();
  process.exit(0);
}

send({ type: 'ready', port: server.port, path: PATH });
