// The fan-out benchmark's floor: a bare Node loop that moves the same stream's bytes and does nothing
// else, so smolrtsp's figures can be read as a ratio to what any Node server pays just to write them.
// It answers just enough RTSP for the load client (OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN). Every
// RTP packet of the run is built before it says ready, with smolrtsp's own packetizer (same frames,
// same 1400-byte payloads, continuous sequence numbers); then per frame it writes ONE prebuilt
// interleaved buffer to each TCP client, or sends each packet on a connect()ed UDP socket per client.
// No per-client bookkeeping, no backpressure check, no RTCP. Run by bench/run.ts like bench/server.ts
// (same IPC messages); stops by itself when the runner goes away or after a hard limit.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Socket } from 'node:net';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { H264Packetizer } from '../src/codecs/h264/packetizer.js';
import { h264FmtpFromParameterSets } from '../src/codecs/h264/sdp.js';
import { RtpBatchWriter, type RtpPacketBatch } from '../src/rtp/batch.js';
import { buildSyntheticStream } from './frames.js';
import type { FromServer, ServerSnapshot, ToServer } from './ipc.js';
import { cpuMsSince, PushTimes } from './push-times.js';

const HARD_LIMIT_MS = Number(process.env.BENCH_SERVER_LIMIT_MS ?? 180_000);
/** Seconds of stream prebuilt (the runner sets it to cover its whole run); 0.5 MB per second. */
const STREAM_SECONDS = Number(process.env.BENCH_FLOOR_SECONDS ?? 120);
const PATH = '/bench';
const ELD_RESOLUTION_MS = 10;

if (!process.send) {
  console.error('bench/floor.ts is started by bench/run.ts (it needs an IPC channel)');
  process.exit(2);
}
const send = (msg: FromServer) => process.send?.(msg);
setTimeout(() => process.exit(3), HARD_LIMIT_MS).unref();

// ---- the stream, packetized once ----
const source = buildSyntheticStream();
const frameCount = Math.ceil(STREAM_SECONDS * source.fps);
const packetizer = new H264Packetizer({ mtu: 1400 });
const writer = new RtpBatchWriter({ payloadType: 96, ssrc: 0x1234abcd, initialSequence: 4321 });
const frames: RtpPacketBatch[] = [];
for (let n = 0; n < frameCount; n++) {
  const units = n % source.gop === 0 ? source.keyframe : source.delta;
  frames.push(packetizer.packetize(units, (n * 90_000) / source.fps, writer));
}
const sdpFmtp = h264FmtpFromParameterSets(source.keyframe[0], source.keyframe[1]);

// ---- who gets what ----
const tcpClients: Socket[] = [];
const udpClients: UdpSocket[] = [];
/** Played, waiting for the next keyframe (each client's first packet starts an IDR, as in smolrtsp). */
const waitingTcp: Socket[] = [];
const waitingUdp: UdpSocket[] = [];
let connections = 0;
let clientErrors = 0;
let firstClientError: string | undefined;
const ended: Record<string, number> = {};

function remove<T>(list: T[], item: T): boolean {
  const i = list.indexOf(item);
  if (i < 0) return false;
  list.splice(i, 1);
  return true;
}

interface Conn {
  socket: Socket;
  text: string;
  session: string;
  udp: UdpSocket | undefined;
  playing: boolean;
}

function stop(c: Conn, reason: string): void {
  if (c.playing) ended[reason] = (ended[reason] ?? 0) + 1;
  c.playing = false;
  remove(waitingTcp, c.socket);
  if (c.udp) {
    remove(waitingUdp, c.udp);
    remove(udpClients, c.udp);
    c.udp.close();
    c.udp = undefined;
  } else remove(tcpClients, c.socket);
}

function answer(c: Conn, cseq: string, status: string, headers: string[] = [], body = ''): void {
  const lines = [`RTSP/1.0 ${status}`, `CSeq: ${cseq}`, ...headers];
  if (body) lines.push('Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(body)}`);
  c.socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

function onRequest(c: Conn, head: string): void {
  const lines = head.split('\r\n');
  const [method, uri] = lines[0].split(' ');
  const header = (name: string) => {
    const l = lines.find((x) => x.toLowerCase().startsWith(`${name}:`));
    return l ? l.slice(name.length + 1).trim() : '';
  };
  const cseq = header('cseq');
  const session = [`Session: ${c.session};timeout=60`];
  if (method === 'OPTIONS') {
    answer(c, cseq, '200 OK', ['Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN']);
  } else if (method === 'DESCRIBE') {
    const sdp =
      'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=floor\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n' +
      `m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 ${sdpFmtp}\r\na=control:trackID=0\r\n`;
    answer(c, cseq, '200 OK', [`Content-Base: ${uri}/`], sdp);
  } else if (method === 'SETUP') {
    const transport = header('transport');
    const ports = /client_port=(\d+)-(\d+)/.exec(transport);
    if (!transport.includes('TCP') && ports) {
      const udp = createSocket('udp4');
      c.udp = udp;
      udp.bind(0, '127.0.0.1', () => {
        udp.connect(Number(ports[1]), c.socket.remoteAddress ?? '127.0.0.1', () => {
          const local = udp.address().port;
          answer(c, cseq, '200 OK', [
            `Transport: RTP/AVP;unicast;client_port=${ports[1]}-${ports[2]};server_port=${local}-${local + 1}`,
            ...session,
          ]);
        });
      });
    } else {
      answer(c, cseq, '200 OK', ['Transport: RTP/AVP/TCP;unicast;interleaved=0-1', ...session]);
    }
  } else if (method === 'PLAY') {
    if (!c.playing && c.udp) waitingUdp.push(c.udp);
    else if (!c.playing) waitingTcp.push(c.socket);
    c.playing = true;
    answer(c, cseq, '200 OK', [...session, 'Range: npt=0.000-']);
  } else if (method === 'TEARDOWN') {
    stop(c, 'teardown');
    answer(c, cseq, '200 OK', session);
  } else {
    answer(c, cseq, '501 Not Implemented');
  }
}

let sessionCounter = 0;
const listener = createServer({ noDelay: true }, (socket) => {
  connections++;
  const c: Conn = {
    socket,
    text: '',
    session: `F${(++sessionCounter).toString(16)}`,
    udp: undefined,
    playing: false,
  };
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    c.text += chunk;
    for (let end = c.text.indexOf('\r\n\r\n'); end >= 0; end = c.text.indexOf('\r\n\r\n')) {
      const head = c.text.slice(0, end);
      c.text = c.text.slice(end + 4);
      onRequest(c, head);
    }
  });
  socket.on('error', (err) => {
    clientErrors++;
    firstClientError ??= err.message;
  });
  socket.on('close', () => {
    connections--;
    stop(c, 'closed');
  });
});
await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
const address = listener.address();
const port = typeof address === 'object' && address ? address.port : 0;

// ---- the loop: frame n is due at t0 + n * interval ----
const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
eld.enable();
const intervalMs = 1000 / source.fps;
const t0 = performance.now();
let n = 0;
let packets = 0;
let octets = 0;
let delivered = 0;
let maxLateMs = 0;
let timer: NodeJS.Timeout | undefined;
// Timed as bench/server.ts times pushUnits: from the frame's turn until the last write returned.
const pushTimes = new PushTimes();

function pushFrame(frame: RtpPacketBatch): void {
  if (frame.keyframe && waitingTcp.length + waitingUdp.length > 0) {
    tcpClients.push(...waitingTcp.splice(0));
    udpClients.push(...waitingUdp.splice(0));
  }
  const framed = frame.framed;
  for (let i = 0; i < tcpClients.length; i++) tcpClients[i].write(framed);
  const list = frame.packets;
  for (let i = 0; i < udpClients.length; i++) {
    const u = udpClients[i];
    for (let k = 0; k < list.length; k++) u.send(list[k]);
  }
  packets += list.length;
  octets += frame.payloadOctets;
  delivered += list.length * (tcpClients.length + udpClients.length);
}

function tick(): void {
  const now = performance.now();
  const late = now - (t0 + n * intervalMs);
  if (late > maxLateMs) maxLateMs = late;
  while (t0 + n * intervalMs <= now) {
    if (n >= frames.length) {
      send({ type: 'fatal', message: `the floor ran past its ${STREAM_SECONDS} s of prebuilt stream` });
      return;
    }
    const frame = frames[n++];
    const startedAt = performance.now();
    const cpuAt = process.cpuUsage();
    pushFrame(frame);
    pushTimes.record(frame.keyframe, performance.now() - startedAt, cpuMsSince(cpuAt));
  }
  timer = setTimeout(tick, Math.max(0, t0 + n * intervalMs - performance.now()));
}
tick();

function snapshot(): ServerSnapshot {
  const cpu = process.cpuUsage();
  const elu = performance.eventLoopUtilization();
  const snap: ServerSnapshot = {
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    maxRssKiB: process.resourceUsage().maxRSS,
    rssBytes: process.memoryUsage.rss(),
    eluIdleMs: elu.idle,
    eluActiveMs: elu.active,
    nextSeq: n < frames.length ? frames[n].firstSeq : writer.nextSequence,
    packets,
    octets,
    frames: n,
    maxLateMs,
    eventLoopLateP99Ms: Math.max(0, eld.percentile(99) / 1e6 - ELD_RESOLUTION_MS),
    pushTimes: pushTimes.take(),
    sessions: tcpClients.length + udpClients.length + waitingTcp.length + waitingUdp.length,
    playing: tcpClients.length + udpClients.length,
    sessionPacketsSent: delivered,
    droppedBatches: 0,
    connections,
    clientErrors,
    firstClientError,
    ended: { ...ended },
  };
  maxLateMs = 0;
  eld.reset();
  return snap;
}

process.on('message', (msg: ToServer) => {
  if (msg.type === 'snapshot') send({ type: 'snapshot', id: msg.id, snapshot: snapshot() });
  else if (msg.type === 'shutdown') shutdown();
});
process.on('disconnect', () => shutdown());

let shuttingDown = false;
function shutdown(): void {
  if (shuttingDown) return;
  shuttingDown = true;
  clearTimeout(timer);
  const last = snapshot();
  listener.close();
  for (const u of udpClients) u.close();
  if (!process.connected) process.exit(0);
  process.send?.({ type: 'closed', snapshot: last } satisfies FromServer, undefined, {}, () => {
    process.disconnect();
    process.exit(0);
  });
}

send({
  type: 'ready',
  port,
  path: PATH,
  fps: source.fps,
  gop: source.gop,
  keyframeBytes: source.keyframeBytes,
  deltaBytes: source.deltaBytes,
  actualBitsPerSecond: source.actualBitsPerSecond,
  rssBytes: process.memoryUsage.rss(),
});
