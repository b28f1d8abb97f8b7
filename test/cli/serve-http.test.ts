// `smolrtsp serve --http-port N`: the HTTP server starts beside RTSP, says where, answers JSON, and
// stops with the server.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freePort, startCli } from '../helpers/cli.js';

describe('serve --http-port', () => {
  it('serves HTTP on loopback, prints its URL, answers unknown resources with JSON 404, and stops on SIGTERM', async () => {
    const httpPort = await freePort();
    const cli = await startCli(['--pattern', '160x120@10', '--http-port', String(httpPort)]);
    try {
      const line = await cli.waitForLine((l) => l.msg === 'http serving');
      assert.equal(line.url, `http://127.0.0.1:${httpPort}`);
      const res = await fetch(`http://127.0.0.1:${httpPort}/no/such/thing`);
      assert.equal(res.status, 404);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      assert.match(((await res.json()) as { error: string }).error, /no such resource/);
    } finally {
      cli.child.kill('SIGTERM');
    }
    assert.equal(await cli.exited, 0);
    await assert.rejects(fetch(`http://127.0.0.1:${httpPort}/`), 'the HTTP port is closed after the stop');
  });
});
