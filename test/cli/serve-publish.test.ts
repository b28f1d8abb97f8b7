// `smolrtsp serve --publish /P` (repeatable) and `"source": "publish"` in the config: the paths take
// an ffmpeg publisher and serve what it sends; a path the config gives `publishEnd: "end"` ends its
// players when the publisher leaves.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startCli } from '../helpers/cli.js';
import { ffprobeStreams } from '../helpers/clients.js';
import { RawRtspClient } from '../helpers/rtsp-client.js';
import { requireTools, run } from '../helpers/tools.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** Polls DESCRIBE until the path answers 200 (someone publishes), within `timeoutMs`. */
async function untilDescribed(port: number, url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const c = await RawRtspClient.connect(port);
  try {
    for (;;) {
      if ((await c.request('DESCRIBE', url)).status === 200) return;
      assert.ok(Date.now() < deadline, `${url} not published in time`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    c.close();
  }
}

describe('smolrtsp serve: publish paths', () => {
  it('--publish (twice) and "source": "publish" in the config take ffmpeg publishers', async (t) => {
    if (!requireTools(t, 'ffmpeg', 'ffprobe')) return;
    const dir = mkdtempSync(join(tmpdir(), 'smolrtsp-cli-publish-'));
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ paths: { '/cfg': { source: 'publish', publishEnd: 'end' } } }));
    const cli = await startCli(['--config', config, '--publish', '/a', '--publish', '/b']);
    const publishers: ReturnType<typeof spawn>[] = [];
    try {
      for (const path of ['/a', '/b', '/cfg']) {
        const url = `rtsp://127.0.0.1:${cli.port}${path}`;
        assert.equal(
          (await ffprobeStreams(url, { timeoutMs: 5000 })).lines.length,
          0,
          `${path} empty at first`,
        );
        const child = spawn(
          'ffmpeg',
          [
            '-nostdin',
            '-v',
            'error',
            '-re',
            '-f',
            'lavfi',
            '-i',
            'testsrc2=size=160x120:rate=25',
            '-t',
            '20',
            '-c:v',
            'libx264',
            '-tune',
            'zerolatency',
            '-g',
            '25',
            '-pix_fmt',
            'yuv420p',
            '-f',
            'rtsp',
            '-rtsp_transport',
            'tcp',
            url,
          ],
          { stdio: 'ignore' },
        );
        publishers.push(child);
        await untilDescribed(cli.port, url);
        const probe = await ffprobeStreams(url);
        assert.deepEqual(probe.lines, ['h264,160,120'], probe.stderr);
      }
      // No test pattern besides: only the publish paths were asked for.
      assert.doesNotMatch(cli.stdout, /\/test\b/);
    } finally {
      for (const p of publishers) p.kill('SIGKILL');
      cli.child.kill('SIGTERM');
      await cli.exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a --publish value not starting with / is refused at startup', async () => {
    const r = await run(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--publish', 'live'], 20_000);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--publish must name a path starting with \//);
  });
});
