// The CLI as a user runs it: serves the default sample, and on SIGTERM ends sessions the way
// TEARDOWN does (RTCP BYE to the client, sockets closed) and exits 0.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseRtcpCompound } from '../../src/rtp/rtcp.js';
import { createServer } from '../../src/server/rtsp-server.js';
import { createTestPattern } from '../../src/sources/testpattern/source.js';
import { RawRtspClient } from '../helpers/rtsp-client.js';
import { requireTools, run } from '../helpers/tools.js';

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

  it('keeps an ffmpeg path whose camera is down: 503 at once, the reason logged, played once it is up', async (t) => {
    if (!requireTools(t, 'ffmpeg', 'ffprobe')) return;
    const started = Date.now();
    const [port, cameraPort] = [await freePort(), await freePort()];
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
        '/door',
        '--log-json',
        `--ffmpeg=-rtsp_transport tcp -i rtsp://127.0.0.1:${cameraPort}/stream1`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    let exitCode: number | null | undefined;
    child.on('exit', (code) => {
      exitCode = code;
    });
    const until = async (what: string, predicate: () => boolean, ms: number) => {
      const deadline = Date.now() + ms;
      while (!predicate()) {
        assert.ok(Date.now() < deadline, `${what}: ${out}`);
        assert.equal(exitCode, undefined, `the CLI exited: ${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    let camera: Awaited<ReturnType<typeof createServer>> | undefined;
    let pattern: ReturnType<typeof createTestPattern> | undefined;
    try {
      await until('the URL printed', () => out.includes(`rtsp://127.0.0.1:${port}/door`), 15_000);
      await until('the reason logged', () => out.includes('Connection refused'), 10_000);
      assert.match(
        out,
        /"path":"\/door","attempt":\d+,"delayMs":\d+,"reason":"ffmpeg exited \(1\): [^"]*Connection refused"/,
      );

      const c = await RawRtspClient.connect(port);
      const asked = Date.now();
      const r = await c.request('DESCRIBE', `rtsp://127.0.0.1:${port}/door`);
      const took = Date.now() - asked;
      c.close();
      t.diagnostic(`DESCRIBE while the camera is down: ${r.status} after ${took} ms`);
      assert.equal(r.status, 503);
      assert.ok(took < 1000, `answered after ${took} ms`);
      assert.match(r.body.toString(), /Connection refused/);

      // The camera comes up 5 s after the CLI started.
      await new Promise((r) => setTimeout(r, Math.max(0, started + 5000 - Date.now())));
      camera = await createServer({ host: '127.0.0.1', port: cameraPort, rtpPortRange: [53000, 53999] });
      const stream = camera.addStream('/stream1', { video: { codec: 'H264' } });
      pattern = createTestPattern(stream.video!, { width: 320, height: 240, fps: 25, gopFrames: 25 });
      await until('ffmpeg delivering', () => out.includes('ffmpeg is delivering'), 20_000);
      const probe = await run(
        'ffprobe',
        [
          '-v',
          'error',
          '-rtsp_transport',
          'tcp',
          '-show_entries',
          'stream=codec_name,width,height',
          '-of',
          'csv=p=0',
          `rtsp://127.0.0.1:${port}/door`,
        ],
        15_000,
      );
      t.diagnostic(`ffprobe after ${Date.now() - started} ms: ${probe.stdout.toString().trim()}`);
      assert.equal(probe.stdout.toString().trim(), 'h264,320,240', probe.stderr);
      assert.equal(exitCode, undefined, 'the CLI is still the first one');
      assert.match(out, /ffmpeg track 0 video h264 \(copied\)/);
    } finally {
      child.kill('SIGKILL');
      pattern?.stop();
      await camera?.close();
    }
  });
});

/** A TCP port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createTcpServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}
