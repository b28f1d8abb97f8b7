// The benchmark's server process: one smolrtsp server with one synthetic 4 Mbit/s H.264 stream,
// pushed on a drift-free timer. Run by bench/run.ts over a Node IPC channel, alone in its process so
// its CPU time and RSS are its own. Stops by itself when the runner goes away or after a hard limit.
import { writeFileSync } from 'node:fs';
import { Session as InspectorSession } from 'node:inspector/promises';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { RtpPacketBatch } from '../src/rtp/batch.js';
import { createServer } from '../src/server/rtsp-server.js';
import { TcpInterleavedTransport } from '../src/server/transports.js';
import { buildSyntheticStream } from './frames.js';
import type { FromServer, ServerSnapshot, ToServer } from './ipc.js';
import { cpuMsSince, PushTimes } from './push-times.js';

const HARD_LIMIT_MS = Number(process.env.BENCH_SERVER_LIMIT_MS ?? 180_000);
/** When set: a V8 CPU profile of the measured window only (.cpuprofile, opens in Chrome DevTools). */
const CPU_PROFILE = process.env.BENCH_CPU_PROFILE;
/** Its sampling interval, µs: the default 1000 leaves the run's CPU figures nearly as without. */
const CPU_PROFILE_INTERVAL_US = Number(process.env.BENCH_CPU_PROFILE_INTERVAL_US ?? 1000);
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
if (process.env.BENCH_BARE_TCP_DELIVER) {
  // An in-process floor for TCP: the same server, sockets and clients, but each started client gets
  // nothing but socket.write(batch.framed) per frame (no gates, slow-client check or counters).
  type Bare = { active: boolean; socket: { write(data: Buffer): boolean } };
  const proto = TcpInterleavedTransport.prototype as unknown as {
    deliver(this: Bare, batch: RtpPacketBatch): void;
  };
  proto.deliver = function (this: Bare, batch: RtpPacketBatch) {
    if (this.active) this.socket.write(batch.framed);
  };
}
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
// Event-loop delay, sampled like bench/floor.ts does (same period) so the two compare.
const ELD_RESOLUTION_MS = 10;
const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
eld.enable();
const t0 = performance.now();
let n = 0;
let maxLateMs = 0;
let timer: NodeJS.Timeout | undefined;
// Push → last packet written, per access unit. TCP: the fan-out is synchronous, every client's
// socket.write has returned (its bytes are in the kernel, or queued in Node for a client that is
// behind) when pushUnits returns, so the time pushUnits takes is that latency. UDP is sent in slices
// after pushUnits returns (the server's send queue): until the queue last emptied after the push.
// The CPU time is then the process's until that moment, whatever else it ran in between.
const pushTimes = new PushTimes();
/** Records a push whose UDP sends are queued once the queue has emptied (checked each loop turn). */
function timeUdpDrain(keyframe: boolean, startedAt: number, cpuAt: NodeJS.CpuUsage): void {
  const check = () => {
    const backlog = server.udpSendBacklog();
    if (backlog.pending > 0) setImmediate(check);
    else pushTimes.record(keyframe, backlog.lastDrainedAt - startedAt, cpuMsSince(cpuAt));
  };
  setImmediate(check);
}

function tick(): void {
  const now = performance.now();
  const late = now - (t0 + n * intervalMs);
  if (late > maxLateMs) maxLateMs = late;
  while (t0 + n * intervalMs <= now) {
    const keyframe = n % source.gop === 0;
    const startedAt = performance.now();
    const cpuAt = process.cpuUsage();
    track.pushUnits(keyframe ? source.keyframe : source.delta, { pts: n * ptsStepUs });
    if (server.udpSendBacklog().pending === 0) {
      pushTimes.record(keyframe, performance.now() - startedAt, cpuMsSince(cpuAt));
    } else timeUdpDrain(keyframe, startedAt, cpuAt);
    n++;
  }
  timer = setTimeout(tick, Math.max(0, t0 + n * intervalMs - performance.now()));
}
tick();

let profiler: InspectorSession | undefined;
async function startProfile(): Promise<void> {
  if (!CPU_PROFILE || profiler) return;
  profiler = new InspectorSession();
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.setSamplingInterval', { interval: CPU_PROFILE_INTERVAL_US });
  await profiler.post('Profiler.start');
}
async function stopProfile(): Promise<void> {
  if (!profiler || !CPU_PROFILE) return;
  const { profile } = await profiler.post('Profiler.stop');
  writeFileSync(CPU_PROFILE, JSON.stringify(profile));
  profiler.disconnect();
  profiler = undefined;
}

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
    eventLoopLateP99Ms: Math.max(0, eld.percentile(99) / 1e6 - ELD_RESOLUTION_MS),
    pushTimes: pushTimes.take(),
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
  eld.reset();
  return snap;
}

process.on('message', (msg: ToServer) => {
  if (msg.type === 'snapshot') {
    // The profile covers the window: stopped before its closing snapshot, started after its opening one.
    const taken = msg.phase === 'window-end' ? stopProfile() : Promise.resolve();
    void taken.then(() => {
      send({ type: 'snapshot', id: msg.id, snapshot: snapshot() });
      if (msg.phase === 'window-start') void startProfile();
    });
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
