// The multicast scenario of test/interop/multicast.test.ts. It runs INSIDE a network namespace the
// test creates (only `lo`, with 224.0.0.0/4 routed to it): nothing it sends can reach a real
// network. It plays the server's multicast path with ffmpeg, GStreamer and bare readers and prints
// what it saw as one JSON line on stdout.
import { createSocket, type Socket } from 'node:dgram';
import { summarizeSessions } from '../../src/cli/metrics.js';
import { parseTransportHeader } from '../../src/protocol/headers/transport.js';
import { parseRtcpCompound } from '../../src/rtp/rtcp.js';
import type { RtspServer } from '../../src/server/rtsp-server.js';
import { ffmpegDecode, gstDecode } from './clients.js';
import { RawRtspClient } from './rtsp-client.js';
import { startTestServer } from './server.js';

const GROUP = '239.255.12.1';
const PORT = 5000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(what: string, predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function bindGroup(port: number, address = GROUP): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    socket.once('error', reject);
    socket.bind(port, address, () => {
      socket.off('error', reject);
      socket.addMembership(GROUP);
      resolve(socket);
    });
  });
}

/** A bare multicast reader: SETUP with `multicast`, joins the group it is told, PLAY; counts packets. */
class GroupReader {
  packets = 0;
  socket: Socket | undefined;
  session = '';
  transport = '';

  constructor(readonly client: RawRtspClient) {}

  static async open(port: number, url: string, localAddress?: string): Promise<GroupReader> {
    const reader = new GroupReader(await RawRtspClient.connect(port, '127.0.0.1', localAddress));
    const setup = await reader.client.request('SETUP', `${url}/trackID=0`, {
      Transport: 'RTP/AVP;multicast',
    });
    if (setup.status !== 200) throw new Error(`SETUP answered ${setup.status}`);
    reader.transport = setup.headers.get('transport') ?? '';
    reader.session = (setup.headers.get('session') ?? '').split(';')[0];
    const [spec] = parseTransportHeader(reader.transport);
    reader.socket = await bindGroup(spec.port![0], spec.destination);
    reader.socket.on('message', () => {
      reader.packets++;
    });
    return reader;
  }

  async play(url: string): Promise<number> {
    return (await this.client.request('PLAY', url, { Session: this.session })).status;
  }

  async close(url: string): Promise<void> {
    await this.client.request('TEARDOWN', url, { Session: this.session }).catch(() => undefined);
    this.client.close();
    this.socket?.close();
  }
}

/** A unicast UDP reader (the control: the server sends to each one). */
async function unicastReader(port: number, url: string): Promise<{ close(): Promise<void> }> {
  const client = await RawRtspClient.connect(port);
  const rtp = createSocket('udp4');
  await new Promise<void>((r) => rtp.bind(0, '127.0.0.1', r));
  const rtpPort = rtp.address().port;
  const setup = await client.request('SETUP', `${url}/trackID=0`, {
    Transport: `RTP/AVP;unicast;client_port=${rtpPort}-${rtpPort + 1}`,
  });
  const session = (setup.headers.get('session') ?? '').split(';')[0];
  await client.request('PLAY', url, { Session: session });
  return {
    async close() {
      await client.request('TEARDOWN', url, { Session: session }).catch(() => undefined);
      client.close();
      rtp.close();
    },
  };
}

/** Figures of the multicast track at one moment. */
function snapshot(server: RtspServer, trackPackets: () => number) {
  const sender = server.multicastSenders().find((s) => s.path === '/mc');
  const sessions = server.sessions().filter((s) => s.path === '/mc');
  // What GET /metrics would say of the path's multicast traffic.
  const metricsRow = summarizeSessions(
    server.sessions(),
    ['/mc'],
    server.multicastSenders(),
  ).byPathTransport.find((r) => r.path === '/mc' && r.transport === 'multicast');
  return {
    transports: [...new Set(sessions.map((s) => s.transport))],
    metricsPackets: metricsRow?.packets ?? 0,
    metricsReaders: metricsRow?.readers ?? 0,
    senderPackets: sender?.packets ?? 0,
    trackPackets: trackPackets(),
    sessionPackets: sessions.reduce((n, s) => n + s.packetsSent, 0),
    sessions: sessions.length,
    playing: sessions.filter((s) => s.state === 'playing').length,
    senderReaders: sender?.readers ?? 0,
    rtcpReceived: sender?.rtcpReceived ?? 0,
  };
}

async function main(): Promise<void> {
  const result: Record<string, unknown> = {};
  const ts = await startTestServer({}, '/mc', { multicast: { group: GROUP, port: PORT } });
  const { server } = ts;
  const plain = server.addStream('/plain', { video: { codec: 'H264' } });
  const base = `rtsp://127.0.0.1:${ts.port}`;
  const url = `${base}/mc`;
  const trackPackets = () => ts.stream.video!.stats.packets;
  // Everything sent to the group's RTCP port: sender reports, and the BYE when the last reader leaves.
  const rtcpSeen: string[] = [];
  const watcher = await bindGroup(PORT + 1);
  watcher.on('message', (msg) => {
    try {
      for (const p of parseRtcpCompound(msg)) rtcpSeen.push(p.type);
    } catch {
      rtcpSeen.push('garbage');
    }
  });
  try {
    // 1. Each real client alone.
    const ffmpeg = await ffmpegDecode(url, 'udp_multicast', 3);
    result.ffmpeg = { frames: ffmpeg.frames, errors: ffmpeg.errors, code: ffmpeg.code };
    const gst = await gstDecode(url, 'udp-mcast', 4);
    result.gst = { frames: gst.frames, errors: gst.errors, code: gst.code };
    await waitUntil('the clients to leave', () => server.sessions().length === 0);
    result.sendersAfterClients = server.multicastSenders().length;

    // 2. Ten readers at once: ffmpeg, GStreamer and eight bare readers. GStreamer 1.22 hears its
    // own receiver reports back from the group, takes them for an SSRC collision and sends a BYE
    // for its old SSRC; ffmpeg ends on any BYE it hears (rtpdec does not check the SSRC). So here
    // GStreamer sends no RTCP, as a reader sharing a host with ffmpeg readers should.
    const clients = Promise.all([
      ffmpegDecode(url, 'udp_multicast', 7),
      gstDecode(url, 'udp-mcast', 8, { rtspsrc: ['do-rtcp=false'] }),
    ]);
    const readers: GroupReader[] = [];
    for (let i = 0; i < 8; i++) readers.push(await GroupReader.open(ts.port, url));
    for (const r of readers) await r.play(url);
    await waitUntil(
      'ten playing readers',
      () => server.sessions().filter((s) => s.state === 'playing').length === 10,
    );
    // The group starts at a keyframe (the sample file's come every 2 s or so).
    await waitUntil('the first packets', () => snapshot(server, trackPackets).senderPackets > 0);
    const before = snapshot(server, trackPackets);
    await sleep(2000);
    const after = snapshot(server, trackPackets);
    result.tenReaders = {
      before,
      after,
      rawPackets: readers.map((r) => r.packets),
      transport: readers[0].transport,
    };
    for (const r of readers) await r.close(url);
    const [ff10, gst10] = await clients;
    result.tenClients = {
      ffmpeg: { frames: ff10.frames, errors: ff10.errors },
      gst: { frames: gst10.frames, errors: gst10.errors },
    };
    await waitUntil('the ten to leave', () => server.sessions().length === 0);
    await sleep(200);
    result.afterTen = { senders: server.multicastSenders().length, rtcpSeen: [...new Set(rtcpSeen)] };

    // 3. The control: ten unicast UDP readers cost ten sends per packet.
    const unicast = [];
    for (let i = 0; i < 10; i++) unicast.push(await unicastReader(ts.port, url));
    await waitUntil('ten unicast readers', () => server.sessions().every((s) => s.packetsSent > 0));
    await sleep(200);
    const u0 = snapshot(server, trackPackets);
    await sleep(2000);
    const u1 = snapshot(server, trackPackets);
    result.unicast = { before: u0, after: u1 };
    for (const u of unicast) await u.close();
    await waitUntil('the unicast readers to leave', () => server.sessions().length === 0);

    // 4. Refusals and choices.
    const probe = await RawRtspClient.connect(ts.port);
    const refused = await probe.request('SETUP', `${base}/plain/trackID=0`, {
      Transport: 'RTP/AVP;multicast',
    });
    const fallback = await probe.request('SETUP', `${base}/plain/trackID=0`, {
      Transport: 'RTP/AVP;multicast, RTP/AVP;unicast;client_port=41000-41001',
    });
    const other = await RawRtspClient.connect(ts.port);
    const overridden = await other.request('SETUP', `${url}/trackID=0`, {
      Transport: 'RTP/AVP;multicast;destination=239.9.9.9;port=6000-6001;ttl=9',
    });
    result.refusals = {
      plainMulticast: refused.status,
      plainMulticastReason: refused.reason,
      plainFallback: [fallback.status, fallback.headers.get('transport')],
      overridden: [overridden.status, overridden.headers.get('transport')],
    };
    probe.close();
    other.close();
    await waitUntil('the probes to leave', () => server.sessions().length === 0);
    void plain;
  } finally {
    watcher.close();
    await ts.close();
  }

  // 5. Timeouts: a silent reader is reclaimed; one whose receiver reports reach the group is not.
  const short = await startTestServer({ sessionTimeoutSec: 1 }, '/mc', {
    multicast: { group: GROUP, port: PORT },
  });
  try {
    const shortUrl = `rtsp://127.0.0.1:${short.port}/mc`;
    const ended: Array<[string, string]> = [];
    short.server.on('sessionEnd', (info, reason) => ended.push([info.remoteAddress, reason]));
    const silent = await GroupReader.open(short.port, shortUrl, '127.0.0.2');
    const reporting = await GroupReader.open(short.port, shortUrl, '127.0.0.3');
    await silent.play(shortUrl);
    await reporting.play(shortUrl);
    // Receiver reports from the reader's own address to the group's RTCP port, as ffmpeg sends them.
    const rr = createSocket('udp4');
    await new Promise<void>((r) => rr.bind(0, '127.0.0.3', r));
    const report = Buffer.from([0x80, 201, 0, 1, 0x12, 0x34, 0x56, 0x78]);
    const timer = setInterval(() => rr.send(report, PORT + 1, GROUP), 300);
    await sleep(4500);
    clearInterval(timer);
    result.timeout = {
      ended,
      left: short.server.sessions().map((s) => [s.remoteAddress, s.state]),
      rtcpReceived: short.server.multicastSenders()[0]?.rtcpReceived ?? 0,
    };
    rr.close();
    await silent.close(shortUrl);
    await reporting.close(shortUrl);
  } finally {
    await short.close();
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err) => {
  process.stdout.write(`${JSON.stringify({ error: String((err as Error).stack ?? err) })}\n`);
  process.exitCode = 1;
});
