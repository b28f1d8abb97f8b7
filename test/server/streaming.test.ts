// RTP delivery over TCP and UDP against a real server: RTP-Info truth, keyframe start,
// session keepalive and reclaim, the status view.
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { readRtpHeader } from '../../src/rtp/packet.js';
import { parseRtcpCompound } from '../../src/rtp/rtcp.js';
import { RawRtspClient } from '../helpers/rtsp-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

function sessionId(value: string | undefined): string {
  return (value ?? '').split(';')[0];
}

/** The url of a one-track RTP-Info: a video track's first packet is not known when PLAY is answered. */
function rtpInfoUrl(value: string | undefined): string {
  const m = /^url=([^;,]+)$/.exec(value ?? '');
  assert.ok(m, `RTP-Info: ${value}`);
  return m[1];
}

function bindUdp(port: number): Promise<UdpSocket | null> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(null);
    });
    s.bind(port, '127.0.0.1', () => resolve(s));
  });
}

/** A client's RTP/RTCP socket pair on consecutive ports, as real clients bind them. */
async function bindUdpPair(): Promise<[UdpSocket, UdpSocket]> {
  for (let port = 41000 + 2 * Math.floor(Math.random() * 2000); ; port += 2) {
    const rtp = await bindUdp(port);
    if (!rtp) continue;
    const rtcp = await bindUdp(port + 1);
    if (rtcp) return [rtp, rtcp];
    rtp.close();
  }
}

async function waitUntil(predicate: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('streaming', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ sessionTimeoutSec: 2, rtcpIntervalMs: 500 });
  });
  after(async () => {
    await ts.close();
  });

  it('TCP: RTP-Info names the track only; the first packet starts an IDR with SPS first', async () => {
    const c = await RawRtspClient.connect(ts.port);
    await c.request('DESCRIBE', ts.url);
    const s = await c.request('SETUP', `${ts.url}/trackID=0`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
    });
    assert.equal(s.status, 200);
    const play = await c.request('PLAY', `${ts.url}/`, {
      Session: sessionId(s.headers.get('session')),
      Range: 'npt=0.000-',
    });
    assert.equal(play.status, 200);
    assert.equal(rtpInfoUrl(play.headers.get('rtp-info')), `${ts.url}/trackID=0`);
    await c.waitFor(() => c.frames.filter((f) => f.channel === 0).length >= 50);
    const rtp = c.frames.filter((f) => f.channel === 0);
    const first = readRtpHeader(rtp[0].data);
    assert.equal(first.payloadType, 96);
    assert.equal(rtp[0].data[first.payloadOffset] & 0x1f, 7, 'first NAL is an SPS');
    // Sequence numbers are contiguous (mod 2^16) and the marker closes each access unit.
    for (let i = 1; i < rtp.length; i++) {
      const prev = readRtpHeader(rtp[i - 1].data);
      const cur = readRtpHeader(rtp[i].data);
      assert.equal(cur.sequenceNumber, (prev.sequenceNumber + 1) & 0xffff);
      if (cur.timestamp !== prev.timestamp) assert.equal(prev.marker, true, `marker before packet ${i}`);
      else assert.equal(prev.marker, false, `no marker inside an access unit (packet ${i - 1})`);
    }
    // Sender reports arrive on the odd channel.
    await c.waitFor(() => c.frames.some((f) => f.channel === 1 && f.data[1] === 200));
    c.close();
    await waitUntil(() => ts.server.sessions().length === 0);
  });

  it('UDP: server_port and ssrc in the answer, packets arrive from them, the first starts an IDR', async () => {
    const [rtpSock, rtcpSock] = await bindUdpPair();
    const packets: Buffer[] = [];
    const fromPorts = new Set<number>();
    rtpSock.on('message', (m, rinfo) => {
      packets.push(m);
      fromPorts.add(rinfo.port);
    });
    const rtcp: Buffer[] = [];
    rtcpSock.on('message', (m) => rtcp.push(m));
    const c = await RawRtspClient.connect(ts.port);
    const s = await c.request('SETUP', `${ts.url}/trackID=0`, {
      Transport: `RTP/AVP;unicast;client_port=${rtpSock.address().port}-${rtcpSock.address().port}`,
    });
    assert.equal(s.status, 200);
    const transport = s.headers.get('transport') ?? '';
    const m = /server_port=(\d+)-(\d+)/.exec(transport);
    assert.ok(m, transport);
    assert.equal(Number(m[1]) % 2, 0);
    assert.equal(Number(m[2]), Number(m[1]) + 1);
    const ssrc = /ssrc=([0-9A-Fa-f]{8})/.exec(transport);
    assert.ok(ssrc, transport);
    const play = await c.request('PLAY', ts.url, { Session: sessionId(s.headers.get('session')) });
    assert.equal(rtpInfoUrl(play.headers.get('rtp-info')), `${ts.url}/trackID=0`);
    await waitUntil(() => packets.length >= 30);
    const first = readRtpHeader(packets[0]);
    assert.equal(packets[0][first.payloadOffset] & 0x1f, 7, 'first NAL is an SPS');
    assert.equal(first.ssrc, Number.parseInt(ssrc[1], 16));
    assert.deepEqual([...fromPorts], [Number(m[1])]);
    const [view] = ts.server.sessions();
    assert.equal(view.transport, 'udp');
    assert.equal(view.state, 'playing');
    assert.equal(view.path, '/test');
    assert.equal(view.remoteAddress, '127.0.0.1');
    assert.ok(view.packetsSent >= 30 && view.bytesSent > 1000, JSON.stringify(view));
    await waitUntil(() => rtcp.some((p) => parseRtcpCompound(p)[0]?.type === 'sr'));
    assert.equal((await c.request('TEARDOWN', ts.url, { Session: view.id })).status, 200);
    // BYE follows the teardown.
    await waitUntil(() => rtcp.some((p) => parseRtcpCompound(p).some((x) => x.type === 'bye')));
    assert.equal(ts.server.sessions().length, 0);
    c.close();
    rtpSock.close();
    rtcpSock.close();
  });

  it('a UDP session with no keepalive is reclaimed; RTCP from the client keeps one alive', async () => {
    const [quiet, quietRtcp] = await bindUdpPair();
    const [talker, talkerRtcp] = await bindUdpPair();
    const c = await RawRtspClient.connect(ts.port);
    const setup = async (sock: UdpSocket) => {
      const port = sock.address().port;
      const r = await c.request('SETUP', `${ts.url}/trackID=0`, {
        Transport: `RTP/AVP;unicast;client_port=${port}`,
      });
      const serverRtcp = Number(/server_port=\d+-(\d+)/.exec(r.headers.get('transport') ?? '')![1]);
      return { id: sessionId(r.headers.get('session')), serverRtcp };
    };
    const a = await setup(quiet);
    const b = await setup(talker);
    const rr = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 1]);
    // Receiver reports come from the client's RTCP port (client_port + 1).
    const keepalive = setInterval(() => talkerRtcp.send(rr, b.serverRtcp, '127.0.0.1'), 300);
    try {
      // Timeout 2 s advertised, a little more enforced.
      await waitUntil(() => !ts.server.sessions().some((s) => s.id === a.id), 8000);
      assert.ok(
        ts.server.sessions().some((s) => s.id === b.id),
        'RTCP kept the other session',
      );
    } finally {
      clearInterval(keepalive);
      c.close();
      for (const sock of [quiet, quietRtcp, talker, talkerRtcp]) sock.close();
    }
    await waitUntil(() => ts.server.sessions().length === 0);
  });

  it('a TCP session lives on its open connection without keepalives', async () => {
    const c = await RawRtspClient.connect(ts.port);
    c.onFrame = () => {};
    const s = await c.request('SETUP', `${ts.url}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast' });
    await c.request('PLAY', ts.url, { Session: sessionId(s.headers.get('session')) });
    await new Promise((r) => setTimeout(r, 4500));
    assert.equal(ts.server.sessions().length, 1);
    c.close();
    await waitUntil(() => ts.server.sessions().length === 0);
  });

  it("two clients play; one's TEARDOWN does not disturb the other", async () => {
    const a = await RawRtspClient.connect(ts.port);
    const b = await RawRtspClient.connect(ts.port);
    const start = async (c: RawRtspClient) => {
      const s = await c.request('SETUP', `${ts.url}/trackID=0`, {
        Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
      });
      const id = sessionId(s.headers.get('session'));
      assert.equal((await c.request('PLAY', ts.url, { Session: id })).status, 200);
      return id;
    };
    const idA = await start(a);
    await start(b);
    await a.waitFor(() => a.frames.length > 20);
    assert.equal((await a.request('TEARDOWN', ts.url, { Session: idA })).status, 200);
    const before = b.frames.length;
    await b.waitFor(() => b.frames.length > before + 40);
    assert.equal(ts.server.sessions().length, 1);
    a.close();
    b.close();
    await waitUntil(() => ts.server.sessions().length === 0);
  });
});
