// Limits and deadlines that keep hostile or broken clients from holding the server.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { RawRtspClient } from '../helpers/rtsp-client.js';
import { startTestServer } from '../helpers/server.js';
import { requireTools, run } from '../helpers/tools.js';

async function waitUntil(predicate: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function rawConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

describe('limits', () => {
  it('a request that does not arrive whole in time gets 408 and a closed connection', async () => {
    const ts = await startTestServer({ requestTimeoutMs: 300 });
    try {
      const c = await RawRtspClient.connect(ts.port);
      c.send(`OPTIONS ${ts.url} RTSP/1.0\r\nCSeq: 1\r\n`);
      const t0 = Date.now();
      const r = await c.nextResponse(3000);
      assert.equal(r.status, 408);
      await c.closed;
      assert.ok(Date.now() - t0 >= 250, `closed after ${Date.now() - t0} ms`);
      // A whole request in time is fine, however slowly the connection is used between requests.
      const ok = await RawRtspClient.connect(ts.port);
      await new Promise((r) => setTimeout(r, 400));
      assert.equal((await ok.request('OPTIONS', ts.url)).status, 200);
      ok.close();
    } finally {
      await ts.close();
    }
  });

  it('an idle connection without a session is closed; one with a session is kept', async () => {
    const ts = await startTestServer({ idleTimeoutMs: 300 });
    try {
      const idle = await RawRtspClient.connect(ts.port);
      assert.equal((await idle.request('OPTIONS', ts.url)).status, 200);
      const busy = await RawRtspClient.connect(ts.port);
      busy.onFrame = () => {};
      const s = await busy.request('SETUP', `${ts.url}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast' });
      assert.equal(s.status, 200);
      await idle.closed;
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(busy.isClosed, false);
      busy.close();
    } finally {
      await ts.close();
    }
  });

  it('connections per address are capped; closing one makes room', async () => {
    const ts = await startTestServer({ maxConnectionsPerAddress: 3 });
    try {
      const kept = await Promise.all([1, 2, 3].map(() => RawRtspClient.connect(ts.port)));
      await waitUntil(() => ts.server.connectionCount === 3);
      const extra = await RawRtspClient.connect(ts.port);
      await extra.closed;
      assert.equal(ts.server.connectionCount, 3);
      kept[0].close();
      await waitUntil(() => ts.server.connectionCount === 2);
      const again = await RawRtspClient.connect(ts.port);
      assert.equal((await again.request('OPTIONS', ts.url)).status, 200);
      for (const c of [...kept, again]) c.close();
    } finally {
      await ts.close();
    }
  });

  it('sessions per path are capped with 503', async () => {
    const ts = await startTestServer({ maxSessionsPerPath: 2 });
    try {
      const c = await RawRtspClient.connect(ts.port);
      const codes: number[] = [];
      for (let i = 0; i < 3; i++) {
        codes.push(
          (await c.request('SETUP', `${ts.url}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast' })).status,
        );
      }
      assert.deepEqual(codes, [200, 200, 503]);
      c.close();
    } finally {
      await ts.close();
    }
  });

  it('sessions per connection and per address are capped with 503; other connections and addresses go on', async () => {
    const ts = await startTestServer({ maxSessionsPerConnection: 2, maxSessionsPerAddress: 3 });
    const setup = async (c: RawRtspClient): Promise<number> => {
      const r = await c.request('SETUP', `${ts.url}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast' });
      return r.status;
    };
    try {
      const a = await RawRtspClient.connect(ts.port);
      const b = await RawRtspClient.connect(ts.port);
      // a: 2 sessions, then its own cap; b: the address's third, then the address cap.
      assert.deepEqual([await setup(a), await setup(a), await setup(a)], [200, 200, 503]);
      assert.deepEqual([await setup(b), await setup(b)], [200, 503]);
      // The same client from another address (127.0.0.2 is loopback too) is not held to 127.0.0.1's cap.
      const other = await RawRtspClient.connect(ts.port, '127.0.0.1', '127.0.0.2');
      assert.equal(await setup(other), 200);
      // Closing a frees its sessions: b may set up again.
      a.close();
      await waitUntil(() => ts.server.sessions().length === 2);
      assert.equal(await setup(b), 200);
      b.close();
      other.close();
    } finally {
      await ts.close();
    }
  });

  it('slowloris: 300 connections dripping a byte each second do not stop a normal client', async (t) => {
    if (!requireTools(t, 'ffmpeg')) return;
    const ts = await startTestServer({ requestTimeoutMs: 3000, maxConnectionsPerAddress: 1000 });
    const drips: Socket[] = [];
    const timers: NodeJS.Timeout[] = [];
    try {
      for (let i = 0; i < 300; i++) {
        const s = await rawConnect(ts.port);
        s.on('error', () => {});
        s.on('data', () => {});
        drips.push(s);
        const text = `DESCRIBE ${ts.url} RTSP/1.0\r\nCSeq: 1\r\nX-Slow: ${'z'.repeat(200)}\r\n\r\n`;
        let pos = 0;
        timers.push(
          setInterval(() => {
            if (!s.destroyed && pos < text.length) s.write(text[pos++]);
          }, 1000),
        );
      }
      assert.ok(ts.server.connectionCount >= 300);
      const r = await run(
        'ffmpeg',
        ['-nostdin', '-v', 'error', '-rtsp_transport', 'tcp', '-i', ts.url, '-t', '5', '-f', 'framecrc', '-'],
        30_000,
      );
      const frames = r.stdout
        .toString()
        .split('\n')
        .filter((l) => /^0,/.test(l)).length;
      assert.equal(r.stderr.trim(), '');
      assert.ok(frames >= 123, `${frames} frames while under slowloris`);
      // Every dripping connection was cut off by the request deadline.
      await waitUntil(() => drips.every((s) => s.destroyed || s.readableEnded), 10_000);
      await waitUntil(() => ts.server.connectionCount === 0, 5000);
    } finally {
      for (const tm of timers) clearInterval(tm);
      for (const s of drips) s.destroy();
      await ts.close();
    }
  });
});
