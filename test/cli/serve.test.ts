// The CLI as a user runs it: serves the default sample, and on SIGTERM ends sessions the way
// TEARDOWN does (RTCP BYE to the client, sockets closed) and exits 0.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseRtcpCompound } from '../../src/rtp/rtcp.js';
import { RawRtspClient } from '../helpers/rtsp-client.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

describe('smolrtsp serve', () => {
  it('prints the URL, streams, and shuts down cleanly on SIGTERM', async () => {
    const port = 21000 + Math.floor(Math.random() * 5000);
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--path',
        '/cam',
        '--log-json',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 15_000;
      while (!out.includes(`rtsp://127.0.0.1:${port}/cam`)) {
        assert.ok(Date.now() < deadline, `no URL printed: ${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const c = await RawRtspClient.connect(port);
      const s = await c.request('SETUP', `rtsp://127.0.0.1:${port}/cam/trackID=0`, {
        Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
      });
      assert.equal(s.status, 200);
      const play = await c.request('PLAY', `rtsp://127.0.0.1:${port}/cam`, {
        Session: (s.headers.get('session') ?? '').split(';')[0],
      });
      assert.equal(play.status, 200);
      await c.waitFor(() => c.frames.filter((f) => f.channel === 0).length > 10);
      child.kill('SIGTERM');
      await c.closed;
      const bye = c.frames
        .filter((f) => f.channel === 1)
        .some((f) => parseRtcpCompound(f.data).some((p) => p.type === 'bye'));
      assert.ok(bye, 'RTCP BYE before the connection closed');
      assert.equal(await exited, 0);
      assert.match(out, /"msg":"session created"/);
      assert.match(out, /"reason":"shutdown"/);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('refuses bad settings with a one-line reason and exit code 2, before serving anything', () => {
    const dir = mkdtempSync(join(tmpdir(), 'smolrtsp-cli-'));
    const config = (obj: unknown) => {
      const file = join(dir, `c${Math.random()}.json`);
      writeFileSync(file, JSON.stringify(obj));
      return file;
    };
    const cases: Array<[string[], RegExp]> = [
      [['--log-level', 'foo'], /--log-level must be trace, debug, info, warn, error, fatal or silent/],
      [['--pattern', '321x240@25'], /pattern 321x240@25 must look like/],
      // One bad path of several: nothing starts (it used to exit after /good was serving).
      [
        [
          '--config',
          config({
            paths: {
              '/good': { source: 'pattern', pattern: '640x480@25' },
              '/small': { source: 'pattern', pattern: '100x100@25' },
            },
          }),
        ],
        /pattern 100x100@25 must look like/,
      ],
      [['--config', config({ idleTimeout: 3_000_000 })], /idleTimeout/],
    ];
    for (const [args, message] of cases) {
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', MAIN, 'serve', '--host', '127.0.0.1', '--port', '0', ...args],
        { encoding: 'utf8', timeout: 20_000 },
      );
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.doesNotMatch(r.stdout, /serving/);
    }
  });
});
