// The CLI's path table: paths added, replaced and removed while the server runs (HTTP API, reload).
// An unchanged config keeps its players; a changed one restarts (players get BYE); removed ones end.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import type { PathSourceConfig } from '../../../src/cli/config.js';
import { PathConfigError, PathTable, sourceSpecOf } from '../../../src/cli/paths.js';
import { parseRtcpCompound } from '../../../src/rtp/rtcp.js';
import { createServer, type RtspServer } from '../../../src/server/rtsp-server.js';
import { RawRtspClient } from '../../helpers/rtsp-client.js';

const pattern = (size: string): PathSourceConfig => ({
  source: 'pattern',
  pattern: size,
  gop: 1,
  audio: false,
});

async function play(port: number, path: string): Promise<RawRtspClient> {
  const c = await RawRtspClient.connect(port);
  const url = `rtsp://127.0.0.1:${port}${path}`;
  const d = await c.request('DESCRIBE', url, { Accept: 'application/sdp' });
  assert.equal(d.status, 200);
  const s = await c.request('SETUP', `${url}/trackID=0`, {
    Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
  });
  assert.equal(s.status, 200);
  const session = String(s.headers.get('session')).split(';')[0];
  assert.equal((await c.request('PLAY', url, { Session: session })).status, 200);
  return c;
}

const hasBye = (c: RawRtspClient) =>
  c.frames.some((f) => f.channel === 1 && parseRtcpCompound(f.data).some((p) => p.type === 'bye'));

describe('PathTable', () => {
  let server: RtspServer;
  const clients: RawRtspClient[] = [];
  after(async () => {
    for (const c of clients) c.close();
    await server?.close();
  });

  it('adds, keeps an unchanged path, restarts a changed one, removes, and applies a whole set', async () => {
    server = await createServer({ host: '127.0.0.1', port: 0, rtpPortRange: [41000, 41999] });
    const table = new PathTable(server, sourceSpecOf, pino({ level: 'silent' }));
    await table.add('/a', pattern('160x120@10'));
    await table.add('/b', pattern('160x120@10'));
    await assert.rejects(table.add('/a', pattern('160x120@10')), PathConfigError);
    await assert.rejects(table.add('/c', pattern('7x7')), /must look like/);
    assert.equal(server.getStream('/c'), undefined, 'a path that cannot start is not half there');

    const a = await play(server.port, '/a');
    const b = await play(server.port, '/b');
    clients.push(a, b);
    await a.waitFor(() => a.frames.length > 3);

    assert.equal(await table.replace('/a', pattern('160x120@10')), 'kept');
    assert.equal(server.sessions().length, 2);
    const aBefore = server.getStream('/a');

    // A config that cannot start leaves the old one serving.
    await assert.rejects(table.replace('/b', pattern('1x1')), /must look like/);
    assert.equal(server.sessions().filter((s) => s.path === '/b').length, 1);

    assert.equal(await table.replace('/b', pattern('320x240@10')), 'restarted');
    await b.waitFor(() => hasBye(b));
    assert.equal(server.sessions().filter((s) => s.path === '/b').length, 0);
    assert.equal(server.getStream('/a'), aBefore, '/a untouched');

    const result = await table.apply(
      new Map<string, PathSourceConfig>([
        ['/a', pattern('160x120@10')],
        ['/d', { source: 'publish', publishEnd: 'wait', takeover: false }],
        ['/e', pattern('bad')],
      ]),
    );
    assert.deepEqual(result.kept, ['/a']);
    assert.deepEqual(result.added, ['/d']);
    assert.deepEqual(result.removed, ['/b']);
    assert.match(result.errors['/e'], /must look like/);
    assert.equal(server.getStream('/b'), undefined);
    assert.ok(server.getStream('/d'));
    assert.equal(server.sessions().length, 1, 'the /a player stayed through the reload');
    const framesBefore = a.frames.length;
    await a.waitFor(() => a.frames.length > framesBefore + 3);

    assert.equal(table.remove('/a'), true);
    assert.equal(table.remove('/a'), false);
    await a.waitFor(() => hasBye(a));
    table.stopAll();
  });

  it('kicks one session: RTCP BYE, then its connection closes', async () => {
    const s = await createServer({ host: '127.0.0.1', port: 0, rtpPortRange: [42000, 42999] });
    const table = new PathTable(s, sourceSpecOf, pino({ level: 'silent' }));
    await table.add('/k', pattern('160x120@10'));
    const c = await play(s.port, '/k');
    const other = await play(s.port, '/k');
    try {
      const id = s.sessions().find((x) => x.remotePort === c.socket.localPort)?.id;
      assert.ok(id);
      assert.equal(s.endSession(id), true);
      assert.equal(s.endSession(id), false);
      await c.closed;
      assert.ok(hasBye(c), 'BYE before the close');
      assert.equal(s.sessions().length, 1, 'the other player stays');
      assert.equal(other.isClosed, false);
    } finally {
      c.close();
      other.close();
      table.stopAll();
      await s.close();
    }
  });
});
