// The CLI as a user runs it: serves the default sample, and on SIGTERM ends sessions the way
// TEARDOWN does (RTCP BYE to the client, sockets closed) and exits 0.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
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
});
