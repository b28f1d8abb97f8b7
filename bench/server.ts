// The benchmark's server process: one smolrtsp server with one synthetic 4 Mbit/s H.264 stream,
// pushed on a drift-free timer. Run by bench/run.ts over a Node IPC channel, alone in its process so
// its CPU time and RSS are its own. Stops by itself when the runner goes away or after a hard limit.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createServer } from '../src/server/rtsp-server.js';
import { buildSyntheticStream } from './frames.js';
import type { FromServer, ServerSnapshot, ToServer } from './ipc.js';

const HARD_LIMIT_MS = Number(process.env.BENCH_SERVER_LIMIT_MS ?? 180_000);
const PATH = '/bench';

function send(msg: FromServer): void {
  process.send?.(msg);
}

if (!process.send) {
  console.error('bench/server.ts is started by bench/run.ts (it needs an IPC channel)');
  process.exit(2);
}

const hardLimit = setTimeout(() => {
  console.error(`bench server: still running after ${HARD_LIMIT_MS} ms, exiting`);
  process.exit(3);
}, HARD_LIMIT_MS);
hardLimit.unref();

const source = buildSyntheticStream();
const server = await createServer({
  host: '127.0.0.1',
  port: 0,
  rtpPortRange: [30000, 39999],
  maxSessions: 5000,
  maxConnections: 5000,
  // Every benchmark client comes from 127.0.0.1: lift the per-address and per-path defaults (200, 1000).
  maxConnectionsPerAddress: 5000,
  maxSessionsPerAddress: 5000,
  maxSessionsPerPath: 5000,
  sessionTimeoutSec: 300,
});
let clientErrors = 0;
let firstClientError: string | undefined;
const ended: Record<string, number> = {};
server.on('clientError', (err) => {
  clientErrors++;
  firstClientError ??= String(err?.message ?? err);
});
server.on('sessionEnd', (_info, reason) => {
  ended[reason] = (ended[reason] ?? 0) + 1;
});
const stream = server.addStream(PATH, { video: { codec: 'H264' } });
const track = stream.video!;

// Frame n is due at t0 + n * interval; a late timer pushes every frame that is due (catching up).
const intervalMs = 1000 / source.fps;
const ptsStepUs = 1_000_000 / source.fps;
const t0 = performance.now();
let n = 0;
let maxLateMs = 0;
let timer: NodeJS.Timeout | undefined;
// How late the event loop runs a 10 ms timer: what an RTSP request or a TCP client waits behind a
// fan-out. The histogram holds the whole interval between runs (10 ms on an idle loop), so the
// resolution is taken off. Reset at every snapshot, so the window's snapshot covers the window only.
const LOOP_RESOLUTION_MS = 10;
const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
loopDelay.enable();
const loopLateMs = (ns: number) => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
function tick(): void {
  const now = performance.now();
  const late = now - (t0 + n * intervalMs);
  if (late > maxLateMs) maxLateMs = late;
  while (t0 + n * intervalMs <= now) {
    track.pushUnits(n % source.gop === 0 ? source.keyframe : source.delta, { pts: n * ptsStepUs });
    n++;
  }
  timer = setTimeout(tick, Math.max(0, t0 + n * intervalMs - performance.now()));
}
tick();

function snapshot(): ServerSnapshot {
  const cpu = process.cpuUsage();
  const elu = performance.eventLoopUtilization();
  let playing = 0;
  let sessionPacketsSent = 0;
  let droppedBatches = 0;
  const sessions = server.sessions();
  for (const s of sessions) {
    if (s.state === 'playing') playing++;
    sessionPacketsSent += s.packetsSent;
    droppedBatches += s.droppedBatches;
  }
  const snap: ServerSnapshot = {
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    maxRssKiB: process.resourceUsage().maxRSS,
    rssBytes: process.memoryUsage.rss(),
    eluIdleMs: elu.idle,
    eluActiveMs: elu.active,
    nextSeq: track.sender.nextSequence,
    packets: track.stats.packets,
    octets: track.stats.octets,
    frames: track.stats.accessUnits,
    maxLateMs,
    loopLateP99Ms: loopDelay.count > 0 ? loopLateMs(loopDelay.percentile(99)) : Number.NaN,
    loopLateMaxMs: loopDelay.count > 0 ? loopLateMs(loopDelay.max) : Number.NaN,
    sessions: sessions.length,
    playing,
    sessionPacketsSent,
    droppedBatches,
    connections: server.connectionCount,
    clientErrors,
    firstClientError,
    ended: { ...ended },
  };
  maxLateMs = 0;
  loopDelay.reset();
  return snap;
}

process.on('message', (msg: ToServer) => {
  if (msg.type === 'snapshot') {
    send({ type: 'snapshot', id: msg.id, snapshot: snapshot() });
  } else if (msg.type === 'shutdown') {
    void shutdown();
  }
});
// The runner went away (or closed the channel): stop.
process.on('disconnect', () => {
  void shutdown();
});

let shuttingDown = false;
async function shutdown(): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  clearTimeout(timer);
  const last = snapshot();
  await server.close();
  if (process.connected) {
    await new Promise<void>((resolve) => {
      process.send!({ type: 'closed', snapshot: last } satisfies FromServer, undefined, {}, () => resolve());
    });
    process.disconnect();
  }
  process.exit(0);
}

send({
  type: 'ready',
  port: server.port,
  path: PATH,
  fps: source.fps,
  gop: source.gop,
  keyframeBytes: source.keyframeBytes,
  deltaBytes: source.deltaBytes,
  actualBitsPerSecond: source.actualBitsPerSecond,
  rssBytes: process.memoryUsage.rss(),
});
