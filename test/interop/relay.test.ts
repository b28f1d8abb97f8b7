// Relays: a smolrtsp server pulls an upstream RTSP server (a smolrtsp test pattern) with RelaySource.
// 20 players on the relay make exactly one upstream session; ffmpeg decodes the relayed path without
// errors; an upstream killed and restarted on the same port gives the players a gap, not an end; on
// demand, there is no upstream session before the first player nor after the linger; 'auto' across a
// path that drops UDP plays over TCP.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { RtspClient } from '../../src/client/rtsp-client.js';
import { createServer, type RtspServer } from '../../src/server/rtsp-server.js';
import { createSource } from '../../src/sources/create-source.js';
import { RelaySource, type RelaySourceOptions } from '../../src/sources/relay.js';
import type { Source } from '../../src/sources/source.js';
import { ffmpegDecode } from '../helpers/clients.js';
import { hasTool } from '../helpers/tools.js';
import { startUdpBlackholeProxy } from '../helpers/udp-blackhole.js';

const HAVE_FFMPEG = hasTool('ffmpeg');

interface Upstream {
  server: RtspServer;
  source: Source;
  port: number;
  close(): Promise<void>;
}

/** A smolrtsp server with the test pattern (H.264 + G.711) at /cam; `port` 0 picks one. */
async function startUpstream(port = 0): Promise<Upstream> {
  const server = await createServer({ host: '127.0.0.1', port, rtpPortRange: [45000, 46999] });
  const source = createSource({ source: 'pattern', width: 320, height: 240, fps: 25, gop: 1, audio: true });
  const stream = server.addStream('/cam', { tracks: [...(await source.open())] });
  source.start(stream);
  return {
    server,
    source,
    port: server.port,
    async close() {
      source.stop();
      await server.close();
    },
  };
}

async function startRelay(
  upstreamPort: number,
  options: Partial<RelaySourceOptions> = {},
): Promise<{ server: RtspServer; relay: RelaySource; url: string; restarts: string[]; infos: string[] }> {
  const server = await createServer({ host: '127.0.0.1', port: 0, rtpPortRange: [47000, 48999] });
  const relay = new RelaySource({
    url: `rtsp://127.0.0.1:${upstreamPort}/cam`,
    retry: { initialDelayMs: 200, maxDelayMs: 1000 },
    ...options,
  });
  const restarts: string[] = [];
  relay.on('restart', (_attempt, _delay, reason) => restarts.push(reason));
  relay.on('error', (err) => restarts.push(`error: ${err.message}`));
  const infos: string[] = [];
  relay.on('info', (message) => infos.push(message));
  const stream = server.addStream('/cam', { tracks: [...(await relay.open())] });
  relay.start(stream);
  return { server, relay, url: `rtsp://127.0.0.1:${server.port}/cam`, restarts, infos };
}

async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('relay of a smolrtsp upstream', { timeout: 120_000 }, () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('20 players make one upstream session, keep their sessions across an upstream restart, and ffmpeg decodes', async () => {
    let upstream = await startUpstream();
    const port = upstream.port;
    const relay = await startRelay(port);
    cleanup.push(
      () => relay.relay.stop(),
      () => relay.server.close(),
    );
    await until('the relay to play', () => relay.server.getStream('/cam')?.unavailableReason === undefined);

    const players: RtspClient[] = [];
    const received: number[] = [];
    for (let i = 0; i < 20; i++) {
      const p = new RtspClient(relay.url, { transport: i % 2 === 0 ? 'tcp' : 'udp' });
      received.push(0);
      p.on('unit', () => received[i]++);
      players.push(p);
      cleanup.push(() => p.close());
    }
    await Promise.all(players.map((p) => p.start()));
    await until('every player to get media', () => received.every((n) => n > 10));
    assert.equal(upstream.server.sessions().length, 1, 'one upstream session for 20 players');
    assert.equal(relay.server.sessions().length, 20);

    if (HAVE_FFMPEG) {
      const r = await ffmpegDecode(relay.url, 'tcp', 3, { audio: true });
      assert.equal(r.errors, '', r.errors);
      assert.ok(r.frames >= 40, `ffmpeg decoded ${r.frames} frames`);
    }

    // The upstream dies: the relay's path is unavailable, the players' sessions stay.
    await upstream.close();
    await until('the relay to notice', () => relay.server.getStream('/cam')?.unavailableReason !== undefined);
    await sleep(800);
    const during = [...received];
    await sleep(600);
    assert.deepEqual(received, during, 'no media while the upstream is down');
    assert.equal(relay.server.sessions().length, 20, 'players keep their sessions');
    assert.ok(relay.restarts.length > 0, 'the upstream failure is reported');

    // Back on the same port: media again on the same sessions.
    upstream = await startUpstream(port);
    cleanup.push(() => upstream.close());
    await until('media after the restart', () => received.every((n, i) => n > during[i] + 10));
    assert.equal(upstream.server.sessions().length, 1);
    assert.equal(relay.server.sessions().length, 20);
    assert.ok(
      relay.restarts.some((r) => /ECONNREFUSED|closed/i.test(r)),
      `reasons: ${relay.restarts.join(' | ')}`,
    );
  });

  it('on demand: no upstream session before the first player, none after the linger', async () => {
    const upstream = await startUpstream();
    cleanup.push(() => upstream.close());
    const relay = await startRelay(upstream.port, { onDemand: true, lingerMs: 500 });
    cleanup.push(
      () => relay.relay.stop(),
      () => relay.server.close(),
    );
    await sleep(500);
    assert.equal(upstream.server.sessions().length, 0, 'no upstream session before a player');

    // DESCRIBE starts the upstream and waits for its tracks.
    const player = new RtspClient(relay.url);
    cleanup.push(() => player.close());
    let units = 0;
    player.on('unit', () => units++);
    await player.start();
    await until('media on demand', () => units > 10);
    assert.equal(upstream.server.sessions().length, 1);

    await player.close();
    await until('the upstream to stop after the linger', () => upstream.server.sessions().length === 0);
    assert.equal(relay.relay.upstreamActive, false);

    // A second player starts it again.
    if (HAVE_FFMPEG) {
      const r = await ffmpegDecode(relay.url, 'tcp', 2);
      assert.equal(r.errors, '', r.errors);
      assert.ok(r.frames >= 25, `ffmpeg decoded ${r.frames} frames`);
      await until('the upstream to stop again', () => upstream.server.sessions().length === 0);
    }
  });

  it("'auto' across a path that drops UDP: the relay goes to TCP, says why, and players get media", async () => {
    const upstream = await startUpstream();
    const proxy = await startUdpBlackholeProxy(upstream.port);
    cleanup.push(
      () => upstream.close(),
      () => proxy.close(),
    );
    const relay = await startRelay(proxy.port, { transport: 'auto', udpTimeoutMs: 1500 });
    cleanup.push(
      () => relay.relay.stop(),
      () => relay.server.close(),
    );
    await until('the relay to play', () => relay.server.getStream('/cam')?.unavailableReason === undefined);

    const players = ['tcp', 'udp'].map(
      (transport) => new RtspClient(relay.url, { transport: transport as 'tcp' | 'udp' }),
    );
    const received = players.map(() => 0);
    for (const [i, p] of players.entries()) {
      p.on('unit', () => received[i]++);
      cleanup.push(() => p.close());
    }
    await Promise.all(players.map((p) => p.start()));
    await until('every player to get media', () => received.every((n) => n > 10));
    assert.ok(
      relay.infos.includes('upstream: UDP carried nothing for 1500 ms: switching to TCP'),
      relay.infos.join(' | '),
    );
    assert.deepEqual(relay.restarts, [], 'the switch is not a failure');
    assert.ok(proxy.discarded() > 0, 'the upstream did send over UDP, into the blackhole');
    await until('one upstream session', () => upstream.server.sessions().length === 1);
    assert.equal(upstream.server.sessions()[0].transport, 'tcp');
  });

  it('reports why an upstream refuses: 404', async () => {
    const upstream = await startUpstream();
    cleanup.push(() => upstream.close());
    const server = await createServer({ host: '127.0.0.1', port: 0 });
    const relay = new RelaySource({
      url: `rtsp://127.0.0.1:${upstream.port}/nothing`,
      retry: { initialDelayMs: 100, maxDelayMs: 200 },
    });
    cleanup.push(
      () => relay.stop(),
      () => server.close(),
    );
    const reasons: string[] = [];
    relay.on('restart', (_a, _d, reason) => reasons.push(reason));
    relay.start(server.addStream('/cam', {}));
    await until('a restart', () => reasons.length > 0);
    assert.match(reasons[0], /404/);
    assert.match(server.getStream('/cam')?.unavailableReason ?? '', /404/);
  });
});
