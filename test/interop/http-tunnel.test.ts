// RTSP over HTTP (the QuickTime/live555 tunnel) with real clients, through the CLI: ffmpeg
// `-rtsp_transport http` and GStreamer `rtsph://` decode from the RTSP port (which tells HTTP from
// RTSP by the first bytes) and from the HTTP port, with Digest authentication too.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort, type RunningCli, startCli } from '../helpers/cli.js';
import { ffmpegDecode, gstDecode } from '../helpers/clients.js';
import { hasTool, requireTools } from '../helpers/tools.js';

const SECONDS = 3;
/** At 10 fps, 3 s is about 30 pictures; a loaded machine may start late, never lose half of them. */
const MIN_FRAMES = 12;

describe('RTSP over HTTP with real clients', { concurrency: 1 }, () => {
  let cli: RunningCli;
  let httpPort: number;
  let authed: RunningCli;

  before(async () => {
    if (!hasTool('ffmpeg') && !hasTool('gst-launch-1.0')) return;
    httpPort = await freePort();
    cli = await startCli(['--pattern', '160x120@10', '--http-port', String(httpPort)]);
    authed = await startCli(['--pattern', '160x120@10', '--user', 'alice:secret']);
  });
  after(() => {
    cli?.child.kill('SIGTERM');
    authed?.child.kill('SIGTERM');
  });

  it('ffmpeg -rtsp_transport http decodes from the RTSP port with zero errors', async (t) => {
    if (!requireTools(t, 'ffmpeg')) return;
    const r = await ffmpegDecode(`rtsp://127.0.0.1:${cli.port}/test`, 'http', SECONDS);
    assert.equal(r.errors, '');
    assert.equal(r.code, 0);
    assert.ok(r.frames >= MIN_FRAMES, `decoded ${r.frames} frames`);
    t.diagnostic(`decoded ${r.frames} frames`);
  });

  it('ffmpeg -rtsp_transport http decodes from the HTTP port', async (t) => {
    if (!requireTools(t, 'ffmpeg')) return;
    const r = await ffmpegDecode(`rtsp://127.0.0.1:${httpPort}/test`, 'http', SECONDS);
    assert.equal(r.errors, '');
    assert.ok(r.frames >= MIN_FRAMES, `decoded ${r.frames} frames`);
    t.diagnostic(`decoded ${r.frames} frames`);
    // The HTTP port still answers its own routes.
    assert.equal((await fetch(`http://127.0.0.1:${httpPort}/no/such/thing`)).status, 404);
  });

  it('ffmpeg through the tunnel with Digest credentials decodes; a wrong password gets 401', async (t) => {
    if (!requireTools(t, 'ffmpeg')) return;
    const r = await ffmpegDecode(`rtsp://alice:secret@127.0.0.1:${authed.port}/test`, 'http', SECONDS);
    assert.equal(r.errors, '');
    assert.ok(r.frames >= MIN_FRAMES, `decoded ${r.frames} frames`);
    t.diagnostic(`decoded ${r.frames} frames`);
    const wrong = await ffmpegDecode(`rtsp://alice:wrong@127.0.0.1:${authed.port}/test`, 'http', 1);
    assert.equal(wrong.frames, 0);
    assert.match(wrong.errors, /401/);
  });

  it('GStreamer rtsph:// decodes from the RTSP port and the HTTP port', async (t) => {
    if (!requireTools(t, 'gst-launch-1.0')) return;
    for (const port of [cli.port, httpPort]) {
      const r = await gstDecode(`rtsph://127.0.0.1:${port}/test`, 'tcp', SECONDS);
      assert.equal(r.errors, '', `port ${port}`);
      assert.ok(r.frames >= MIN_FRAMES, `port ${port}: decoded ${r.frames} frames`);
      t.diagnostic(`port ${port}: decoded ${r.frames} frames`);
    }
  });

  it('GStreamer rtsph:// with Digest credentials decodes', async (t) => {
    if (!requireTools(t, 'gst-launch-1.0')) return;
    const r = await gstDecode(`rtsph://127.0.0.1:${authed.port}/test`, 'tcp', SECONDS, {
      rtspsrc: ['user-id=alice', 'user-pw=secret'],
    });
    assert.equal(r.errors, '');
    assert.ok(r.frames >= MIN_FRAMES, `decoded ${r.frames} frames`);
    t.diagnostic(`decoded ${r.frames} frames`);
  });
});
