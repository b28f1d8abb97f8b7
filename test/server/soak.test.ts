// Many clients come and go, some rudely; one reads too slowly. Afterwards nothing is left behind,
// and nobody else lost a packet.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { readRtpHeader } from '../../src/rtp/packet.js';
import { createServer } from '../../src/server/rtsp-server.js';
import { RawRtspClient } from '../helpers/rtsp-client.js';
import { startSyntheticSource } from '../helpers/synthetic.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function waitUntil(predicate: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function resourceCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

describe('soak', () => {
  it('2,000 connect → DESCRIBE → SETUP → PLAY → TEARDOWN cycles and abrupt disconnects leave nothing behind', async (t) => {
    const server = await createServer({ host: '127.0.0.1', port: 0, rtpPortRange: [45000, 49999] });
    const stream = server.addStream('/soak', { video: { codec: 'H264' } });
    // Every frame a keyframe at 50 fps: PLAY is answered within 20 ms, so cycles are quick.
    const stop = startSyntheticSource(stream.video!, { idrBytes: 3000, pBytes: 3000, gop: 1, fps: 50 });
    const url = `rtsp://127.0.0.1:${server.port}/soak`;
    let portsSeen = 0;

    const cycle = async (i: number) => {
      const c = await RawRtspClient.connect(server.port);
      c.onFrame = () => {};
      try {
        assert.equal((await c.request('DESCRIBE', url)).status, 200);
        const transport =
          i % 2 === 0
            ? 'RTP/AVP/TCP;unicast;interleaved=0-1'
            : `RTP/AVP;unicast;client_port=${40000 + (i % 500) * 2}`;
        const s = await c.request('SETUP', `${url}/trackID=0`, { Transport: transport });
        assert.equal(s.status, 200);
        const id = (s.headers.get('session') ?? '').split(';')[0];
        assert.equal((await c.request('PLAY', url, { Session: id })).status, 200);
        if (i % 2 === 1) portsSeen++;
        if (i % 10 === 0) {
          // Abrupt: gone mid-play without TEARDOWN, half with a reset.
          if (i % 20 === 0) c.socket.resetAndDestroy();
          else c.close();
          return;
        }
        assert.equal((await c.request('TEARDOWN', url, { Session: id })).status, 200);
      } finally {
        c.close();
      }
    };

    const before = resourceCounts();
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const total = 2000;
    let next = 0;
    const worker = async () => {
      while (next < total) await cycle(next++);
    };
    await Promise.all(Array.from({ length: 25 }, worker));
    await waitUntil(() => server.sessions().length === 0 && server.connectionCount === 0, 10_000);
    // Let closed sockets finish closing before counting what is left.
    await new Promise((r) => setTimeout(r, 300));
    gc();
    const heapAfter = process.memoryUsage().heapUsed;
    const after = resourceCounts();
    assert.ok(portsSeen >= 900, `${portsSeen} UDP sessions`);
    assert.equal(server.sessions().length, 0);
    assert.equal(server.connectionCount, 0);
    assert.equal(
      (server as unknown as { ports: { allocated: number } }).ports.allocated,
      0,
      'UDP port pairs released',
    );
    for (const kind of ['TCPSocketWrap', 'UDPWRAP', 'Timeout', 'TCPWRAP']) {
      assert.ok(
        (after[kind] ?? 0) <= (before[kind] ?? 0),
        `${kind}: ${before[kind] ?? 0} before, ${after[kind] ?? 0} after`,
      );
    }
    const growth = heapAfter - heapBefore;
    t.diagnostic(
      `cycles ${total}, UDP ${portsSeen}, heap growth ${(growth / 1048576).toFixed(2)} MiB, resources after ${JSON.stringify(after)}`,
    );
    assert.ok(growth < 8 * 1024 * 1024, `heap grew by ${(growth / 1048576).toFixed(1)} MiB`);
    stop();
    await server.close();
  });

  it('one client reading 10x slower than the stream: 10 others lose nothing, its queue stays bounded', async (t) => {
    const maxBufferedBytes = 512 * 1024;
    const server = await createServer({
      host: '127.0.0.1',
      port: 0,
      rtpPortRange: [45000, 49999],
      maxBufferedBytes,
      maxLagMs: 4000,
    });
    const stream = server.addStream('/fast', { video: { codec: 'H264' } });
    // 4 Mbit/s: 60 KB IDR + 24 x 18 KB P per second.
    const stop = startSyntheticSource(stream.video!, { idrBytes: 60_000, pBytes: 18_000, gop: 25 });
    const url = `rtsp://127.0.0.1:${server.port}/fast`;
    const play = async (c: RawRtspClient) => {
      const s = await c.request('SETUP', `${url}/trackID=0`, {
        Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
      });
      const id = (s.headers.get('session') ?? '').split(';')[0];
      assert.equal((await c.request('PLAY', url, { Session: id })).status, 200);
      return id;
    };
    const good = await Promise.all(Array.from({ length: 10 }, () => RawRtspClient.connect(server.port)));
    const seqs = good.map(() => [] as number[]);
    for (const [i, c] of good.entries()) {
      await play(c);
      c.onFrame = (f) => {
        if (f.channel === 0) seqs[i].push(readRtpHeader(f.data).sequenceNumber);
      };
    }
    const slow = await RawRtspClient.connect(server.port);
    slow.onFrame = () => {};
    const slowId = await play(slow);
    // Read at 50 KB/s, a tenth of the stream's 500 KB/s (read() in paused mode emits 'data' itself).
    slow.socket.pause();
    const reader = setInterval(() => {
      let got = 0;
      while (got < 5000 && slow.socket.readableLength > 0) {
        const chunk = slow.socket.read(Math.min(5000 - got, slow.socket.readableLength)) as Buffer | null;
        if (!chunk) break;
        got += chunk.length;
      }
    }, 100);
    let peakQueued = 0;
    const ended: string[] = [];
    server.on('sessionEnd', (info, reason) => ended.push(`${info.id}:${reason}`));
    const watch = setInterval(() => {
      const v = server.sessions().find((x) => x.id === slowId);
      if (v) peakQueued = Math.max(peakQueued, v.queuedBytes);
    }, 20);
    await waitUntil(() => ended.includes(`${slowId}:slow`), 20_000);
    clearInterval(watch);
    clearInterval(reader);
    t.diagnostic(
      `slow client: peak queued ${peakQueued} bytes (bound ${maxBufferedBytes}), dropped as 'slow'`,
    );
    // The slow client's queue never held more than the bound plus one access unit.
    assert.ok(peakQueued <= maxBufferedBytes + 70_000, `peak queued ${peakQueued} bytes`);
    assert.ok(peakQueued > maxBufferedBytes / 2, `the bound was reached (${peakQueued})`);
    for (const [i, s] of seqs.entries()) {
      assert.ok(s.length > 1000, `client ${i}: ${s.length} packets`);
      for (let k = 1; k < s.length; k++)
        assert.equal(s[k], (s[k - 1] + 1) & 0xffff, `client ${i} gap at ${k}`);
    }
    stop();
    for (const c of [...good, slow]) c.close();
    await server.close();
  });
});
