// RtspClient transport 'auto': UDP first, TCP when UDP fails. Through a proxy in front of a real server
// that blackholes UDP (PLAY succeeds, RTP goes nowhere, like a NAT drop) the client tears the silent
// session down and plays over TCP at once; through one that answers 461 to UDP SETUP it goes to TCP at
// SETUP. Closing or aborting during the UDP window leaves no timer, socket or later fallback behind.
import assert from 'node:assert/strict';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { RtspClient, type RtspClientUnit } from '../../src/client/rtsp-client.js';
import { RtspParser } from '../../src/protocol/parser.js';
import { serializeResponse } from '../../src/protocol/serializer.js';
import { startTestServer } from '../helpers/server.js';
import { startUdpBlackholeProxy } from '../helpers/udp-blackhole.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** Reads `count` units, giving up (and closing the client) after `timeoutMs`. */
async function take(client: RtspClient, count: number, timeoutMs: number): Promise<RtspClientUnit[]> {
  const got: RtspClientUnit[] = [];
  const deadline = setTimeout(() => void client.close(), timeoutMs);
  for await (const unit of client.units()) {
    got.push(unit);
    if (got.length >= count) break;
  }
  clearTimeout(deadline);
  return got;
}

describe("RtspClient transport 'auto'", { timeout: 60_000 }, () => {
  it('UDP that carries nothing: TEARDOWN, then TCP at once; one upstream session left', async () => {
    const upstream = await startTestServer();
    const proxy = await startUdpBlackholeProxy(upstream.port);
    const client = new RtspClient(`rtsp://127.0.0.1:${proxy.port}/test`, {
      transport: 'auto',
      udpTimeoutMs: 1500,
      reconnect: { initialDelayMs: 200, maxDelayMs: 400 },
    });
    const reasons: string[] = [];
    let reconnects = 0;
    client.on('fallback', ({ reason }) => reasons.push(reason));
    client.on('reconnect', () => reconnects++);
    try {
      await client.start();
      assert.equal(client.transport, 'udp', 'PLAY over UDP succeeded first');
      const units = await take(client, 10, 15_000);
      assert.equal(units.length, 10, `units received: ${units.length}`);
      assert.deepEqual(reasons, ['UDP carried nothing for 1500 ms: switching to TCP']);
      assert.equal(reconnects, 0, 'the switch is not a failure (no reconnect, no backoff)');
      assert.equal(client.transport, 'tcp');
      assert.ok(proxy.discarded() > 0, 'the server sent RTP over UDP, and it was dropped');

      // The UDP session was torn down on its own connection; the TCP one is the only session left.
      const first = proxy.requests.filter((r) => r.connection === 1).map((r) => r.method);
      assert.deepEqual(first.slice(-2), ['PLAY', 'TEARDOWN'], first.join(' '));
      const setups = proxy.requests.filter((r) => r.method === 'SETUP');
      assert.match(setups[0].transport ?? '', /client_port=/);
      assert.equal(setups.length, 2);
      assert.match(setups[1].transport ?? '', /RTP\/AVP\/TCP;.*interleaved=/);
      assert.equal(setups[1].connection, 2);
      await until('one upstream session', () => upstream.server.sessions().length === 1);
      assert.equal(upstream.server.sessions()[0].transport, 'tcp');

      // A later loss reconnects over TCP straight away, like ffmpeg.
      proxy.dropConnections();
      await until('a reconnect', () => reconnects > 0);
      const again = await take(client, 10, 15_000);
      assert.equal(again.length, 10, `units after the reconnect: ${again.length}`);
      const later = proxy.requests.filter((r) => r.method === 'SETUP' && r.connection > 2);
      assert.ok(later.length > 0);
      assert.ok(
        later.every((r) => /interleaved=/.test(r.transport ?? '')),
        JSON.stringify(later),
      );
      assert.equal(reasons.length, 1);
      await client.close();
      await until('no upstream session', () => upstream.server.sessions().length === 0);
    } finally {
      await client.close();
      await proxy.close();
      await upstream.close();
    }
  });

  it('461 to a UDP SETUP: the same connection sets up over TCP', async () => {
    const upstream = await startTestServer();
    const proxy = await startUdpBlackholeProxy(upstream.port, 'refuse-udp');
    const client = new RtspClient(`rtsp://127.0.0.1:${proxy.port}/test`, { transport: 'auto' });
    const reasons: string[] = [];
    client.on('fallback', ({ reason }) => reasons.push(reason));
    try {
      await client.start();
      assert.equal(client.transport, 'tcp');
      assert.equal(reasons.length, 1);
      assert.match(
        reasons[0],
        /SETUP over UDP failed \(SETUP .*: 461 Unsupported Transport\): switching to TCP/,
      );
      const units = await take(client, 10, 15_000);
      assert.equal(units.length, 10);
      const setups = proxy.requests.filter((r) => r.method === 'SETUP');
      assert.equal(setups.length, 2);
      assert.match(setups[0].transport ?? '', /client_port=/);
      assert.match(setups[1].transport ?? '', /interleaved=/);
      assert.ok(
        proxy.requests.every((r) => r.connection === 1),
        'no new connection',
      );
      assert.equal(upstream.server.sessions().length, 1);
      assert.equal(upstream.server.sessions()[0].transport, 'tcp');
    } finally {
      await client.close();
      await proxy.close();
      await upstream.close();
    }
  });

  it('close() or abort during the UDP window: no timer, socket or fallback left', async () => {
    // A server that plays over UDP and never sends a packet.
    const seen: string[] = [];
    const conns = new Set<Socket>();
    const sdp =
      'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=silent\r\nt=0 0\r\n' +
      'm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:track1\r\n';
    const server = createNetServer((socket) => {
      conns.add(socket);
      socket.on('close', () => conns.delete(socket));
      const parser = new RtspParser();
      socket.on('data', (chunk) => {
        for (const m of parser.push(chunk)) {
          if (m.kind !== 'request') continue;
          seen.push(`${m.method} ${m.headers.get('transport') ?? ''}`.trim());
          const headers: Record<string, string> = { CSeq: m.headers.get('cseq') ?? '0' };
          let body: Buffer | undefined;
          if (m.method === 'OPTIONS') headers.Public = 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN';
          if (m.method === 'DESCRIBE') {
            headers['Content-Type'] = 'application/sdp';
            body = Buffer.from(sdp);
          }
          if (m.method === 'SETUP') {
            headers.Session = '5ec5e55;timeout=60';
            headers.Transport = `${m.headers.get('transport')};server_port=9-10`;
          }
          socket.write(serializeResponse({ status: 200, headers, body }));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `rtsp://127.0.0.1:${(server.address() as AddressInfo).port}/cam`;
    const resources = () => process.getActiveResourcesInfo().sort().join(',');
    try {
      const baseline = resources();
      for (const how of ['close', 'abort'] as const) {
        seen.length = 0;
        const controller = new AbortController();
        const client = new RtspClient(url, {
          transport: 'auto',
          udpTimeoutMs: 2000,
          signal: controller.signal,
          reconnect: {},
        });
        try {
          let fallbacks = 0;
          client.on('fallback', () => fallbacks++);
          await client.start();
          assert.match(
            seen.find((s) => s.startsWith('SETUP')) ?? '',
            /client_port=/,
            `${how}: SETUP over UDP`,
          );
          assert.notEqual(resources(), baseline, `${how}: the session holds resources`);
          if (how === 'close') await client.close();
          else controller.abort();
          await until(`${how}: the server side to close`, () => conns.size === 0);
          // Still inside the window: the watchdog must be gone already, not merely fire into nothing.
          await until(`${how}: no timer or socket left`, () => resources() === baseline, 1000);
          await sleep(2200); // past the window
          assert.equal(fallbacks, 0, `${how}: no fallback after the client closed`);
          assert.equal(seen.filter((s) => s.startsWith('OPTIONS')).length, 1, `${how}: no new connection`);
          assert.equal(resources(), baseline, `${how}: no timer or socket left`);
        } finally {
          await client.close();
        }
      }
    } finally {
      for (const c of conns) c.destroy();
      server.close();
    }
  });
});
