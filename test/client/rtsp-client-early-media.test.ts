// Media that arrives with (or before) the PLAY answer is not lost: a server may send its first RTP
// right behind the answer in the same TCP segment, and over UDP a datagram sent after the answer can
// still be read before it. Those first packets are the keyframe a player starts from; units() called
// as soon as start() resolves must begin with it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RtspClient, type RtspClientUnit } from '../../src/client/rtsp-client.js';
import { eagerServer, eagerFrame as frame } from '../helpers/eager-rtsp-server.js';

async function firstTwo(client: RtspClient): Promise<RtspClientUnit[]> {
  const got: RtspClientUnit[] = [];
  const deadline = setTimeout(() => void client.close(), 3000);
  for await (const unit of client.units()) {
    got.push(unit);
    if (got.length === 2) break;
  }
  clearTimeout(deadline);
  return got;
}

describe('RtspClient: media with the PLAY answer', () => {
  for (const transport of ['tcp', 'udp'] as const) {
    it(`${transport}: units() called when start() resolves begins with the keyframe sent with the answer`, async () => {
      const server = await eagerServer();
      const client = new RtspClient(server.url, { transport, keepalive: false, rtcpIntervalMs: 0 });
      client.on('error', () => {});
      try {
        await client.start();
        const got = await firstTwo(client);
        assert.equal(got.length, 2, `${got.length} units before the deadline`);
        assert.equal(got[0].keyframe, true);
        assert.deepEqual(got[0].data, frame(0));
        assert.deepEqual(got[1].data, frame(1));
      } finally {
        await client.close();
        server.close();
      }
    });
  }

  it('units buffered for a late reader are dropped once the first turn after start() has passed', async () => {
    const server = await eagerServer();
    const client = new RtspClient(server.url, { transport: 'tcp', keepalive: false, rtcpIntervalMs: 0 });
    client.on('error', () => {});
    let events = 0;
    client.on('unit', () => events++);
    try {
      await client.start();
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(events, 2, 'the unit event saw both');
      // A reader that comes later starts with what arrives from then on, not a backlog.
      const iterator = client.units();
      const next = await Promise.race([
        iterator.next(),
        new Promise<'none'>((resolve) => setTimeout(() => resolve('none'), 200)),
      ]);
      assert.equal(next, 'none');
      await iterator.return?.();
    } finally {
      await client.close();
      server.close();
    }
  });
});
