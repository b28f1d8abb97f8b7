// `smolrtsp serve --config smolrtsp.yaml`, reloaded while clients play: SIGHUP and
// POST /api/v1/config/reload apply the file's paths; unchanged paths lose nothing, changed ones serve
// their new source, removed ones end with RTCP BYE, and a broken file changes nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { freePort, type RunningCli, startCli } from '../helpers/cli.js';
import { ffmpegDecode, ffprobeStreams } from '../helpers/clients.js';
import { RawRtspClient } from '../helpers/rtsp-client.js';
import { requireTools } from '../helpers/tools.js';

const RTCP_BYE = 203;

function yamlConfig(paths: Record<string, string>): string {
  let text = '# smolrtsp test config\n# every path is a test pattern\npaths:\n';
  for (const [path, pattern] of Object.entries(paths)) {
    text += `  # ${path}\n  ${path}:\n    source: pattern # drawn in-process\n    pattern: ${pattern}\n`;
  }
  return text;
}

/** A TCP-interleaved player that checks every RTP sequence number and notes RTCP BYE. */
class SequencePlayer {
  packets = 0;
  gaps: string[] = [];
  bye = false;
  private lastSeq: number | undefined;

  private constructor(readonly client: RawRtspClient) {}

  static async play(port: number, path: string): Promise<SequencePlayer> {
    const url = `rtsp://127.0.0.1:${port}${path}`;
    const client = await RawRtspClient.connect(port);
    const player = new SequencePlayer(client);
    client.onFrame = (frame) => player.onFrame(frame.channel, frame.data);
    assert.equal((await client.request('DESCRIBE', url, { Accept: 'application/sdp' })).status, 200);
    const setup = await client.request('SETUP', `${url}/trackID=0`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
    });
    assert.equal(setup.status, 200);
    const session = (setup.headers.get('session') ?? '').split(';')[0];
    assert.equal((await client.request('PLAY', url, { Session: session })).status, 200);
    return player;
  }

  private onFrame(channel: number, data: Uint8Array): void {
    if (channel === 0) {
      const seq = (data[2] << 8) | data[3];
      if (this.lastSeq !== undefined && seq !== ((this.lastSeq + 1) & 0xffff))
        this.gaps.push(`${this.lastSeq} -> ${seq}`);
      this.lastSeq = seq;
      this.packets++;
      return;
    }
    // RTCP compound: walk its packets for a BYE.
    for (let off = 0; off + 4 <= data.length; off += (((data[off + 2] << 8) | data[off + 3]) + 1) * 4) {
      if (data[off + 1] === RTCP_BYE) this.bye = true;
    }
  }
}

function waitUntil(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = () => {
      if (predicate()) resolve();
      else if (Date.now() > deadline) reject(new Error(`${what}: not in time`));
      else setTimeout(check, 50);
    };
    check();
  });
}

async function stop(cli: RunningCli): Promise<void> {
  cli.child.kill('SIGTERM');
  const code = await Promise.race([cli.exited, new Promise((r) => setTimeout(() => r('hung'), 10_000))]);
  if (code === 'hung') cli.child.kill('SIGKILL');
  assert.equal(code, 0, 'the server exits 0 on SIGTERM');
}

describe('serve --config smolrtsp.yaml, reloaded', () => {
  it('SIGHUP: the path ffmpeg plays loses no packet, the changed path serves its new source, the removed one says BYE', async (t: TestContext) => {
    if (!requireTools(t, 'ffmpeg', 'ffprobe')) return;
    const file = join(mkdtempSync(join(tmpdir(), 'smolrtsp-reload-')), 'smolrtsp.yaml');
    writeFileSync(file, yamlConfig({ '/a': '320x240@10', '/b': '320x240@10', '/gone': '160x120@5' }));
    const cli = await startCli(['--config', file]);
    const base = `rtsp://127.0.0.1:${cli.port}`;
    const players: SequencePlayer[] = [];
    try {
      assert.deepEqual((await ffprobeStreams(`${base}/b`)).lines, ['h264,320,240']);
      const onA = await SequencePlayer.play(cli.port, '/a');
      const onGone = await SequencePlayer.play(cli.port, '/gone');
      players.push(onA, onGone);
      // ffmpeg decodes 6 s of /a; the reload comes about 2 s into it.
      const decoding = ffmpegDecode(`${base}/a`, 'tcp', 6);
      await waitUntil('ffmpeg plays /a', () => cli.logLines().filter((l) => l.msg === 'playing').length >= 3);
      await new Promise((r) => setTimeout(r, 1500));
      const beforeReload = onA.packets;
      assert.ok(beforeReload > 0, 'the /a player gets packets before the reload');

      writeFileSync(file, yamlConfig({ '/a': '320x240@10', '/b': '160x120@10', '/new': '160x120@5' }));
      cli.child.kill('SIGHUP');
      const reloaded = await cli.waitForLine((l) => l.msg === 'config reloaded');
      assert.deepEqual(
        {
          added: reloaded.added,
          restarted: reloaded.restarted,
          removed: reloaded.removed,
          kept: reloaded.kept,
          errors: reloaded.errors,
          restartNeeded: reloaded.restartNeeded,
        },
        {
          added: ['/new'],
          restarted: ['/b'],
          removed: ['/gone'],
          kept: ['/a'],
          errors: {},
          restartNeeded: [],
        },
      );

      // While ffmpeg still plays /a: /b is the new pattern, /new serves, /gone's player got BYE.
      assert.deepEqual((await ffprobeStreams(`${base}/b`)).lines, ['h264,160,120']);
      assert.deepEqual((await ffprobeStreams(`${base}/new`)).lines, ['h264,160,120']);
      await waitUntil('BYE on /gone', () => onGone.bye);
      const gone = await RawRtspClient.connect(cli.port);
      assert.equal((await gone.request('DESCRIBE', `${base}/gone`)).status, 404);
      gone.close();

      const decoded = await decoding;
      assert.equal(decoded.errors, '', 'ffmpeg decodes /a with no error across the reload');
      assert.equal(decoded.code, 0);
      assert.ok(decoded.frames >= 50, `ffmpeg decoded ${decoded.frames} frames of /a (6 s at 10 fps)`);
      await waitUntil('/a goes on after the reload', () => onA.packets > beforeReload + 20);
      assert.deepEqual(onA.gaps, [], 'no RTP sequence number of /a is missing');
      assert.equal(onA.bye, false, '/a was not ended');
      t.diagnostic(
        `/a: ${onA.packets} RTP packets in sequence (${onA.packets - beforeReload} after the reload began), ` +
          `ffmpeg decoded ${decoded.frames} frames with no error; /gone player got BYE`,
      );
    } finally {
      for (const p of players) p.client.close();
      await stop(cli);
    }
  });

  it('a broken file changes nothing and the log names its line; POST /api/v1/config/reload answers the result', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'smolrtsp-reload-')), 'smolrtsp.yml');
    writeFileSync(file, yamlConfig({ '/a': '160x120@5', '/b': '160x120@5' }));
    const httpPort = await freePort();
    const cli = await startCli(['--config', file, '--http-port', String(httpPort)]);
    const reloadUrl = `http://127.0.0.1:${httpPort}/api/v1/config/reload`;
    const onB = await SequencePlayer.play(cli.port, '/b');
    try {
      // A YAML syntax error: line and column.
      writeFileSync(file, 'paths:\n  /a:\n    source: pattern\n   pattern: [160x120@5\n');
      cli.child.kill('SIGHUP');
      const syntax = await cli.waitForLine((l) => l.msg === 'reload failed: nothing changed');
      assert.match(String(syntax.err), /smolrtsp\.yml: line \d+, column \d+: /);
      assert.equal(syntax.level, 50);

      // A value the schema refuses: its key and line (a wrong size at line 11 of the file).
      writeFileSync(file, yamlConfig({ '/a': '160x120@5', '/b': '161x120@5' }));
      const res = await fetch(reloadUrl, { method: 'POST' });
      assert.equal(res.status, 400);
      const refused = (await res.json()) as { ok: boolean; error: string; removed: string[] };
      assert.equal(refused.ok, false);
      assert.match(refused.error, /paths\.\/b\.pattern \(line 11\): pattern 161x120@5 must look like/);
      assert.deepEqual(refused.removed, []);
      const logged = await cli.waitForLine(
        (l) => l.msg === 'reload failed: nothing changed' && /line 11/.test(String(l.err)),
      );
      assert.equal(logged.level, 50);

      // Nothing changed: the /b player plays on, both paths still serve.
      const packets = onB.packets;
      await waitUntil('/b goes on', () => onB.packets > packets + 5);
      assert.equal(onB.bye, false);
      const c = await RawRtspClient.connect(cli.port);
      for (const p of ['/a', '/b'])
        assert.equal((await c.request('DESCRIBE', `rtsp://127.0.0.1:${cli.port}${p}`)).status, 200);
      c.close();

      // Fixed, with a path more and a server setting that only a restart applies.
      writeFileSync(
        file,
        `maxSessions: 50 # takes a restart\n${yamlConfig({ '/a': '160x120@5', '/b': '160x120@5', '/c': '160x120@5' })}`,
      );
      const ok = await fetch(reloadUrl, { method: 'POST' });
      assert.equal(ok.status, 200);
      assert.deepEqual(await ok.json(), {
        ok: true,
        added: ['/c'],
        restarted: [],
        removed: [],
        kept: ['/a', '/b'],
        errors: {},
        restartNeeded: ['maxSessions'],
      });
      await cli.waitForLine((l) => l.msg === 'reload: maxSessions changed; only a restart applies it');
      assert.deepEqual(onB.gaps, []);
    } finally {
      onB.client.close();
      await stop(cli);
    }
  });
});
