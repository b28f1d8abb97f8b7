// Digest authentication against real clients: ffprobe/ffmpeg (credentials in the URL) and GStreamer
// rtspsrc (user-id / user-pw), over TCP and UDP, with right and wrong passwords and expiring nonces.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type AuthOptions, createAuthenticator } from '../../src/server/auth.js';
import type { AuthorizeResult, RequestInfo } from '../../src/server/dispatcher.js';
import { ffmpegDecode, gstDecode } from '../helpers/clients.js';
import { startTestServer } from '../helpers/server.js';
import { requireTools, run } from '../helpers/tools.js';

const TRANSPORTS = ['udp', 'tcp'] as const;
const USER = 'viewer';
// A colon and an at sign: ffmpeg takes them percent-encoded in the URL, GStreamer as they are.
const PASSWORD = 'S3cret:pa@ss';
const URL_PASSWORD = encodeURIComponent(PASSWORD);

interface Seen {
  agent: string;
  method: string;
  authorization: string | undefined;
  status: number;
  stale: boolean;
}

/** A server whose authorize hook is `auth` (optionally post-processed), recording what it answered. */
async function authServer(options: Partial<AuthOptions>, rewrite?: (r: AuthorizeResult) => AuthorizeResult) {
  const auth = createAuthenticator({
    users: [{ name: USER, password: PASSWORD }],
    maxFailures: 1000,
    ...options,
  });
  const seen: Seen[] = [];
  const ts = await startTestServer({
    sessionTimeoutSec: options.nonceTtlSec === 1 ? 6 : 60,
    hooks: {
      async authorize(req: RequestInfo) {
        let result: AuthorizeResult;
        try {
          result = await auth.authorize(req);
        } catch (err) {
          const status = (err as { status?: number }).status ?? 500;
          const agent = req.headers.get('user-agent') ?? '';
          seen.push({ agent, method: req.method, authorization: undefined, status, stale: false });
          throw err;
        }
        if (rewrite) result = rewrite(result);
        const challenge = typeof result === 'object' ? JSON.stringify(result.headers ?? []) : '';
        seen.push({
          agent: req.headers.get('user-agent') ?? '',
          method: req.method,
          authorization: req.headers.get('authorization'),
          status: result === true ? 200 : result === false ? 403 : result.status,
          stale: challenge.includes('stale=true'),
        });
        return result;
      },
    },
  });
  const ended: string[] = [];
  ts.server.on('sessionEnd', (_s, reason) => ended.push(reason));
  const withCredentials = (password: string) => ts.url.replace('rtsp://', `rtsp://${USER}:${password}@`);
  return { ts, seen, auth, withCredentials, ended };
}

function ffprobe(url: string, transport: string) {
  return run(
    'ffprobe',
    [
      '-v',
      'error',
      '-rtsp_transport',
      transport,
      '-show_entries',
      'stream=codec_name,width,height',
      '-of',
      'csv=p=0',
      url,
    ],
    20_000,
  );
}

const fromFfmpeg = (s: Seen) => s.agent.startsWith('Lavf');
const fromGst = (s: Seen) => s.agent.startsWith('GStreamer');

describe('Digest authentication with real clients', { concurrency: 1 }, () => {
  let server: Awaited<ReturnType<typeof authServer>>;
  before(async () => {
    server = await authServer({});
  });
  after(async () => {
    await server.ts.close();
  });

  for (const transport of TRANSPORTS) {
    it(`ffprobe with the right password reads the stream over ${transport}`, async (t) => {
      if (!requireTools(t, 'ffprobe')) return;
      server.seen.length = 0;
      const r = await ffprobe(server.withCredentials(URL_PASSWORD), transport);
      assert.equal(r.stderr.trim(), '');
      assert.equal(r.stdout.toString().trim(), 'h264,640,480');
      // ffmpeg answered the last challenge, which is MD5, with qop=auth.
      const answers = server.seen.filter((s) => fromFfmpeg(s) && s.authorization);
      assert.ok(answers.length >= 1);
      for (const a of answers) {
        assert.match(a.authorization!, /^Digest /);
        assert.match(a.authorization!, /algorithm="?MD5"?/);
        assert.match(a.authorization!, /qop="?auth"?/);
        assert.equal(a.status, 200);
      }
    });
  }

  it('ffmpeg decodes 3 s over UDP and over TCP', async (t) => {
    if (!requireTools(t, 'ffmpeg')) return;
    const url = server.withCredentials(URL_PASSWORD);
    const results = await Promise.all(TRANSPORTS.map((tr) => ffmpegDecode(url, tr, 3)));
    for (const [i, r] of results.entries()) {
      assert.equal(r.errors, '', TRANSPORTS[i]);
      assert.equal(r.code, 0, TRANSPORTS[i]);
      assert.ok(r.frames >= 73, `${TRANSPORTS[i]}: ${r.frames} frames`);
    }
  });

  it('GStreamer rtspsrc user-id/user-pw decodes over UDP and over TCP', async (t) => {
    if (!requireTools(t, 'gst-launch-1.0', 'timeout')) return;
    server.seen.length = 0;
    const results = await Promise.all(
      TRANSPORTS.map((tr) =>
        gstDecode(server.ts.url, tr, 4, { rtspsrc: [`user-id=${USER}`, `user-pw=${PASSWORD}`] }),
      ),
    );
    for (const [i, r] of results.entries()) {
      assert.equal(r.errors, '', TRANSPORTS[i]);
      assert.ok(r.frames >= 50, `${TRANSPORTS[i]}: ${r.frames} frames`);
    }
    // GStreamer 1.22 answers RFC 2069 style: MD5, no qop, whichever challenge it read.
    const answers = server.seen.filter((s) => fromGst(s) && s.authorization);
    assert.ok(answers.length >= 6, `${answers.length} answers`);
    for (const a of answers) {
      assert.doesNotMatch(a.authorization!, /qop=/);
      assert.equal(a.status, 200, a.method);
    }
  });

  it('a wrong password or none: ffprobe fails with 401', async (t) => {
    if (!requireTools(t, 'ffprobe')) return;
    for (const transport of TRANSPORTS) {
      for (const url of [server.withCredentials('wrong'), server.ts.url]) {
        const r = await ffprobe(url, transport);
        assert.notEqual(r.code, 0, url);
        assert.match(r.stderr, /401 Unauthorized/, url);
        assert.equal(r.stdout.toString().trim(), '');
      }
    }
    assert.ok(server.auth.failuresOf('127.0.0.1') >= 2);
    server.auth.clearFailures();
  });

  it('a wrong password: GStreamer stops with an Unauthorized error', async (t) => {
    if (!requireTools(t, 'gst-launch-1.0', 'timeout')) return;
    server.seen.length = 0;
    const r = await gstDecode(server.ts.url, 'tcp', 10, {
      rtspsrc: [`user-id=${USER}`, `user-pw=${'wrong'}`],
    });
    assert.match(r.errors, /Unauthorized/);
    assert.equal(r.frames, 0);
    assert.notEqual(r.code, 0);
    // It retries the same credentials a few times before giving up: each one is a counted failure.
    const tries = server.seen.filter((s) => fromGst(s) && s.authorization).length;
    assert.ok(tries >= 1 && server.auth.failuresOf('127.0.0.1') === tries, `${tries} tries`);
    server.auth.clearFailures();
  });
});

describe('why MD5 is offered last as well as first', { concurrency: 1 }, () => {
  // The same authenticator, with the trailing MD5 challenge cut off: MD5 first, SHA-256 last.
  let server: Awaited<ReturnType<typeof authServer>>;
  before(async () => {
    server = await authServer({}, (r) =>
      typeof r === 'object' && r.headers?.length === 3 ? { ...r, headers: r.headers.slice(0, 2) } : r,
    );
  });
  after(async () => {
    await server.ts.close();
  });

  it('ffprobe, which answers the last Digest challenge and knows only MD5, then cannot log in', async (t) => {
    if (!requireTools(t, 'ffprobe')) return;
    server.seen.length = 0;
    const r = await ffprobe(server.withCredentials(URL_PASSWORD), 'tcp');
    assert.match(r.stderr, /401 Unauthorized/);
    // It did not even try: no Authorization for a SHA-256 challenge.
    assert.deepEqual(
      server.seen.filter(fromFfmpeg).map((s) => [s.method, s.authorization === undefined]),
      [
        ['OPTIONS', true],
        ['DESCRIBE', true],
        ['DESCRIBE', true],
      ],
    );
  });

  it('GStreamer still logs in: it computes MD5 with the SHA-256 challenge nonce, which is accepted', async (t) => {
    if (!requireTools(t, 'gst-launch-1.0', 'timeout')) return;
    const r = await gstDecode(server.ts.url, 'tcp', 3, {
      rtspsrc: [`user-id=${USER}`, `user-pw=${PASSWORD}`],
    });
    assert.equal(r.errors, '');
    assert.ok(r.frames >= 25, `${r.frames} frames`);
  });
});

describe('nonces expiring in the middle of a session', { concurrency: 1 }, () => {
  let server: Awaited<ReturnType<typeof authServer>>;
  before(async () => {
    // 1 s nonces and a 6 s session timeout: clients send keepalives every few seconds with a stale nonce.
    server = await authServer({ nonceTtlSec: 1 });
  });
  after(async () => {
    await server.ts.close();
  });

  it('ffmpeg and GStreamer take stale=true, retry with the new nonce and play on over UDP', async (t) => {
    if (!requireTools(t, 'ffmpeg', 'gst-launch-1.0', 'timeout')) return;
    const [ff, gst] = await Promise.all([
      ffmpegDecode(server.withCredentials(URL_PASSWORD), 'udp', 10),
      gstDecode(server.ts.url, 'udp', 11, { rtspsrc: [`user-id=${USER}`, `user-pw=${PASSWORD}`] }),
    ]);
    const trace = (from: (s: Seen) => boolean) =>
      server.seen
        .filter(from)
        .map((s) => `${s.method} ${s.status}${s.stale ? ' stale' : ''}`)
        .join(', ')
        .concat(`; sessions ended: ${server.ended.join(', ')}`);
    assert.equal(ff.errors, '', `server answered ffmpeg: ${trace(fromFfmpeg)}`);
    assert.ok(ff.frames >= 248, `ffmpeg: ${ff.frames} frames`);
    assert.equal(gst.errors, '', `server answered GStreamer: ${trace(fromGst)}`);
    assert.ok(gst.frames >= 200, `GStreamer: ${gst.frames} frames`);
    for (const [name, from] of [
      ['ffmpeg', fromFfmpeg],
      ['GStreamer', fromGst],
    ] as const) {
      const keepalives = server.seen.filter((s) => from(s) && s.method === 'GET_PARAMETER');
      const staleAt = keepalives.findIndex((s) => s.stale);
      assert.ok(
        staleAt >= 0,
        `${name}: no stale answer in ${JSON.stringify(keepalives.map((s) => s.status))}`,
      );
      assert.ok(
        keepalives.slice(staleAt + 1).some((s) => s.status === 200),
        `${name}: no keepalive accepted after the stale one`,
      );
      assert.ok(
        server.seen.filter(from).every((s) => s.status !== 401 || s.stale || s.authorization === undefined),
        `${name}: a 401 that was neither a first challenge nor stale`,
      );
    }
    assert.equal(server.auth.failuresOf('127.0.0.1'), 0);
  });
});
