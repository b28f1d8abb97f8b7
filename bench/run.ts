// `npm run bench`: N RTSP clients pull a 4 Mbit/s 25 fps H.264 stream from a smolrtsp server in its
// own process, and the same N pull the same stream from the floor (bench/floor.ts, a bare Node write
// loop) in the same run; measures each server's CPU, event-loop delay and RSS, connect→PLAY times,
// and whether every client got every packet, and prints smolrtsp's CPU as a ratio to the floor's.
// The clients are one C process (bench/load-client.c, built with `cc`); without a C compiler only
// smolrtsp is measured, with the Node load client (bench/load-client.ts), and no ratio.
// Options: --only tcp-500,udp-50  --seconds 10  --ramp 50  --repeat 2  --write / --no-write
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildCLoadClient, CLoadClient } from './c-load-client.js';
import type { FromServer, PushTimesSnapshot, ServerReady, ServerSnapshot, ToServer } from './ipc.js';
import { LoadClient, UDP_RECV_BUFFER, UdpPairAllocator } from './load-client.js';

interface Scenario {
  name: string;
  transport: 'tcp' | 'udp';
  clients: number;
}

const SCENARIOS: Scenario[] = [
  { name: 'tcp-50', transport: 'tcp', clients: 50 },
  { name: 'tcp-200', transport: 'tcp', clients: 200 },
  { name: 'tcp-500', transport: 'tcp', clients: 500 },
  { name: 'udp-50', transport: 'udp', clients: 50 },
  { name: 'udp-200', transport: 'udp', clients: 200 },
  { name: 'tcp-3000', transport: 'tcp', clients: 3000 },
];

type ServerKind = 'smolrtsp' | 'floor';
const SERVER_SCRIPTS: Record<ServerKind, string> = {
  smolrtsp: fileURLToPath(new URL('./server.ts', import.meta.url)),
  floor: fileURLToPath(new URL('./floor.ts', import.meta.url)),
};
const BENCHMARKS_MD = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
const HOST = '127.0.0.1';
const SETTLE_MS = 500;
/**
 * The ramp starts this far into a GOP (the server pushes its first IDR right before it says ready):
 * half a GOP, so a lone client waits the average time for a keyframe rather than a whole GOP.
 */
const RAMP_PHASE = 0.5;
const DRAIN_MS = 3000;
const REQUEST_TIMEOUT_MS = 8000;

interface Options {
  scenarios: Scenario[];
  seconds: number;
  ramp: number;
  /** --ramp was given: every scenario uses it as is. */
  rampGiven: boolean;
  repeat: number;
  write: boolean;
}

interface Result {
  scenario: Scenario;
  server: ServerKind;
  /** Which load client measured it. */
  client: 'c' | 'node';
  /** Server's event-loop delay p99 over the window beyond its 10 ms sampling period, ms. */
  eventLoopLateP99Ms: number;
  /** smolrtsp's server CPU per delivered packet over the floor's, same scenario and repetition (NaN: none). */
  ratio: number;
  error?: string;
  /** Clients that got PLAY answered. */
  playing: number;
  startErrors: string[];
  windowSec: number;
  serverCpuS: number;
  /** The same, split: user (JavaScript, V8, libuv) and system (the kernel: socket writes and TCP). */
  serverUserS: number;
  serverSysS: number;
  /** The server with no client, CPU seconds per 10 s (measured over ~1 s before the ramp). */
  idleCpuPer10S: number;
  serverPeakRssMiB: number;
  serverRssMiB: number;
  serverElu: number;
  serverMaxLateMs: number;
  /** Push → last client's write returned, per access unit in the window (both servers time it). */
  push?: PushTimesSnapshot;
  playP50Ms: number;
  playMaxMs: number;
  setupP50Ms: number;
  setupMaxMs: number;
  sent: number;
  frames: number;
  mbps: number;
  recvMin: number;
  recvMax: number;
  gapClients: number;
  lost: number;
  late: number;
  rtpInfoMismatch: number;
  /** Packets the server's sessions handed to their transports in the window, and what N × sent is. */
  delivered: number;
  expectedDelivered: number;
  droppedBatches: number;
  /** After the window, ms until every client had the window's last packet (NaN: not within 3 s). */
  tailMs: number;
  loadCpuS: number;
  loadAvg: number;
  serverErrors: number;
  firstServerError?: string;
  ended: Record<string, number>;
  stream?: ServerReady;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', multiple: true },
      seconds: { type: 'string' },
      ramp: { type: 'string' },
      repeat: { type: 'string' },
      write: { type: 'boolean' },
      'no-write': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    console.log(
      'usage: npm run bench:fanout -- [--only tcp-50,tcp-200,tcp-500,udp-50,udp-200,tcp-3000] [--seconds 10] [--ramp 50]\n' +
        '                              [--repeat 2] [--write|--no-write]\n' +
        'Each scenario runs against smolrtsp and the floor (bench/floor.ts) with the C load client,\n' +
        '--repeat times (the first server alternates); the ratio over all runs is printed at the end.\n' +
        'BENCHMARKS.md is rewritten after a full default run (all scenarios, 10 s), or with --write.\n' +
        'BENCH_CPU_PROFILE=out.cpuprofile: the server writes a V8 CPU profile of the window (one scenario);\n' +
        'summarise it with: node --import tsx bench/profile-summary.ts out.cpuprofile\n' +
        'BENCH_BARE_TCP_DELIVER=1: TCP clients get a bare socket.write per frame (an in-process floor).',
    );
    process.exit(0);
  }
  const names = (values.only ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names) {
    if (!SCENARIOS.some((s) => s.name === n)) {
      console.error(`unknown scenario ${n}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
      process.exit(2);
    }
  }
  const scenarios = names.length > 0 ? SCENARIOS.filter((s) => names.includes(s.name)) : SCENARIOS;
  const seconds = Number(values.seconds ?? 10);
  const ramp = Number(values.ramp ?? 50);
  const repeat = Number(values.repeat ?? 2);
  if (!(seconds >= 1 && seconds <= 120)) throw new Error('--seconds must be 1..120');
  if (!(Number.isInteger(ramp) && ramp >= 1 && ramp <= 1000)) throw new Error('--ramp must be 1..1000');
  if (!(Number.isInteger(repeat) && repeat >= 1 && repeat <= 5)) throw new Error('--repeat must be 1..5');
  const fullDefault = names.length === 0 && seconds === 10;
  const write = values['no-write'] ? false : (values.write ?? fullDefault);
  return { scenarios, seconds, ramp, rampGiven: values.ramp !== undefined, repeat, write };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The server child process and its IPC requests. */
class ServerProcess {
  private readonly waiters = new Map<number, (s: ServerSnapshot) => void>();
  private nextId = 1;
  private readyResolve: ((r: ServerReady) => void) | undefined;
  closedSnapshot: ServerSnapshot | undefined;
  readonly exited: Promise<number | null>;
  fatal: string | undefined;

  constructor(readonly child: ChildProcess) {
    child.on('message', (msg: FromServer) => {
      if (msg.type === 'ready') this.readyResolve?.(msg);
      else if (msg.type === 'snapshot') {
        this.waiters.get(msg.id)?.(msg.snapshot);
        this.waiters.delete(msg.id);
      } else if (msg.type === 'closed') this.closedSnapshot = msg.snapshot;
      else if (msg.type === 'fatal') this.fatal = msg.message;
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** `streamSeconds`: how much stream the floor prebuilds (it must outlast the run). */
  static start(kind: ServerKind = 'smolrtsp', streamSeconds = 120): ServerProcess {
    const child = fork(SERVER_SCRIPTS[kind], [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, BENCH_FLOOR_SECONDS: String(streamSeconds) },
    });
    return new ServerProcess(child);
  }

  ready(timeoutMs: number): Promise<ServerReady> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('server process not ready in time')), timeoutMs);
      this.readyResolve = (r) => {
        clearTimeout(t);
        resolve(r);
      };
      void this.exited.then((code) => reject(new Error(`server process exited (${code}) before ready`)));
    });
  }

  snapshot(phase?: 'window-start' | 'window-end', timeoutMs = 5000): Promise<ServerSnapshot> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters.delete(id);
        reject(new Error('server process did not answer a snapshot request'));
      }, timeoutMs);
      this.waiters.set(id, (s) => {
        clearTimeout(t);
        resolve(s);
      });
      void this.exited.then((code) => {
        clearTimeout(t);
        reject(new Error(`server process exited (code ${code}, signal ${this.child.signalCode})`));
      });
      this.send({ type: 'snapshot', id, phase });
    });
  }

  private send(msg: ToServer): void {
    if (this.child.connected) this.child.send(msg);
  }

  /** Asks the server to close; kills it (this one process, by its handle) if it has not exited in time. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.send({ type: 'shutdown' });
    const done = await Promise.race([this.exited.then(() => true), sleep(timeoutMs).then(() => false)]);
    if (!done) {
      this.child.kill('SIGKILL');
      await Promise.race([this.exited, sleep(2000)]);
    }
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

function emptyResult(scenario: Scenario, server: ServerKind, client: 'c' | 'node'): Result {
  return {
    scenario,
    server,
    client,
    eventLoopLateP99Ms: Number.NaN,
    ratio: Number.NaN,
    playing: 0,
    startErrors: [],
    windowSec: 0,
    serverCpuS: Number.NaN,
    serverUserS: Number.NaN,
    serverSysS: Number.NaN,
    idleCpuPer10S: Number.NaN,
    serverPeakRssMiB: Number.NaN,
    serverRssMiB: Number.NaN,
    serverElu: Number.NaN,
    serverMaxLateMs: Number.NaN,
    playP50Ms: Number.NaN,
    playMaxMs: Number.NaN,
    setupP50Ms: Number.NaN,
    setupMaxMs: Number.NaN,
    sent: 0,
    frames: 0,
    mbps: Number.NaN,
    recvMin: 0,
    recvMax: 0,
    gapClients: 0,
    lost: 0,
    late: 0,
    rtpInfoMismatch: 0,
    delivered: 0,
    expectedDelivered: 0,
    droppedBatches: 0,
    tailMs: Number.NaN,
    loadCpuS: Number.NaN,
    loadAvg: loadavg()[0],
    serverErrors: 0,
    ended: {},
  };
}

interface RunState {
  server: ServerProcess | undefined;
  clients: LoadClient[];
  cClient?: CLoadClient;
}

/**
 * Starts `kind` in its own process and measures it idle (stream running, no client) over the last
 * second before the ramp, which starts half a GOP after a keyframe.
 */
async function startServer(
  kind: ServerKind,
  o: Options,
  st: RunState,
  r: Result,
): Promise<{ server: ServerProcess; ready: ServerReady }> {
  // The floor prebuilds its stream: enough for a slow ramp, the window and the tail.
  const server = ServerProcess.start(kind, o.seconds + 60 + r.scenario.clients / 50);
  st.server = server;
  const ready = await server.ready(30_000);
  const readyAt = performance.now();
  r.stream = ready;
  const gopMs = (1000 * ready.gop) / ready.fps;
  // The server alone (no client yet) for the last second before the ramp: its idle CPU.
  await sleep(readyAt + gopMs * (1 + RAMP_PHASE) - 1000 - performance.now());
  const idle0 = await server.snapshot();
  const idleT0 = performance.now();
  await sleep(readyAt + gopMs * (1 + RAMP_PHASE) - performance.now());
  const idle1 = await server.snapshot();
  r.idleCpuPer10S =
    ((idle1.cpuUserUs - idle0.cpuUserUs + idle1.cpuSystemUs - idle0.cpuSystemUs) / 1e6) *
    (10_000 / (performance.now() - idleT0));
  return { server, ready };
}

/** The server's side of the window, from its snapshots at either end. */
function applyWindow(r: Result, s0: ServerSnapshot, s1: ServerSnapshot, ready: ServerReady): void {
  r.serverCpuS = (s1.cpuUserUs - s0.cpuUserUs + s1.cpuSystemUs - s0.cpuSystemUs) / 1e6;
  r.serverUserS = (s1.cpuUserUs - s0.cpuUserUs) / 1e6;
  r.serverSysS = (s1.cpuSystemUs - s0.cpuSystemUs) / 1e6;
  r.serverRssMiB = s1.rssBytes / 2 ** 20;
  r.serverPeakRssMiB = s1.maxRssKiB / 1024;
  const dActive = s1.eluActiveMs - s0.eluActiveMs;
  const dIdle = s1.eluIdleMs - s0.eluIdleMs;
  r.serverElu = dActive / (dActive + dIdle);
  r.serverMaxLateMs = s1.maxLateMs;
  r.eventLoopLateP99Ms = s1.eventLoopLateP99Ms;
  r.push = s1.pushTimes;
  r.sent = s1.packets - s0.packets;
  r.frames = s1.frames - s0.frames;
  r.mbps = ((s1.octets - s0.octets) * 8) / (r.frames / ready.fps) / 1e6;
  if (((s1.nextSeq - s0.nextSeq) & 0xffff) !== r.sent % 65536) {
    throw new Error(`sequence numbers advanced ${(s1.nextSeq - s0.nextSeq) & 0xffff}, packets ${r.sent}`);
  }
  r.delivered = s1.sessionPacketsSent - s0.sessionPacketsSent;
  r.expectedDelivered = r.sent * s1.playing;
  r.droppedBatches = s1.droppedBatches;
  r.serverErrors = s1.clientErrors;
  r.firstServerError = s1.firstClientError;
}

/** After the server closed: its lifetime peak RSS and how its sessions ended. */
function applyClosed(r: Result, server: ServerProcess): void {
  const last = server.closedSnapshot;
  if (!last) return;
  r.serverPeakRssMiB = last.maxRssKiB / 1024;
  r.ended = last.ended;
  r.serverErrors = last.clientErrors;
  r.firstServerError = last.firstClientError;
}

/**
 * Clients per ramp group: --ramp when given, else 50, or a twentieth of the clients when that is more
 * (3,000 clients connect in 20 groups of 150, not 60 of 50).
 */
function rampFor(sc: Scenario, o: Options): number {
  return o.rampGiven ? o.ramp : Math.max(o.ramp, Math.ceil(sc.clients / 20));
}

/** One scenario against one server, measured by the C load client. */
async function measureC(sc: Scenario, o: Options, st: RunState, r: Result, binary: string): Promise<void> {
  const { server, ready } = await startServer(r.server, o, st, r);
  const client = new CLoadClient({
    binary,
    port: ready.port,
    path: ready.path,
    clients: sc.clients,
    transport: sc.transport,
    ramp: rampFor(sc, o),
    timeoutMs: REQUEST_TIMEOUT_MS,
  });
  st.cClient = client;
  const p = await client.playing(30_000 + sc.clients * 20);
  r.playing = p.playing;
  r.startErrors = Object.entries(p.errors).map(([e, n]) => `${e} (${n})`);
  if (p.playing === 0) throw new Error(`no client is playing (${r.startErrors.join('; ')})`);
  r.playP50Ms = p.playP50Ms;
  r.playMaxMs = p.playMaxMs;
  r.setupP50Ms = p.setupP50Ms;
  r.setupMaxMs = p.setupMaxMs;
  r.rtpInfoMismatch = p.playing - p.firstPacketKeyframe;
  await sleep(SETTLE_MS);

  r.loadAvg = loadavg()[0];
  const t0 = performance.now();
  const s0 = await server.snapshot('window-start');
  client.mark(s0.nextSeq);
  await sleep(o.seconds * 1000);
  const s1 = await server.snapshot('window-end');
  const t1 = performance.now();
  r.windowSec = (t1 - t0) / 1000;
  const res = await client.end(s1.nextSeq);
  applyWindow(r, s0, s1, ready);
  if (res.windowExpected !== r.sent) {
    throw new Error(
      `the client's window holds ${res.windowExpected} sequence numbers, the server sent ${r.sent}`,
    );
  }
  r.loadCpuS = res.cpuS;
  r.tailMs = res.tailMs < 0 ? Number.NaN : res.tailMs;
  r.recvMin = res.windowRecvMin;
  r.recvMax = res.windowRecvMax;
  r.lost = res.lost;
  r.gapClients = res.gapClients;
  r.late = res.late;
  if (server.fatal) throw new Error(server.fatal);
  await client.close();
  await server.stop();
  applyClosed(r, server);
}

/** One scenario against smolrtsp, measured by the Node load client (when there is no C compiler). */
async function measureNode(sc: Scenario, o: Options, st: RunState, r: Result): Promise<void> {
  const { server, ready } = await startServer('smolrtsp', o, st, r);
  const url = `rtsp://${HOST}:${ready.port}${ready.path}`;
  const udpPorts = sc.transport === 'udp' ? new UdpPairAllocator() : undefined;

  // Ramp: `ramp` clients start together; the next group starts once their SETUPs are answered.
  // PLAY answers wait for the next keyframe in the background.
  const plays: Promise<void>[] = [];
  for (let k = 0; k < sc.clients; k += rampFor(sc, o)) {
    const setups: Promise<void>[] = [];
    for (let j = k; j < Math.min(sc.clients, k + rampFor(sc, o)); j++) {
      const c = new LoadClient({
        port: ready.port,
        host: HOST,
        url,
        transport: sc.transport,
        requestTimeoutMs: REQUEST_TIMEOUT_MS,
      });
      st.clients.push(c);
      const pair = udpPorts ? await udpPorts.allocate() : undefined;
      let setupDone!: () => void;
      setups.push(new Promise<void>((res) => (setupDone = res)));
      plays.push(
        c.start(setupDone, pair).catch((err: unknown) => {
          c.error ??= err instanceof Error ? err.message : String(err);
          setupDone();
        }),
      );
    }
    await Promise.all(setups);
  }
  await Promise.all(plays);
  const playing = st.clients.filter((c) => c.playAnsweredAt > 0);
  r.playing = playing.length;
  r.startErrors = [...new Set(st.clients.filter((c) => c.error).map((c) => c.error!))];
  if (playing.length === 0) throw new Error(`no client is playing (${r.startErrors.join('; ')})`);
  const playTimes = playing.map((c) => c.playMs).sort((a, b) => a - b);
  r.playP50Ms = percentile(playTimes, 0.5);
  r.playMaxMs = playTimes[playTimes.length - 1];
  const setupTimes = playing.map((c) => c.setupMs).sort((a, b) => a - b);
  r.setupP50Ms = percentile(setupTimes, 0.5);
  r.setupMaxMs = setupTimes[setupTimes.length - 1];
  // Every playing client has its first packet (the PLAY answer precedes it on TCP; UDP races it).
  for (let t = 0; t < 3000 && playing.some((c) => c.counter.last < 0); t += 20) await sleep(20);
  await sleep(SETTLE_MS);

  // The window: counted by sequence number, so packets in flight at either edge count where they belong.
  r.loadAvg = loadavg()[0];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const s0 = await server.snapshot('window-start');
  const e0 = playing.map((c) => c.counter.toExtended(s0.nextSeq));
  await sleep(o.seconds * 1000);
  const s1 = await server.snapshot('window-end');
  const t1 = performance.now();
  const cpu1 = process.cpuUsage(cpu0);
  const e1 = playing.map((c) => c.counter.toExtended(s1.nextSeq));
  r.loadCpuS = (cpu1.user + cpu1.system) / 1e6;
  r.windowSec = (t1 - t0) / 1000;
  applyWindow(r, s0, s1, ready);

  // Drain: wait (bounded) for the window's last packet to reach everyone.
  const tDrain = performance.now();
  const behind = () => playing.some((c, i) => c.counter.last < e1[i] - 1);
  while (behind() && performance.now() - tDrain < DRAIN_MS) await sleep(5);
  r.tailMs = behind() ? Number.NaN : performance.now() - tDrain;

  const received = playing.map((c, i) => c.counter.receivedIn(e0[i], e1[i]));
  r.recvMin = Math.min(...received);
  r.recvMax = Math.max(...received);
  r.lost = received.reduce((sum, n) => sum + (r.sent - n), 0) + (sc.clients - playing.length) * r.sent;
  r.gapClients = playing.filter((c) => c.counter.lost > 0).length;
  r.late = playing.reduce((sum, c) => sum + c.counter.late, 0);
  r.rtpInfoMismatch = playing.filter((c) => c.counter.first < 0 || c.firstRtpKeyframe !== true).length;

  // Teardown (bounded), then close every socket and let the server go.
  await Promise.race([Promise.all(st.clients.map((c) => c.teardown())), sleep(5000)]);
  for (const c of st.clients) c.close();
  await server.stop();
  applyClosed(r, server);
}

/** One scenario against one server; `binary` is the C load client, undefined for the Node one. */
async function runScenario(sc: Scenario, o: Options, kind: ServerKind, binary?: string): Promise<Result> {
  const r = emptyResult(sc, kind, binary ? 'c' : 'node');
  const st: RunState = { server: undefined, clients: [] };
  const limitMs = o.seconds * 1000 + 60_000 + sc.clients * 25;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish in ${limitMs / 1000} s, aborted`)), limitMs);
  });
  try {
    const run = binary ? measureC(sc, o, st, r, binary) : measureNode(sc, o, st, r);
    await Promise.race([run, deadline]);
  } catch (err) {
    r.error = err instanceof Error ? err.message : String(err);
    console.error(`ERROR ${sc.name} (${kind}): ${r.error}`);
  } finally {
    clearTimeout(timer);
    for (const c of st.clients) c.close();
    await st.cClient?.close();
    await st.server?.stop();
  }
  return r;
}

// ---- output ----

const f0 = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toFixed(0) : '-');
const f1 = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toFixed(1) : '-');
const f2 = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toFixed(2) : '-');
const pct = (cpuS: number, windowS: number) =>
  Number.isFinite(cpuS) && windowS > 0 ? (100 * cpuS) / windowS : NaN;

const HEADERS = [
  'scenario',
  'server',
  'playing',
  'server CPU s',
  'ratio to floor',
  'every packet',
  'event loop late p99 ms',
  'server peak RSS MiB',
  'connect→PLAY p50 / max ms',
  'sent pkts',
  'recv min / max',
  'clients w/ gap',
  'lost',
  'load-client CPU s',
];

/** Every playing client got every packet of the window, and every client played. */
function everyPacket(r: Result): boolean {
  return (
    r.playing === r.scenario.clients &&
    r.recvMin === r.sent &&
    r.recvMax === r.sent &&
    r.lost === 0 &&
    r.gapClients === 0
  );
}

function row(r: Result): string[] {
  const head = [r.scenario.name, r.client === 'c' ? r.server : `${r.server} (Node client)`];
  if (r.error && r.windowSec === 0) {
    return [
      ...head,
      `${r.playing}/${r.scenario.clients}`,
      `ERROR: ${r.error}`,
      ...HEADERS.slice(4).map(() => ''),
    ];
  }
  return [
    ...head,
    `${r.playing}/${r.scenario.clients}`,
    f2(r.serverCpuS),
    r.server === 'floor' ? '1 (floor)' : Number.isFinite(r.ratio) ? `${f2(r.ratio)}×` : '-',
    everyPacket(r) ? 'yes' : 'NO',
    f1(r.eventLoopLateP99Ms),
    f1(r.serverPeakRssMiB),
    `${f0(r.playP50Ms)} / ${f0(r.playMaxMs)}`,
    String(r.sent),
    `${r.recvMin} / ${r.recvMax}`,
    String(r.gapClients),
    String(r.lost),
    `${f2(r.loadCpuS)} (${f0(pct(r.loadCpuS, r.windowSec))}%)`,
  ];
}

function isErrorRow(r: Result): boolean {
  return r.error !== undefined && r.windowSec === 0;
}

function textTable(results: Result[]): string {
  const rows = results.filter((r) => !isErrorRow(r)).map(row);
  const all = [HEADERS, ...rows];
  const widths = HEADERS.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const lines = [line(HEADERS), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of results) {
    if (isErrorRow(r))
      lines.push(
        `${r.scenario.name.padEnd(widths[0])}  ${r.server}  ${r.playing}/${r.scenario.clients}  ERROR: ${r.error}`,
      );
    else lines.push(line(row(r)));
  }
  return lines.join('\n');
}

/**
 * Per scenario, over every run: smolrtsp's server CPU per delivered packet over the floor's, from
 * the sums (a run's ratio moves by ±15% with what else the machine does; the runs alternate which
 * server goes first, so a drift in load does not favour one).
 */
/** Server CPU seconds per packet handed to the clients, over the runs given. */
function cpuPerPacket(runs: Result[]): number {
  return runs.reduce((a, r) => a + r.serverCpuS, 0) / runs.reduce((a, r) => a + r.delivered, 0);
}

const RATIO_HEADERS = ['scenario', 'runs', 'ratio per run', 'ratio over all runs', 'every packet, every run'];

function ratioRows(results: Result[]): string[][] {
  const rows: string[][] = [];
  for (const name of [...new Set(results.map((r) => r.scenario.name))]) {
    const of = (kind: ServerKind) =>
      results.filter(
        (r) => r.scenario.name === name && r.server === kind && r.client === 'c' && !isErrorRow(r),
      );
    const smol = of('smolrtsp');
    const floor = of('floor');
    if (smol.length === 0 || floor.length === 0) continue;
    rows.push([
      name,
      String(smol.length),
      smol.map((r) => `${f2(r.ratio)}×`).join(', '),
      `${f2(cpuPerPacket(smol) / cpuPerPacket(floor))}×`,
      [...smol, ...floor].every(everyPacket) ? 'yes' : 'NO',
    ]);
  }
  return rows;
}

function markdownTable(headers: string[], rows: string[][]): string {
  const line = (r: string[]) => `| ${r.join(' | ')} |`;
  return [line(headers), line(headers.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join(
    '\n',
  );
}

const DETAIL_HEADERS = [
  'scenario',
  'window s',
  'RTP payload Mbit/s',
  'server CPU user / sys s',
  'connect→SETUP p50 / max ms',
  'server idle CPU s per 10 s',
  'server RSS MiB before clients / at window end',
  'server event loop busy',
  'frame timer late max ms',
  'push→last write p50 / p99 ms',
  'its CPU p50 / p99 ms',
  'push→last write, P frames p50 / p99, IDR p50 / max ms',
  'packets to transports / N × sent',
  'dropped batches',
  'tail ms',
  'first packet starts an IDR',
  'late or dup pkts',
  'load avg',
];

function detailRow(r: Result): string[] {
  return [
    `${r.scenario.name} ${r.server}`,
    f2(r.windowSec),
    f2(r.mbps),
    `${f2(r.serverUserS)} / ${f2(r.serverSysS)}`,
    `${f1(r.setupP50Ms)} / ${f1(r.setupMaxMs)}`,
    f2(r.idleCpuPer10S),
    `${f1((r.stream?.rssBytes ?? Number.NaN) / 2 ** 20)} / ${f1(r.serverRssMiB)}`,
    `${f0(100 * r.serverElu)}%`,
    f1(r.serverMaxLateMs),
    `${f2(r.push?.pushToLastWriteP50Ms)} / ${f2(r.push?.pushToLastWriteP99Ms)}`,
    `${f2(r.push?.pushCpuP50Ms)} / ${f2(r.push?.pushCpuP99Ms)}`,
    `${f2(r.push?.pushDeltaP50Ms)} / ${f2(r.push?.pushDeltaP99Ms)}, ${f2(r.push?.pushKeyframeP50Ms)} / ${f2(r.push?.pushKeyframeMaxMs)}`,
    `${r.delivered} / ${r.expectedDelivered}`,
    String(r.droppedBatches),
    Number.isFinite(r.tailMs) ? f0(r.tailMs) : `> ${DRAIN_MS}`,
    `${r.playing - r.rtpInfoMismatch}/${r.playing}`,
    String(r.late),
    f2(r.loadAvg),
  ];
}

/** What went wrong or is worth a look, one line each. */
function notes(r: Result): string[] {
  const out: string[] = [];
  if (r.error) out.push(`ERROR: ${r.error}`);
  if (r.startErrors.length > 0) out.push(`client start errors: ${r.startErrors.join('; ')}`);
  if (r.serverErrors > 0)
    out.push(`server clientError events: ${r.serverErrors} (first: ${r.firstServerError})`);
  const ended = Object.entries(r.ended)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  if (ended && Object.keys(r.ended).some((k) => k !== 'teardown')) out.push(`sessions ended: ${ended}`);
  return out;
}

function detail(r: Result): string {
  const values = detailRow(r);
  const parts = DETAIL_HEADERS.slice(1).map((h, i) => `${h}: ${values[i + 1]}`);
  return [`${r.scenario.name} ${r.server}: ${parts.join('; ')}`, ...notes(r).map((n) => `  ${n}`)].join('\n');
}

function machine(): {
  cpu: string;
  cores: number;
  ramGiB: number;
  node: string;
  kernel: string;
  date: string;
} {
  let cpu = 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {
    // not Linux
  }
  return {
    cpu,
    cores: availableParallelism(),
    ramGiB: totalmem() / 2 ** 30,
    node: process.version,
    kernel: release(),
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
}

function writeBenchmarksMd(results: Result[], o: Options, totalS: number): void {
  const m = machine();
  const noteLines = results.flatMap((r) => notes(r).map((n) => `- ${r.scenario.name} ${r.server}: ${n}`));
  const stream = results.find((r) => r.stream)?.stream;
  const streamLine = stream
    ? `H.264 ${stream.fps} fps, one IDR every ${stream.gop} frames (${stream.keyframeBytes} bytes with SPS/PPS),\n  ` +
      `P frames of ${stream.deltaBytes} bytes: ${(stream.actualBitsPerSecond / 1e6).toFixed(2)} Mbit/s of NAL units`
    : 'H.264 25 fps, 4 Mbit/s';
  const cClient = results.some((r) => r.client === 'c');
  const text = `# Benchmarks

Produced by \`npm run bench\` (bench/run.ts; the fan-out part took ${(totalS / 60).toFixed(1)} minutes). Last run: ${m.date}.

\`npm run bench:fanout -- --only tcp-500,udp-50 --seconds 10 --ramp 50 --repeat 1\` runs a subset once; this
file is rewritten after a full default run, or with \`--write\` (\`--no-write\` never). A full default run is
6 scenarios × 2 servers × 2 runs, each about 15 s (start, ramp, 10 s window, tail, teardown) and about 45 s
for 3,000 clients: about 8 minutes.

## Machine

| | |
|---|---|
| CPU | ${m.cpu} |
| Cores | ${m.cores} |
| RAM | ${m.ramGiB.toFixed(1)} GiB |
| Node | ${m.node} |
| Kernel | Linux ${m.kernel} |

## Fan-out: smolrtsp beside the floor

Absolute CPU times move between machines and days (by 2× on a shared box); the ratio to the floor,
measured side by side in the same run against the same load client, does not. Read the ratio first:
server CPU per packet delivered, smolrtsp's over the floor's, per run and over all ${o.repeat} runs of a scenario.

${markdownTable(RATIO_HEADERS, ratioRows(results))}

Every run:

${markdownTable(HEADERS, results.map(row))}

Details (same runs):

${markdownTable(DETAIL_HEADERS, results.filter((r) => !isErrorRow(r)).map(detailRow))}
${noteLines.length > 0 ? `\nNotes:\n\n${noteLines.join('\n')}\n` : ''}
## Setup

- Stream: ${streamLine}. Real SPS/PPS from \`fixtures/sample-640x480-25fps.264\`, slices
  filled with random bytes, built once and pushed on a drift-free 40 ms timer (\`pushUnits\`,
  1400-byte RTP payloads).
- **smolrtsp** runs alone in a child process (\`bench/server.ts\`). Server options: \`maxSessions\`,
  \`maxConnections\`, \`maxConnectionsPerAddress\`, \`maxSessionsPerAddress\` and \`maxSessionsPerPath\`
  raised to 5000 (every client comes from 127.0.0.1), the rest at their defaults (e.g. a TCP client
  more than 2 MiB behind skips to the next keyframe).
- **floor** (\`bench/floor.ts\`) is the bare Node loop: the same frames, packetized before it starts by
  smolrtsp's own H.264 packetizer (same packet sizes, continuous sequence numbers); then per frame
  ONE prebuilt interleaved buffer written to each TCP client, or one \`send\` per packet on a
  \`connect()\`ed UDP socket per client, and nothing else (no backpressure check, no RTCP, no
  per-client state). It answers just enough RTSP for the load client. It is what any Node server pays
  just to move these bytes.
- Both report CPU (user+sys, \`process.cpuUsage()\` inside the process) over the window, and the
  event-loop delay p99 (\`monitorEventLoopDelay\`, 10 ms resolution, the 10 ms period subtracted:
  how long a timer, a request or a socket waited beyond its turn).
- ${
    cClient
      ? `The load client is one C process (\`bench/load-client.c\`, built with \`cc -O2\` at bench time into
  the temp directory): epoll, non-blocking sockets, DESCRIBE / SETUP (TCP interleaved, or UDP client
  ports with a 1 MiB receive buffer) / PLAY, then every RTP packet read and its sequence number checked
  per client; TEARDOWN at the end. Without a C compiler the bench measures smolrtsp alone with the Node
  load client (\`bench/load-client.ts\`) and prints no ratio.`
      : `The load client was the Node one (\`bench/load-client.ts\`, one process; UDP receive buffer
  ${UDP_RECV_BUFFER / 2 ** 20} MiB): no C compiler was found, so there is no floor and no ratio.`
  }
- Clients connect in groups of ${o.rampGiven ? o.ramp : `${o.ramp} (a twentieth of them when that is more: 150 of 3,000)`} (the next group starts when the previous SETUPs are answered),
  the first group half a GOP after a keyframe; all play, ${SETTLE_MS} ms settle, then a ${o.seconds} s
  window. A fresh server process per scenario and server; everything on loopback (127.0.0.1).
- "sent pkts" is the RTP packets the server produced in the window (sequence numbers from its state
  at the window's start and end). "recv" counts, per client, the packets of exactly that sequence
  range that reached it (waiting up to ${DRAIN_MS / 1000} s after the window for the tail). "every packet"
  is yes when every client played and recv min = recv max = sent, with no gap and nothing lost.

## Descriptors: what 3,000 clients need

The server holds one descriptor per TCP client (RTSP connection carrying interleaved RTP) and three per
UDP client (the RTSP connection plus its RTP and RTCP sockets), plus about 30 of its own (listeners,
epoll, pipes, logs). So \`ulimit -n\` ≥ TCP clients + 3 × UDP clients + 64: 3,064 for 3,000 TCP
clients. Node lifts its soft limit to the hard limit at start-up, so the hard limit is what counts:
\`LimitNOFILE=65536\` in a systemd unit, \`ulimit -Hn 65536\` (as root) before starting it in a shell,
\`nofile\` in /etc/security/limits.conf for a login, \`--ulimit nofile=65536:65536\` for Docker. The load
client raises its own soft limit (clients × 1 or × 3 + 64).

## What the numbers mean

- This is a ${m.cores}-core machine; the server and the load client share it, over loopback. The load
  client's own CPU is in the last column: it is the measuring side's share of the box, not the
  server's. Server CPU is user+sys seconds over the ${o.seconds} s window ("% core": the same as a share of
  one core). "server idle CPU" is the server with its stream running and no client yet: the
  fixed cost (Node, the 40 ms timer, packetizing 25 frames a second) under every row (the floor's
  is lower: it packetized beforehand).
- Every row should read recv min = recv max = sent pkts, 0 clients with a gap, 0 lost: every
  client got every packet of the window, in order. "tail ms" is how long after the window's end
  the window's last packet had reached every client (0: it already had; a server that falls
  behind shows up here and as "frame timer late").
- "push→last write" is how long \`pushUnits\` takes: packetizing the access unit once and writing it
  to every client (the fan-out is synchronous, so when it returns every client's \`socket.write\`
  has returned); "its CPU" is the same in CPU time, without the waits for a core a loaded machine
  adds. The floor times its write loop the same way. smolrtsp sends UDP in slices after
  \`pushUnits\` returns: a UDP row runs until its send queue last emptied (\`server.udpSendBacklog()\`),
  and its CPU is the process's until then. P frames and IDRs (about three times the bytes) are apart
  in the column after. At 500 TCP clients nearly all of it is the kernel's write
  (see "TCP fan-out profile"); "Push → last write: the kernel's floor" below times the same writes
  from C, with one and two threads.
- connect→PLAY is connect, DESCRIBE, SETUP and PLAY: PLAY is answered at once, and each client's
  first packet is the start of the next IDR (checked: "first packet starts an IDR"), so its first
  picture decodes. How long that keyframe takes to come is measured apart, for 1 s and 4 s GOPs,
  by \`npm run bench:play\` (the "PLAY answer and first keyframe" section below).
- UDP costs more per client than TCP: one \`send()\` system call per RTP packet and client (a TCP
  client gets one write per frame), and on loopback the kernel delivers each datagram to the
  receiving socket within that call. The floor shows how much of that is Node's own: its UDP loop is
  synchronous, so its event loop stalls as clients grow. smolrtsp sends the UDP fan-out in slices of at
  most 4 ms with the event loop running between them, so its "event loop late" (how late a 10 ms timer
  runs, from monitorEventLoopDelay less its 10 ms resolution: what RTSP requests and TCP clients wait)
  should stay low while the floor's grows.
- Peak RSS is each server process's high-water mark over its whole life. smolrtsp's includes the tsx
  loader (the benchmark runs the TypeScript source); the floor's includes its prebuilt stream (about
  0.5 MB per second of it): neither is the footprint of a deployed server.
- "load avg" is the 1-minute load average when the window started: anything else running on the
  machine at the time shares the cores and shows up in both servers' numbers (the ratio absorbs
  some of it, not all).
`;
  // Keep every section the other benches write (between their <!-- NAME:start/end --> markers).
  let kept = '';
  try {
    const old = readFileSync(BENCHMARKS_MD, 'utf8');
    for (const m of old.matchAll(/<!-- ([a-z0-9-]+):start -->[\s\S]*?<!-- \1:end -->/g))
      kept += `\n${m[0]}\n`;
  } catch {
    // No file yet.
  }
  writeFileSync(BENCHMARKS_MD, text + kept);
  console.log(`\nwrote ${BENCHMARKS_MD}`);
}

async function main(): Promise<void> {
  const o = parseOptions();
  const m = machine();
  console.log(
    `smolrtsp bench: ${m.cpu}, ${m.cores} cores, ${m.ramGiB.toFixed(1)} GiB, Node ${m.node}; ` +
      `${o.seconds} s window, ramp ${o.ramp}; scenarios ${o.scenarios.map((s) => s.name).join(', ')}`,
  );
  const build = buildCLoadClient();
  const binary = 'path' in build ? build.path : undefined;
  if ('skipped' in build) {
    console.log(
      `C load client skipped: ${build.skipped}. Measuring smolrtsp alone with the Node load client ` +
        '(bench/load-client.ts): no floor, no ratios. Install a C compiler (cc) for the full bench.',
    );
  }
  const results: Result[] = [];
  const t0 = performance.now();
  for (const sc of o.scenarios) {
    for (let k = 0; k < o.repeat; k++) {
      console.log(
        `\n== ${sc.name}: ${sc.clients} ${sc.transport.toUpperCase()} client(s)` +
          (o.repeat > 1 ? `, run ${k + 1}/${o.repeat}` : ''),
      );
      let pair: Result[];
      if (binary) {
        // Alternate which server goes first, so a drift in the machine's load does not favour one.
        const order: ServerKind[] = k % 2 === 0 ? ['smolrtsp', 'floor'] : ['floor', 'smolrtsp'];
        const byKind = new Map<ServerKind, Result>();
        for (const kind of order) byKind.set(kind, await runScenario(sc, o, kind, binary));
        const smol = byKind.get('smolrtsp')!;
        const floor = byKind.get('floor')!;
        // Per packet handed to the clients: the same as the CPU ratio when both windows hold the same
        // packets, and fair when one server's window ran longer or it fell behind.
        smol.ratio = cpuPerPacket([smol]) / cpuPerPacket([floor]);
        pair = [smol, floor];
      } else pair = [await runScenario(sc, o, 'smolrtsp')];
      results.push(...pair);
      console.log(textTable(pair));
      for (const r of pair) {
        console.log(detail(r));
        const loadPct = pct(r.loadCpuS, r.windowSec);
        if (loadPct > 85) {
          console.log(
            `WARNING: the load client used ${f0(loadPct)}% of a core: it may be the bottleneck in ${sc.name}`,
          );
        }
      }
    }
  }
  const totalS = (performance.now() - t0) / 1000;
  console.log(`\n== summary (${o.seconds} s window, ${totalS.toFixed(0)} s in all)\n${textTable(results)}`);
  const ratios = ratioRows(results);
  if (ratios.length > 0) {
    console.log(`\n== ratio to the floor, server CPU per packet\n${RATIO_HEADERS.join(' | ')}`);
    for (const r of ratios) console.log(r.join(' | '));
  }
  const clientHeavy = results.filter((r) => pct(r.loadCpuS, r.windowSec) > 85).map((r) => r.scenario.name);
  if (clientHeavy.length > 0) {
    console.log(`note: the load client was near a full core in ${clientHeavy.join(', ')}`);
  }
  if (o.write) writeBenchmarksMd(results, o, totalS);
  if (results.some((r) => r.error)) process.exitCode = 1;
}

await main();
