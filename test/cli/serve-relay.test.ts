// `smolrtsp serve --relay rtsp://user:pass@host/path --path /cam` as a user types it: the CLI relays a
// Digest-protected upstream (a smolrtsp test pattern) and ffprobe plays the relayed path; a config
// path `"source": "rtsp://..."` relays the same way, and an upstream that refuses is logged with why.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createServer } from '../../src/server/rtsp-server.js';
import { createSource } from '../../src/sources/create-source.js';
import { startCli } from '../helpers/cli.js';
import { ffprobeStreams } from '../helpers/clients.js';
import { requireTools } from '../helpers/tools.js';

describe('smolrtsp serve --relay', () => {
  it('relays an upstream with user:pass@ in the URL; config "source": "rtsp://..." too', async (t) => {
    if (!requireTools(t, 'ffprobe')) return;
    const upstream = await createServer({
      host: '127.0.0.1',
      port: 0,
      auth: { users: [{ name: 'cam', password: 'p4ss' }] },
    });
    const source = createSource({ source: 'pattern', width: 320, height: 240, fps: 25, gop: 1 });
    source.start(upstream.addStream('/stream', { tracks: [...(await source.open())] }));
    const dir = mkdtempSync(join(tmpdir(), 'smolrtsp-cli-relay-'));
    const config = join(dir, 'config.json');
    const base = `rtsp://cam:p4ss@127.0.0.1:${upstream.port}`;
    writeFileSync(
      config,
      JSON.stringify({
        paths: {
          '/ondemand': { source: `${base}/stream`, sourceOnDemand: true, sourceTransport: 'udp' },
          '/missing': { source: `${base}/nothing` },
        },
      }),
    );
    const cli = await startCli(['--config', config, '--relay', `${base}/stream`, '--path', '/cam']);
    try {
      assert.doesNotMatch(cli.stdout, /p4ss/, 'the password is not printed');
      for (const path of ['/cam', '/ondemand']) {
        const probe = await ffprobeStreams(`rtsp://127.0.0.1:${cli.port}${path}`);
        assert.deepEqual(probe.lines, ['h264,320,240'], `${path}: ${probe.stderr}`);
      }
      const refused = await cli.waitForLine((l) => l.path === '/missing' && /404/.test(String(l.reason)));
      assert.match(String(refused.reason), /404 Not Found/);
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
      source.stop();
      await upstream.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
