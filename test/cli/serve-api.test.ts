// The HTTP API of `smolrtsp serve --http-port N`, driven as an operator would: paths and sessions
// listed, paths added / replaced / removed at run time, bad input named, auth as for RTSP, the
// OpenAPI document checked against the routes, and a kicked ffmpeg getting BYE and stopping.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { API_ROUTES } from '../../src/http/api.js';
import { freePort, type RunningCli, startCli } from '../helpers/cli.js';
import { SAMPLE_FILE } from '../helpers/server.js';
import { importDevPackage, requireTools } from '../helpers/tools.js';

/** The part of @seriousme/openapi-schema-validator's documented API this test uses. */
interface OpenApiSchemaValidator {
  Validator: {
    new (): { validate(specification: object): Promise<{ valid: boolean; errors?: unknown }> };
    supportedVersions: Set<string>;
  };
}

interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: JSON read back for assertions
  body: any;
}

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    assert.ok(Date.now() < deadline, `${what} not seen in time`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function startWithApi(args: string[]): Promise<{ cli: RunningCli; base: string }> {
  const httpPort = await freePort();
  const cli = await startCli([...args, '--http-port', String(httpPort)]);
  return { cli, base: `http://127.0.0.1:${httpPort}` };
}

async function stop(cli: RunningCli): Promise<void> {
  cli.child.kill('SIGTERM');
  assert.equal(await cli.exited, 0);
}

function ffmpegPlayer(
  url: string,
  transport: 'tcp' | 'udp',
): { child: ChildProcess; stderr: () => string; exited: Promise<number | null> } {
  // -loglevel debug: ffmpeg says "Received BYE" only at that level.
  const child = spawn(
    'ffmpeg',
    [
      '-nostdin',
      '-loglevel',
      'debug',
      '-rtsp_transport',
      transport,
      '-i',
      url,
      '-t',
      '120',
      '-f',
      'null',
      '-',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exited };
}

describe('serve --http-port: the HTTP API', () => {
  it('lists paths with tracks and parameters, adds / replaces / removes paths, and names bad input', async (t) => {
    if (!requireTools(t, 'ffmpeg')) return;
    const { cli, base } = await startWithApi(['--pattern', '320x240@15', '--publish', '/pub']);
    let publisher: ChildProcess | undefined;
    try {
      const list = await call(base, 'GET', '/api/v1/paths');
      assert.equal(list.status, 200);
      const names = list.body.items.map((p: { name: string }) => p.name).sort();
      assert.deepEqual(names, ['/pub', '/test']);

      // The pattern path: ready, one H.264 track whose size the SPS told, a bitrate once sampled.
      const test = await until('a bitrate for /test', async () => {
        const r = await call(base, 'GET', '/api/v1/paths/test');
        return r.body.bitrate > 0 ? r.body : undefined;
      });
      assert.equal(test.state, 'ready');
      assert.deepEqual(test.source, { kind: 'pattern', description: 'test pattern 320x240@15' });
      assert.equal(test.tracks.length, 1);
      const video = test.tracks[0];
      assert.equal(video.codec, 'H264');
      assert.equal(video.clockRate, 90000);
      assert.equal(video.payloadType, 96);
      assert.equal(video.parameters.width, 320);
      assert.equal(video.parameters.height, 240);
      assert.equal(video.parameters.frameRate, 15);
      assert.equal(video.parameters.profile, 'Constrained Baseline');
      assert.equal(test.readers, 0);
      assert.ok(test.bitrate > 10_000 && test.bitrate < 50_000_000, `bitrate ${test.bitrate}`);

      // The publish path waits for a publisher; then names it.
      const pub = await call(base, 'GET', '/api/v1/paths/pub');
      assert.equal(pub.body.state, 'waiting');
      assert.equal(pub.body.publisher, null);
      publisher = spawn(
        'ffmpeg',
        [
          '-nostdin',
          '-v',
          'error',
          '-re',
          '-stream_loop',
          '-1',
          '-i',
          SAMPLE_FILE,
          '-t',
          '30',
          '-c',
          'copy',
          '-f',
          'rtsp',
          '-rtsp_transport',
          'tcp',
          `rtsp://127.0.0.1:${cli.port}/pub`,
        ],
        { stdio: 'ignore' },
      );
      const published = await until('a publisher on /pub', async () => {
        const r = await call(base, 'GET', '/api/v1/paths/pub');
        return r.body.state === 'ready' && r.body.publisher && r.body.tracks.length > 0 ? r.body : undefined;
      });
      assert.equal(published.publisher.address, '127.0.0.1');
      assert.ok(!Number.isNaN(Date.parse(published.publisher.since)));
      assert.equal(published.tracks[0].codec, 'H264');
      assert.equal(published.readers, 0, 'the publisher is not a reader');
      const sessions = await call(base, 'GET', '/api/v1/sessions');
      assert.equal(sessions.status, 200);
      assert.deepEqual(
        sessions.body.items.map((s: { path: string; state: string }) => [s.path, s.state]),
        [['/pub', 'recording']],
      );

      // Add a nested path at run time; it plays.
      const added = await call(base, 'POST', '/api/v1/paths/site/door', {
        source: 'pattern',
        pattern: '160x120@10',
      });
      assert.equal(added.status, 201, JSON.stringify(added.body));
      assert.equal(added.body.name, '/site/door');
      assert.equal(added.body.source.kind, 'pattern');
      assert.equal((await call(base, 'GET', '/api/v1/paths/site/door')).status, 200);
      assert.equal(
        (await call(base, 'GET', '/api/v1/paths/site%2Fdoor')).status,
        200,
        'a percent-encoded slash is the same name',
      );
      const probe = spawnSync(
        'ffprobe',
        [
          '-v',
          'error',
          '-rtsp_transport',
          'tcp',
          '-show_entries',
          'stream=width,height',
          '-of',
          'csv=p=0',
          `rtsp://127.0.0.1:${cli.port}/site/door`,
        ],
        { timeout: 20_000, encoding: 'utf8' },
      );
      assert.equal(probe.stdout.trim(), '160,120', probe.stderr);

      // POST on an existing path: 409; bad input: 400 naming the field.
      assert.equal((await call(base, 'POST', '/api/v1/paths/site/door', { source: 'pattern' })).status, 409);
      const badPattern = await call(base, 'POST', '/api/v1/paths/x', { source: 'pattern', pattern: 'big' });
      assert.equal(badPattern.status, 400);
      assert.equal(badPattern.body.field, 'pattern');
      assert.equal(badPattern.body.error, 'pattern: like 1280x720@30');
      const outOfRange = await call(base, 'POST', '/api/v1/paths/x', {
        source: 'pattern',
        pattern: '9000x9000@30',
      });
      assert.equal(outOfRange.status, 400);
      assert.equal(outOfRange.body.field, 'pattern');
      const unknownKey = await call(base, 'POST', '/api/v1/paths/x', { source: 'pattern', colour: 'red' });
      assert.equal(unknownKey.status, 400);
      assert.equal(unknownKey.body.field, 'colour');
      const badKind = await call(base, 'POST', '/api/v1/paths/x', { source: 'camera' });
      assert.equal(badKind.status, 400);
      assert.equal(badKind.body.field, 'source');
      const badGop = await call(base, 'POST', '/api/v1/paths/x', { source: 'pattern', gop: 'often' });
      assert.equal(badGop.body.field, 'gop');
      const notJson = await call(base, 'POST', '/api/v1/paths/x', '{"source": ');
      assert.equal(notJson.status, 400);
      assert.match(notJson.body.error, /not JSON/);
      const noFile = await call(base, 'POST', '/api/v1/paths/x', {
        source: 'file',
        file: 'no-such-file.264',
      });
      assert.equal(noFile.status, 400);
      assert.match(noFile.body.error, /no-such-file/);
      const badName = await call(base, 'POST', '/api/v1/paths/a%20b', { source: 'pattern' });
      assert.equal(badName.status, 400);
      assert.equal(badName.body.field, 'name');
      assert.equal((await call(base, 'GET', '/api/v1/paths/x')).status, 404, 'no failed POST left a path');

      // Replace: the same config is kept, another restarts with the new source.
      const same = await call(base, 'PUT', '/api/v1/paths/site/door', {
        source: 'pattern',
        pattern: '160x120@10',
      });
      assert.equal(same.status, 200);
      assert.equal(same.body.outcome, 'kept');
      const other = await call(base, 'PUT', '/api/v1/paths/site/door', {
        source: 'pattern',
        pattern: '192x144@10',
      });
      assert.equal(other.body.outcome, 'restarted');
      assert.equal(other.body.source.description, 'test pattern 192x144@10');
      const badPut = await call(base, 'PUT', '/api/v1/paths/site/door', { source: 'pattern', pattern: 'x' });
      assert.equal(badPut.status, 400);
      assert.equal(badPut.body.field, 'pattern');
      assert.equal((await call(base, 'PUT', '/api/v1/paths/nowhere', { source: 'pattern' })).status, 404);

      // Remove, then it is gone; unknown names and sessions are 404.
      const removed = await fetch(`${base}/api/v1/paths/site/door`, { method: 'DELETE' });
      assert.equal(removed.status, 204);
      assert.equal((await call(base, 'GET', '/api/v1/paths/site/door')).status, 404);
      assert.equal((await call(base, 'DELETE', '/api/v1/paths/site/door')).status, 404);
      assert.equal((await call(base, 'DELETE', '/api/v1/sessions/0123456789abcdef01234567')).status, 404);
      assert.equal((await call(base, 'PATCH', '/api/v1/paths/test', {})).status, 405);

      // No config to reload: a clear 501.
      const reload = await call(base, 'POST', '/api/v1/config/reload');
      assert.equal(reload.status, 501);
      assert.match(reload.body.error, /reload is not available/);
    } finally {
      publisher?.kill('SIGKILL');
      await stop(cli);
    }
  });

  it('asks for credentials (401 with the challenges), refuses users the rules deny (403), serves allowed users', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smolrtsp-api-auth-'));
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        auth: {
          methods: ['digest', 'basic'],
          users: [{ name: 'viewer', password: 'view-pw' }],
          rules: [
            { path: '*', action: 'api', users: ['admin'] },
            { path: '*', action: 'read', users: ['*'] },
          ],
        },
      }),
    );
    const { cli, base } = await startWithApi([
      '--config',
      config,
      '--user',
      'admin:admin-pw',
      '--pattern',
      '160x120@10',
    ]);
    const basic = (user: string, pw: string) => ({
      Authorization: `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`,
    });
    try {
      for (const [method, path] of [
        ['GET', '/api/v1/paths'],
        ['GET', '/api/v1/sessions'],
        ['DELETE', '/api/v1/sessions/x'],
        ['POST', '/api/v1/paths/y'],
        ['GET', '/api/v1/openapi.json'],
        ['POST', '/api/v1/config/reload'],
      ]) {
        const none = await call(base, method, path);
        assert.equal(none.status, 401, `${method} ${path} without credentials`);
        const challenge = none.headers.get('www-authenticate') ?? '';
        assert.match(challenge, /Digest realm="smolrtsp"/);
        assert.match(challenge, /Basic realm="smolrtsp"/);
      }
      const wrong = await call(base, 'GET', '/api/v1/paths', undefined, basic('admin', 'nope'));
      assert.equal(wrong.status, 401);
      const denied = await call(base, 'GET', '/api/v1/paths', undefined, basic('viewer', 'view-pw'));
      assert.equal(denied.status, 403);
      const denyPost = await call(
        base,
        'POST',
        '/api/v1/paths/y',
        { source: 'pattern' },
        basic('viewer', 'view-pw'),
      );
      assert.equal(denyPost.status, 403);
      const allowed = await call(base, 'GET', '/api/v1/paths', undefined, basic('admin', 'admin-pw'));
      assert.equal(allowed.status, 200);
      assert.equal(allowed.body.items[0].name, '/test');
    } finally {
      await stop(cli);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves an OpenAPI 3.1 document that describes exactly the routes it has', async (t) => {
    const { cli, base } = await startWithApi(['--pattern', '160x120@10']);
    try {
      const doc = (await call(base, 'GET', '/api/v1/openapi.json')).body;
      assert.equal(doc.openapi, '3.1.0');
      assert.equal(typeof doc.info.title, 'string');
      assert.equal(typeof doc.info.version, 'string');
      // Every registered route is in the document, and every operation of the document is a route.
      const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
        ([path, item]) =>
          Object.keys(item)
            .filter((k) => ['get', 'put', 'post', 'delete', 'patch'].includes(k))
            .map((m) => `${m.toUpperCase()} ${path}`),
      );
      const registered = API_ROUTES.map((r) => `${r.method} ${r.pattern.replace(/[:*](\w+)/g, '{$1}')}`);
      assert.deepEqual([...documented].sort(), [...registered].sort());
      // Every $ref resolves; every operation answers something documented, 401 included.
      const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
      for (const r of refs) {
        const name = r.slice(8, -1).replace('#/components/schemas/', '');
        assert.ok(doc.components.schemas[name], `${r} resolves`);
      }
      for (const [path, item] of Object.entries(
        doc.paths as Record<string, Record<string, { responses?: Record<string, unknown> }>>,
      )) {
        for (const [method, op] of Object.entries(item)) {
          if (method === 'parameters') continue;
          assert.ok(op.responses?.['401'], `${method} ${path} documents 401`);
          // And the server has it: a real request is neither "no such resource" nor 405.
          const concrete = path.replace('{name}', 'test').replace('{id}', 'nobody');
          const r = await call(base, method.toUpperCase(), concrete);
          assert.ok(
            r.status !== 405 && !/no such resource/.test(r.body?.error ?? ''),
            `${method} ${concrete}: ${r.status}`,
          );
          assert.ok(
            op.responses?.[String(r.status)],
            `${method} ${concrete} answered ${r.status}, which is documented`,
          );
        }
      }
      // A real OpenAPI validator: the document against the OpenAPI 3.1 JSON schemas.
      const validator = await importDevPackage<OpenApiSchemaValidator>(
        t,
        '@seriousme/openapi-schema-validator',
      );
      if (!validator) return;
      assert.ok(validator.Validator.supportedVersions.has('3.1'));
      const result = await new validator.Validator().validate(doc);
      assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
      // And it is a validator that says no: the same document without its `info` is refused.
      const { info: _info, ...noInfo } = doc;
      assert.equal((await new validator.Validator().validate(noInfo)).valid, false);
    } finally {
      await stop(cli);
    }
  });

  for (const transport of ['tcp', 'udp'] as const) {
    it(`a kicked ffmpeg client (${transport}) receives BYE and stops`, async (t) => {
      if (!requireTools(t, 'ffmpeg')) return;
      const { cli, base } = await startWithApi(['--pattern', '640x480@25']);
      const player = ffmpegPlayer(`rtsp://127.0.0.1:${cli.port}/test`, transport);
      try {
        // The session appears and moves; over UDP it carries the client's receiver reports (ffmpeg
        // sends none over TCP interleaved, so there loss and jitter stay null).
        const session = await until(
          'a playing session (with a receiver report over UDP)',
          async () => {
            const items = (await call(base, 'GET', '/api/v1/sessions')).body.items;
            const s = items[0];
            return s && s.state === 'playing' && s.packets > 0 && (transport === 'tcp' || s.jitterMs !== null)
              ? s
              : undefined;
          },
          30_000,
        );
        assert.equal(session.transport, transport);
        assert.equal(session.path, '/test');
        assert.equal(session.address, '127.0.0.1');
        assert.ok(session.packets > 0 && session.bytes > 0);
        assert.equal(typeof session.drops, 'number');
        if (transport === 'udp') {
          assert.ok(session.loss >= 0 && session.loss <= 1);
          assert.ok(session.packetsLost >= 0);
          assert.ok(session.jitterMs >= 0);
          assert.equal(session.tracks[0].jitterMs, session.jitterMs);
        }
        assert.ok(!Number.isNaN(Date.parse(session.startedAt)));
        const path = (await call(base, 'GET', '/api/v1/paths/test')).body;
        assert.equal(path.readers, 1);

        const kickedAt = Date.now();
        const kick = await fetch(`${base}/api/v1/sessions/${session.id}`, { method: 'DELETE' });
        assert.equal(kick.status, 204);
        // ffmpeg stops by itself, long before its -t 120.
        const code = await Promise.race([
          player.exited,
          new Promise((r) => setTimeout(() => r('still running'), 20_000)),
        ]);
        assert.notEqual(code, 'still running', 'ffmpeg kept playing after the kick');
        assert.ok(Date.now() - kickedAt < 20_000);
        assert.match(player.stderr(), /Received BYE for stream 0/);
        const ended = await cli.waitForLine((l) => l.msg === 'session ended' && l.session === session.id);
        assert.equal(ended.reason, 'kicked');
        assert.deepEqual((await call(base, 'GET', '/api/v1/sessions')).body.items, []);
        assert.equal(
          (await call(base, 'DELETE', `/api/v1/sessions/${session.id}`)).status,
          404,
          'a kicked session is gone',
        );
      } finally {
        player.child.kill('SIGKILL');
        await stop(cli);
      }
    });
  }
});
