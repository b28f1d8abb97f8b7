// The CLI's Prometheus metrics: the scrape-time summary of sessions, per-path totals that never go
// down as sessions come and go, and the registry over a real server and path table (source restarts,
// refusals, ended sessions).
import assert from 'node:assert/strict';
import { createServer as createTcpServer } from 'node:net';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { createServeMetrics, SentTotals, summarizeSessions } from '../../../src/cli/metrics.js';
import { PathTable, sourceSpecOf } from '../../../src/cli/paths.js';
import { createServer } from '../../../src/server/rtsp-server.js';
import type { SessionInfo } from '../../../src/server/session.js';
import { RawRtspClient } from '../../helpers/rtsp-client.js';

function session(over: Partial<SessionInfo>): SessionInfo {
  return {
    id: 'x',
    path: '/cam',
    state: 'playing',
    remoteAddress: '127.0.0.1',
    remotePort: 5000,
    transport: 'tcp',
    createdAt: '',
    lastActivityAt: '',
    packetsSent: 0,
    bytesSent: 0,
    droppedBatches: 0,
    queuedBytes: 0,
    tracks: [],
    ...over,
  };
}

const rr = (fractionLost: number, cumulativeLost: number, jitter: number) => ({
  control: 'trackID=0',
  transport: 'tcp',
  packetsSent: 0,
  bytesSent: 0,
  receiverReport: { fractionLost, cumulativeLost, jitter },
});

describe('summarizeSessions', () => {
  it('lists every served path for every transport, zero when empty', () => {
    const { byPathTransport, reception } = summarizeSessions([], ['/a']);
    assert.deepEqual(
      byPathTransport.map((r) => [r.path, r.transport, r.sessions, r.readers, r.bytes]),
      [
        ['/a', 'tcp', 0, 0, 0],
        ['/a', 'udp', 0, 0, 0],
        ['/a', 'multicast', 0, 0, 0],
      ],
    );
    assert.deepEqual(reception, []);
  });

  it('counts sessions, readers and publishers and sums traffic per path and transport', () => {
    const { byPathTransport } = summarizeSessions(
      [
        session({ packetsSent: 10, bytesSent: 1000, droppedBatches: 1 }),
        session({ state: 'ready', packetsSent: 0, bytesSent: 0 }),
        session({ transport: 'udp', packetsSent: 5, bytesSent: 500 }),
        session({ path: '/pub', state: 'recording' }),
      ],
      ['/cam'],
    );
    const row = (path: string, transport: string) =>
      byPathTransport.find((r) => r.path === path && r.transport === transport);
    assert.deepEqual(row('/cam', 'tcp'), {
      path: '/cam',
      transport: 'tcp',
      sessions: 2,
      readers: 1,
      publishers: 0,
      packets: 10,
      bytes: 1000,
      droppedBatches: 1,
    });
    assert.equal(row('/cam', 'udp')?.bytes, 500);
    assert.equal(row('/pub', 'tcp')?.publishers, 1, 'a path not in the table still shows its sessions');
    assert.equal(row('/pub', 'udp'), undefined);
  });

  it("takes the worst loss and jitter of the players' latest reports, and sums what they lost", () => {
    const { reception } = summarizeSessions(
      [
        session({ tracks: [rr(0.1, 4, 0.002), rr(0, 0, 0.01)] }),
        session({ transport: 'udp', tracks: [rr(0.25, 7, 0.001)] }),
        // Duplicates make a negative cumulative count; it does not cancel others' losses.
        session({ tracks: [rr(0, -3, 0)] }),
        session({ path: '/quiet' }),
      ],
      [],
    );
    assert.deepEqual(reception, [{ path: '/cam', lossRatio: 0.25, lostPackets: 11, jitterSeconds: 0.01 }]);
  });
});

describe('summarizeSessions with multicast', () => {
  it("counts multicast readers apart and the group's sends once, not once per reader", () => {
    // Three readers of one group: each session's own figures are what went to the group while it played.
    const readers = [1, 2, 3].map((i) =>
      session({ id: `m${i}`, transport: 'multicast', packetsSent: 100, bytesSent: 10_000 }),
    );
    const group = {
      path: '/cam',
      control: 'trackID=0',
      group: '239.255.0.1',
      ports: [5000, 5001] as [number, number],
      ttl: 1,
      readers: 3,
      playing: 3,
      packets: 100,
      bytes: 10_000,
      rtcpReceived: 0,
    };
    const { byPathTransport } = summarizeSessions(readers, ['/cam'], [group]);
    const row = byPathTransport.find((r) => r.transport === 'multicast');
    assert.deepEqual(
      [row?.sessions, row?.readers, row?.packets, row?.bytes],
      [3, 3, 100, 10_000],
      'three readers, one send per packet',
    );
    assert.equal(byPathTransport.find((r) => r.transport === 'udp')?.packets, 0);

    // The group's figures stay counted once it closes, and a reader leaving adds nothing.
    const totals = new SentTotals();
    for (const r of readers) totals.absorb(r);
    totals.absorbMulticast(group);
    const after = totals.totals(summarizeSessions([], ['/cam']).byPathTransport);
    assert.equal(after.find((t) => t.transport === 'multicast')?.packets, 100);
  });
});

describe('SentTotals', () => {
  const live = (bytes: number) =>
    summarizeSessions([session({ bytesSent: bytes, packetsSent: bytes / 100 })], []);

  it('keeps an ended session in its path total, so the total does not fall when it leaves', () => {
    const totals = new SentTotals();
    const during = totals.totals(live(1000).byPathTransport);
    assert.equal(during.find((t) => t.transport === 'tcp')?.bytes, 1000);
    totals.absorb(session({ bytesSent: 1200, packetsSent: 12 }));
    const after = totals.totals(summarizeSessions([], ['/cam']).byPathTransport);
    assert.deepEqual(
      after.find((t) => t.transport === 'tcp'),
      { path: '/cam', transport: 'tcp', packets: 12, bytes: 1200, droppedBatches: 0 },
    );
    const next = totals.totals(live(300).byPathTransport);
    assert.equal(next.find((t) => t.transport === 'tcp')?.bytes, 1500, 'ended plus live');
  });

  it('never reports less than before, even when a live figure falls (a transport replaced)', () => {
    const totals = new SentTotals();
    totals.totals(live(1000).byPathTransport);
    assert.equal(totals.totals(live(400).byPathTransport)[0].bytes, 1000);
    assert.equal(totals.totals(live(1100).byPathTransport)[0].bytes, 1100);
  });

  it('lists paths that only ended sessions saw (a removed path keeps its counters)', () => {
    const totals = new SentTotals();
    totals.absorb(session({ path: '/gone with space', transport: 'udp', bytesSent: 5 }));
    assert.deepEqual(totals.totals([]), [
      { path: '/gone with space', transport: 'udp', packets: 0, bytes: 5, droppedBatches: 0 },
    ]);
  });
});

/** A port on 127.0.0.1 with nothing listening (bound, then closed). */
async function closedPort(): Promise<number> {
  const srv = createTcpServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('createServeMetrics', () => {
  it('counts source restarts, refused requests and ended sessions, and keeps the bytes of those that left', async () => {
    const server = await createServer({ host: '127.0.0.1', port: 0, rtpPortRange: [43000, 43999] });
    const table = new PathTable(server, sourceSpecOf, pino({ level: 'silent' }));
    const metrics = createServeMetrics(server, table);
    const value = async (name: string, labels: Record<string, string> = {}) => {
      const json = await metrics.registry.getMetricsAsJSON();
      const values = json.find((m) => m.name === name)?.values ?? [];
      return values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
    };
    const client = await RawRtspClient.connect(server.port);
    try {
      await table.add('/p', { source: 'pattern', pattern: '160x120@10', gop: 1, audio: false });
      await table.add('/r', {
        source: 'relay',
        url: `rtsp://127.0.0.1:${await closedPort()}/up`,
        sourceOnDemand: false,
        sourceOnDemandLingerMs: 10_000,
        sourceTransport: 'tcp',
      });
      const deadline = Date.now() + 5000;
      while (((await value('smolrtsp_source_restarts_total', { path: '/r' })) ?? 0) < 1) {
        assert.ok(Date.now() < deadline, 'the relay to a closed port restarts within 5 s');
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(await value('smolrtsp_source_restarts_total', { path: '/p' }), undefined);

      const url = `rtsp://127.0.0.1:${server.port}`;
      assert.equal((await client.request('DESCRIBE', `${url}/nothing`)).status, 404);
      assert.equal(await value('smolrtsp_refused_requests_total', { status: '404' }), 1);
      assert.equal(await value('smolrtsp_auth_failures_total'), 0);

      const s = await client.request('SETUP', `${url}/p/trackID=0`, {
        Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
      });
      const id = String(s.headers.get('session')).split(';')[0];
      assert.equal((await client.request('PLAY', `${url}/p`, { Session: id })).status, 200);
      await client.waitFor(() => client.frames.length > 3);
      assert.equal(await value('smolrtsp_readers', { path: '/p', transport: 'tcp' }), 1);
      const playingBytes = (await value('smolrtsp_sent_bytes_total', { path: '/p', transport: 'tcp' })) ?? 0;
      assert.ok(playingBytes > 0);

      assert.equal((await client.request('TEARDOWN', `${url}/p`, { Session: id })).status, 200);
      assert.equal(await value('smolrtsp_sessions', { path: '/p', transport: 'tcp' }), 0);
      assert.equal(await value('smolrtsp_sessions_ended_total', { path: '/p', reason: 'teardown' }), 1);
      const endedBytes = (await value('smolrtsp_sent_bytes_total', { path: '/p', transport: 'tcp' })) ?? 0;
      assert.ok(endedBytes >= playingBytes, `${endedBytes} >= ${playingBytes}`);
      assert.match(await metrics.scrape(), /^nodejs_eventloop_lag_seconds /m);
    } finally {
      client.close();
      table.stopAll();
      await server.close();
    }
  });
});
