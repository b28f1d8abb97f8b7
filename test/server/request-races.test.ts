// Requests in odd orders, from odd places and with odd values: every request is answered, nothing
// is left half-made, and no client's mistake reaches the source or the other clients.
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { describe, it } from 'node:test';
import type { Stream } from '../../src/media/stream.js';
import { createServer, type RtspServer, type RtspServerOptions } from '../../src/server/rtsp-server.js';
import { RawRtspClient } from '../helpers/rtsp-client.js';
import { sampleParameterSets } from '../helpers/synthetic.js';

interface ManualServer {
  server: RtspServer;
  stream: Stream;
  url: string;
  /** Pushes one access unit: an IDR with SPS/PPS, or a P slice. */
  push(keyframe: boolean): void;
}

/** A server whose only stream is fed by hand, so a test decides when keyframes come. */
async function manualServer(options: RtspServerOptions = {}): Promise<ManualServer> {
  const server = await createServer({ host: '127.0.0.1', port: 0, rtpPortRange: [52000, 52099], ...options });
  const stream = server.addStream('/cam', { video: { codec: 'H264' } });
  const { sps, pps } = sampleParameterSets();
  let frame = 0;
  return {
    server,
    stream,
    url: `rtsp://127.0.0.1:${server.port}/cam`,
    push(keyframe) {
      const units = keyframe ? [sps, pps, Buffer.from([0x65, 1, 2, 3, 4])] : [Buffer.from([0x41, 5, 6, 7])];
      stream.video!.pushUnits(units, { pts: frame++ * 40_000 });
    },
  };
}

async function udpReceiver(): Promise<{ socket: UdpSocket; port: number; packets: Buffer[] }> {
  const socket = createSocket('udp4');
  const packets: Buffer[] = [];
  socket.on('message', (m) => packets.push(m));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return { socket, port: socket.address().port, packets };
}

const sessionId = (r: { headers: { get(n: string): string | undefined } }) =>
  (r.headers.get('session') ?? '').split(';')[0];

describe('odd requests leave the server consistent', () => {
  it('client_port=0 gets 461 before any port is bound: the only pair stays free for the next client', async () => {
    const m = await manualServer({ rtpPortRange: [52000, 52001] });
    const rx = await udpReceiver();
    try {
      const bad = await RawRtspClient.connect(m.server.port);
      const codes: number[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await bad.request('SETUP', `${m.url}/trackID=0`, {
          Transport: 'RTP/AVP;unicast;client_port=0-1',
        });
        codes.push(r.status);
      }
      assert.deepEqual(codes, [461, 461, 461]);
      const good = await RawRtspClient.connect(m.server.port, '127.0.0.1', '127.0.0.2');
      const r = await good.request('SETUP', `${m.url}/trackID=0`, {
        Transport: `RTP/AVP;unicast;client_port=${rx.port}-${rx.port + 1}`,
      });
      assert.equal(r.status, 200);
      assert.match(r.headers.get('transport') ?? '', /server_port=52000-52001/);
      bad.close();
      good.close();
    } finally {
      rx.socket.close();
      await m.server.close();
    }
  });

  it('a re-SETUP that fails keeps the track as it was: PLAY streams to it and pushes never throw', async () => {
    // One port pair: the re-SETUP to other client ports finds none and gets 503.
    const m = await manualServer({ rtpPortRange: [52000, 52001] });
    const rx = await udpReceiver();
    try {
      const c = await RawRtspClient.connect(m.server.port);
      const s = await c.request('SETUP', `${m.url}/trackID=0`, {
        Transport: `RTP/AVP;unicast;client_port=${rx.port}-${rx.port + 1}`,
      });
      assert.equal(s.status, 200);
      const id = sessionId(s);
      const again = await c.request('SETUP', `${m.url}/trackID=0`, {
        Session: id,
        Transport: `RTP/AVP;unicast;client_port=${rx.port + 2}-${rx.port + 3}`,
      });
      assert.equal(again.status, 503);
      c.send(`PLAY ${m.url} RTSP/1.0\r\nCSeq: 9\r\nSession: ${id}\r\n\r\n`);
      await new Promise((r) => setTimeout(r, 50));
      for (let i = 0; i < 5; i++) assert.doesNotThrow(() => m.push(i === 0));
      assert.equal((await c.nextResponse()).status, 200);
      await new Promise((r) => setTimeout(r, 100));
      const rtp = rx.packets.filter((p) => (p[1] & 0x7f) === 96);
      assert.ok(rtp.length >= 5, `${rtp.length} RTP packets reached the original client port`);
      c.close();
    } finally {
      rx.socket.close();
      await m.server.close();
    }
  });

  it('a Transport source= is not echoed; a SETUP URL RTP-Info cannot carry gets 400 and no session', async () => {
    const m = await manualServer();
    try {
      const c = await RawRtspClient.connect(m.server.port);
      const ok = await c.request('SETUP', `${m.url}/trackID=0`, {
        Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1;source=a b',
      });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get('transport'), `RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=${hex8(m)}`);
      const quoted = await c.request('SETUP', `${m.url}/trackID=0?x="`, {
        Transport: 'RTP/AVP/TCP;unicast;interleaved=2-3',
      });
      assert.equal(quoted.status, 400);
      assert.equal(m.server.sessions().length, 1);
      c.close();
    } finally {
      await m.server.close();
    }
  });

  it('PLAY is answered at once with no keyframe in sight; the first packet is the next keyframe', async () => {
    const m = await manualServer({ rtcpIntervalMs: 100 });
    try {
      m.push(true); // the track has started: sender reports have something to say
      m.push(false);
      const a = await RawRtspClient.connect(m.server.port);
      const b = await RawRtspClient.connect(m.server.port);
      a.recordArrivals = true;
      const s = await a.request('SETUP', `${m.url}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast' });
      const id = sessionId(s);
      const t0 = performance.now();
      const play = await a.request('PLAY', m.url, { Session: id });
      // No frame is pushed until PLAY is answered: an answer that waited for a keyframe never comes.
      assert.equal(play.status, 200);
      assert.ok(performance.now() - t0 < 1000, `PLAY answered after ${performance.now() - t0} ms`);
      // Neither seq nor rtptime: the client's first packet is not known yet.
      assert.equal(play.headers.get('rtp-info'), `url=${m.url}/trackID=0`);
      m.push(false);
      m.push(false);
      await new Promise((r) => setTimeout(r, 300)); // three report intervals
      assert.equal(a.frames.filter((f) => f.channel === 0).length, 0, 'no P frame before the keyframe');
      m.push(true);
      await a.waitFor(() => a.frames.some((f) => f.channel === 0));
      const first = a.frames.find((f) => f.channel === 0)!.data;
      assert.equal(first[12] & 0x1f, 7, 'the first packet is the SPS in front of the IDR');
      // The answers came first; sender reports (channel 1) and RTP after them.
      assert.deepEqual(a.arrivals.slice(0, 2), ['response 200', 'response 200']);
      assert.ok(
        a.arrivals.slice(2).every((x) => x.startsWith('frame')),
        a.arrivals.join(),
      );

      // PAUSE and TEARDOWN from another connection act on a playing session as usual.
      assert.equal((await b.request('PAUSE', m.url, { Session: id })).status, 200);
      const before = a.frames.length;
      m.push(true);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(a.frames.filter((f, i) => i >= before && f.channel === 0).length, 0, 'paused');
      assert.equal((await a.request('PLAY', m.url, { Session: id })).status, 200);
      assert.equal((await b.request('TEARDOWN', m.url, { Session: id })).status, 200);
      // The connection is in step: the next request gets the next answer.
      assert.equal((await a.request('OPTIONS', '*')).status, 200);
      assert.equal(m.server.sessions().length, 0);
      a.close();
      b.close();
    } finally {
      await m.server.close();
    }
  });

  it('a SETUP whose client left while authorize was deciding makes no session', async () => {
    const m = await manualServer({
      hooks: { authorize: () => new Promise((r) => setTimeout(() => r(true), 200)) },
    });
    const rx = await udpReceiver();
    try {
      for (const transport of [
        'RTP/AVP/TCP;unicast',
        `RTP/AVP;unicast;client_port=${rx.port}-${rx.port + 1}`,
      ]) {
        const c = await RawRtspClient.connect(m.server.port);
        c.send(`SETUP ${m.url}/trackID=0 RTSP/1.0\r\nCSeq: 1\r\nTransport: ${transport}\r\n\r\n`);
        await new Promise((r) => setTimeout(r, 50));
        c.close();
      }
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(m.server.sessions().length, 0);
    } finally {
      rx.socket.close();
      await m.server.close();
    }
  });

  it('a SETUP whose stream was removed while authorize was deciding gets 404 and makes no session', async () => {
    const m = await manualServer({
      hooks: { authorize: () => new Promise((r) => setTimeout(() => r(true), 200)) },
    });
    try {
      const c = await RawRtspClient.connect(m.server.port);
      const setup = c.request('SETUP', `${m.url}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast' });
      await new Promise((r) => setTimeout(r, 50));
      m.server.removeStream('/cam');
      assert.equal((await setup).status, 404);
      assert.equal(m.server.sessions().length, 0);
      c.close();
    } finally {
      await m.server.close();
    }
  });

  it('interleaved frames split across writes do not run into the request deadline', async () => {
    const m = await manualServer({ requestTimeoutMs: 1000 });
    try {
      const c = await RawRtspClient.connect(m.server.port);
      // Each write ends one 12-byte `$` frame and starts the next: always a message half-received.
      const frame = Buffer.concat([Buffer.from([0x24, 1, 0, 8]), Buffer.alloc(8)]);
      c.send(frame.subarray(0, 6));
      for (let i = 0; i < 25; i++) {
        await new Promise((r) => setTimeout(r, 100));
        c.send(Buffer.concat([frame.subarray(6), frame.subarray(0, 6)]));
      }
      assert.equal(c.isClosed, false, 'closed after 2.5 s of steady frames');
      c.close();
    } finally {
      await m.server.close();
    }
  });

  it('stream.close() by the application ends its sessions with a BYE', async () => {
    const m = await manualServer();
    const ended: string[] = [];
    m.server.on('sessionEnd', (_info, reason) => ended.push(reason));
    try {
      m.push(true);
      const c = await RawRtspClient.connect(m.server.port);
      const s = await c.request('SETUP', `${m.url}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast' });
      assert.equal(s.status, 200);
      m.stream.close();
      assert.deepEqual(ended, ['stream-removed']);
      assert.equal(m.server.sessions().length, 0);
      assert.equal(m.server.getStream('/cam'), undefined);
      // BYE (RTCP type 203) on the RTCP channel.
      await c.waitFor(() => c.frames.some((f) => f.channel === 1 && f.data.includes(203)));
      c.close();
    } finally {
      await m.server.close();
    }
  });
});

function hex8(m: ManualServer): string {
  return m.stream.video!.sender.ssrc.toString(16).toUpperCase().padStart(8, '0');
}
