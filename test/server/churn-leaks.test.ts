// Sessions that come and go through a real server, some cut rudely at every step: afterwards every
// table, index and counter the server keeps per connection, per session and per address is back to
// where it was, and no socket or timer is left open.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createServer, type RtspServer } from '../../src/server/rtsp-server.js';
import { RawRtspClient } from '../helpers/rtsp-client.js';
import { startSyntheticSource } from '../helpers/synthetic.js';

async function waitUntil(predicate: () => boolean, what: () => string, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`not back to empty in time: ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function resourceCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

/** Sizes of everything the server keeps per client; all 0 when no client is there. */
function heldByServer(server: RtspServer): Record<string, number> {
  const s = server as unknown as {
    connections: Set<unknown>;
    sockets: Set<unknown>;
    handshaking: Map<unknown, unknown>;
    ports: { allocated: number };
    admission: { connections: Map<unknown, unknown>; connectionTotal: number };
    sessionTable: {
      byId: Map<unknown, unknown>;
      byOwner: Map<unknown, unknown>;
      byStream: Map<unknown, unknown>;
      byAddress: Map<unknown, unknown>;
    };
    streams: Map<string, { sessionCount: number; tracks: Array<{ sinks: Set<unknown> }> }>;
  };
  const held: Record<string, number> = {
    connections: s.connections.size,
    sockets: s.sockets.size,
    handshaking: s.handshaking.size,
    udpPairs: s.ports.allocated,
    admissionAddresses: s.admission.connections.size,
    admissionTotal: s.admission.connectionTotal,
    sessionsById: s.sessionTable.byId.size,
    sessionsByOwner: s.sessionTable.byOwner.size,
    sessionsByStream: s.sessionTable.byStream.size,
    sessionsByAddress: s.sessionTable.byAddress.size,
  };
  for (const [path, stream] of s.streams) {
    held[`${path} sessionCount`] = stream.sessionCount;
    held[`${path} sinks`] = stream.tracks.reduce((n, t) => n + t.sinks.size, 0);
  }
  return held;
}

const allZero = (held: Record<string, number>) => Object.values(held).every((v) => v === 0);

describe('churn leaves nothing behind', () => {
  it('400 cycles over TCP and UDP, cut during DESCRIBE, after SETUP, after PLAY, or reset: every index empty, no handle left', async () => {
    const before = resourceCounts();
    const server = await createServer({ host: '127.0.0.1', port: 0, rtpPortRange: [45000, 45999] });
    const stream = server.addStream('/churn', { video: { codec: 'H264' } });
    const stop = startSyntheticSource(stream.video!, { idrBytes: 2000, pBytes: 500, gop: 5, fps: 50 });
    const url = `rtsp://127.0.0.1:${server.port}/churn`;
    const ended: Record<string, number> = {};
    server.on('sessionEnd', (_info, reason) => {
      ended[reason] = (ended[reason] ?? 0) + 1;
    });

    const cycle = async (i: number) => {
      const c = await RawRtspClient.connect(server.port);
      c.onFrame = () => {};
      const cut = i % 5; // 0: none, 1: during DESCRIBE, 2: after SETUP, 3: after PLAY, 4: reset after PLAY
      try {
        if (cut === 1) {
          c.send(`DESCRIBE ${url} RTSP/1.0\r\nCSeq: 1\r\n\r\n`);
          c.socket.destroy();
          return;
        }
        assert.equal((await c.request('DESCRIBE', url)).status, 200);
        const transport =
          i % 2 === 0
            ? 'RTP/AVP/TCP;unicast;interleaved=0-1'
            : `RTP/AVP;unicast;client_port=${46000 + (i % 200) * 2}-${46001 + (i % 200) * 2}`;
        const s = await c.request('SETUP', `${url}/trackID=0`, { Transport: transport });
        assert.equal(s.status, 200);
        const id = (s.headers.get('session') ?? '').split(';')[0];
        if (cut === 2) {
          c.socket.destroy();
          return;
        }
        assert.equal((await c.request('PLAY', url, { Session: id })).status, 200);
        if (cut === 3) {
          c.socket.destroy();
          return;
        }
        if (cut === 4) {
          c.socket.resetAndDestroy();
          return;
        }
        assert.equal((await c.request('TEARDOWN', url, { Session: id })).status, 200);
      } finally {
        c.close();
      }
    };

    const total = 400;
    let next = 0;
    const worker = async () => {
      while (next < total) await cycle(next++);
    };
    await Promise.all(Array.from({ length: 20 }, worker));
    await waitUntil(
      () => allZero(heldByServer(server)),
      () => JSON.stringify(heldByServer(server)),
    );
    assert.deepEqual(
      Object.entries(heldByServer(server)).filter(([, v]) => v !== 0),
      [],
      'everything the server holds per client is gone',
    );
    // Every session set up ended once, and the rude ones for the right reason.
    assert.equal(ended.teardown, (total / 5) * 1);
    assert.equal(ended.disconnect, (total / 5) * 3);
    stop();
    await server.close();
    // Closed handles leave the list on the next turn of the loop.
    await new Promise((r) => setTimeout(r, 100));
    const after = resourceCounts();
    for (const kind of ['TCPSocketWrap', 'TCPWRAP', 'UDPWRAP', 'TCPServerWrap', 'Timeout']) {
      assert.ok(
        (after[kind] ?? 0) <= (before[kind] ?? 0),
        `${kind}: ${before[kind] ?? 0} before, ${after[kind] ?? 0} after (${JSON.stringify(after)})`,
      );
    }
  });
});
