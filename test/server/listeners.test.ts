// An application listener that throws never reaches a source's push: the test pattern keeps
// producing frames and the other clients keep receiving, and the listener's exception still
// reaches the process as an uncaught exception.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createServer } from '../../src/server/rtsp-server.js';
import type { SessionTable } from '../../src/server/session.js';
import { createTestPattern } from '../../src/sources/testpattern/source.js';
import { RawRtspClient } from '../helpers/rtsp-client.js';

async function waitUntil(predicate: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function playTcp(url: string, c: RawRtspClient): Promise<string> {
  const s = await c.request('SETUP', `${url}/trackID=0`, {
    Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
  });
  const id = (s.headers.get('session') ?? '').split(';')[0];
  assert.equal((await c.request('PLAY', url, { Session: id })).status, 200);
  return id;
}

describe('application listeners', () => {
  it('throwing play and sessionEnd listeners (the end raised inside a push) stop neither the pattern nor the other clients', async () => {
    // The test runner's own handlers would count these as failures: take them aside while the
    // listener bugs surface, and look at what reaches the process.
    const saved = process.rawListeners('uncaughtException') as Array<(err: Error) => void>;
    process.removeAllListeners('uncaughtException');
    const uncaught: string[] = [];
    process.on('uncaughtException', (err) => uncaught.push(err.message));
    const server = await createServer({ host: '127.0.0.1', port: 0, rtpPortRange: [30000, 39999] });
    const stream = server.addStream('/live', { video: { codec: 'H264' } });
    const pattern = createTestPattern(stream.video!, { width: 160, height: 120, fps: 25, gopFrames: 25 });
    const patternErrors: Error[] = [];
    pattern.on('error', (err) => patternErrors.push(err));
    const clients: RawRtspClient[] = [];
    try {
      const ended: string[] = [];
      server.on('play', () => {
        throw new Error('bug in a play listener');
      });
      server.on('sessionEnd', () => {
        throw new Error('bug in a sessionEnd listener');
      });
      // A listener after the throwing one still hears the event.
      server.on('sessionEnd', (info, reason) => ended.push(`${info.id}:${reason}`));
      const url = `rtsp://127.0.0.1:${server.port}/live`;
      const watcher = await RawRtspClient.connect(server.port);
      clients.push(watcher);
      await playTcp(url, watcher);
      const victim = await RawRtspClient.connect(server.port);
      clients.push(victim);
      const victimId = await playTcp(url, victim);
      await watcher.waitFor(() => watcher.frames.length > 10);

      // A transport that throws while a frame goes out: its session ends inside the track's push.
      const table = (server as unknown as { sessionTable: SessionTable }).sessionTable;
      const transport = table.get(victimId)?.tracks.get(0)?.transport;
      assert.ok(transport);
      transport.deliver = () => {
        throw new Error('transport bug');
      };
      await waitUntil(() => ended.includes(`${victimId}:error`));

      const framesThen = pattern.stats.frames;
      const receivedThen = watcher.frames.length;
      await waitUntil(
        () => pattern.stats.frames >= framesThen + 10 && watcher.frames.length > receivedThen + 10,
      );
      assert.deepEqual(patternErrors, []);
      await waitUntil(() => uncaught.length >= 3);
      assert.deepEqual(uncaught.sort(), [
        'bug in a play listener',
        'bug in a play listener',
        'bug in a sessionEnd listener',
      ]);
    } finally {
      // The listeners' bugs are shown: the clean-up's own events go to no listener.
      server.removeAllListeners();
      for (const c of clients) c.close();
      pattern.stop();
      await server.close();
      process.removeAllListeners('uncaughtException');
      for (const l of saved) process.on('uncaughtException', l);
    }
  });
});
