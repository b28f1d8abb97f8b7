// What `smolrtsp serve` logs: one line per refusal (a failed login as the stable line fail2ban
// reads), nothing alarming on a clean Ctrl-C with clients playing, and SIGHUP without a config file noted, not fatal.
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { describe, it } from 'node:test';
import { parseRtcpCompound } from '../../src/rtp/rtcp.js';
import { type LogLine, type RunningCli, startCli } from '../helpers/cli.js';
import { digestAuthorization, RawRtspClient } from '../helpers/rtsp-client.js';

const WARN = 40;

function isBye(packet: Buffer): boolean {
  try {
    return parseRtcpCompound(packet).some((p) => p.type === 'bye');
  } catch {
    return false;
  }
}

function bindUdp(): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

async function stopped(cli: RunningCli, signal: NodeJS.Signals): Promise<number | null> {
  cli.child.kill(signal);
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000).unref());
  const code = await Promise.race([cli.exited, timeout]);
  assert.notEqual(code, 'timeout', `no exit after ${signal}`);
  return code as number | null;
}

describe('smolrtsp serve logging', () => {
  it('logs each refusal once; a failed login is one warn line with address and user', async () => {
    const cli = await startCli(['--user', 'alice:secret', '--max-connections-per-address', '2']);
    const clients: RawRtspClient[] = [];
    try {
      const url = `rtsp://127.0.0.1:${cli.port}/test`;
      const c = await RawRtspClient.connect(cli.port);
      clients.push(c);
      const challenge = await c.request('DESCRIBE', url);
      assert.equal(challenge.status, 401);
      const wrong = await c.request('DESCRIBE', url, {
        Authorization: digestAuthorization(challenge, 'DESCRIBE', url, 'alice', 'guess'),
      });
      assert.equal(wrong.status, 401);
      const nope = `rtsp://127.0.0.1:${cli.port}/nope`;
      const missing = await c.request('DESCRIBE', nope, {
        Authorization: digestAuthorization(wrong, 'DESCRIBE', nope, 'alice', 'secret'),
      });
      assert.equal(missing.status, 404);
      assert.equal((await c.request('REDIRECT', url)).status, 405);
      c.send(`OPTIONS ${url} RTSP/1.0\r\n\r\n`);
      assert.equal((await c.nextResponse()).status, 400);
      clients.push(await RawRtspClient.connect(cli.port));
      const third = await RawRtspClient.connect(cli.port);
      clients.push(third);
      await third.closed;
      await cli.waitForLine((l) => l.code === 'ERR_RTSP_TOO_MANY_CONNECTIONS');

      const lines = cli.logLines();
      const refusals = lines.filter((l) => l.code !== undefined);
      const one = (what: string, predicate: (l: LogLine) => boolean): LogLine => {
        const found = refusals.filter(predicate);
        assert.equal(found.length, 1, `${what}: ${JSON.stringify(found)}\n${cli.stdout}`);
        return found[0];
      };
      const failed = one('failed login', (l) => /authentication failed/.test(l.msg));
      assert.equal(failed.level, WARN);
      assert.equal(failed.msg, 'authentication failed from 127.0.0.1 for user "alice"');
      assert.equal(failed.user, 'alice');
      assert.equal(failed.status, 401);
      const notFound = one('404', (l) => l.status === 404);
      assert.equal(notFound.method, 'DESCRIBE');
      assert.equal(notFound.path, '/nope');
      assert.match(notFound.msg, /DESCRIBE \/nope from 127\.0\.0\.1: 404/);
      assert.equal(one('405', (l) => l.status === 405).method, 'REDIRECT');
      assert.match(one('400', (l) => l.status === 400).msg, /from 127\.0\.0\.1: 400/);
      const limit = one('limit', (l) => l.code === 'ERR_RTSP_TOO_MANY_CONNECTIONS');
      assert.equal(limit.level, WARN);
      assert.match(limit.msg, /refused connection from 127\.0\.0\.1: connection limit per address reached/);
      // The challenge itself is routine: debug, so not at the default level.
      assert.equal(refusals.length, 5, cli.stdout);
    } finally {
      for (const c of clients) c.close();
      cli.child.kill('SIGKILL');
    }
  });

  it('Ctrl-C with 10 clients playing (5 TCP, 5 UDP) exits 0 with no warn or error line', async () => {
    const cli = await startCli([]);
    const clients: RawRtspClient[] = [];
    const udpSockets: UdpSocket[] = [];
    try {
      const url = `rtsp://127.0.0.1:${cli.port}/test`;
      let media = 0;
      // Like ffmpeg: a client answers the server's RTCP BYE with a TEARDOWN, which then arrives
      // after the server has ended its side of the connection.
      const teardown = (c: RawRtspClient, session: string) =>
        c.send(`TEARDOWN ${url} RTSP/1.0\r\nCSeq: 9\r\nSession: ${session}\r\n\r\n`);
      const playTcp = async () => {
        const c = await RawRtspClient.connect(cli.port);
        clients.push(c);
        const s = await c.request('SETUP', `${url}/trackID=0`, {
          Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
        });
        const session = (s.headers.get('session') ?? '').split(';')[0];
        c.onFrame = (f) => {
          if (f.channel === 0) media++;
          if (f.channel === 1 && isBye(f.data)) teardown(c, session);
        };
        assert.equal((await c.request('PLAY', url, { Session: session })).status, 200);
      };
      const playUdp = async () => {
        const c = await RawRtspClient.connect(cli.port);
        clients.push(c);
        // Two ports in ascending order, as client_port wants them.
        const [rtp, rtcp] = [await bindUdp(), await bindUdp()].sort(
          (x, y) => x.address().port - y.address().port,
        );
        udpSockets.push(rtp, rtcp);
        rtp.on('message', () => media++);
        const s = await c.request('SETUP', `${url}/trackID=0`, {
          Transport: `RTP/AVP;unicast;client_port=${rtp.address().port}-${rtcp.address().port}`,
        });
        assert.equal(s.status, 200);
        const session = (s.headers.get('session') ?? '').split(';')[0];
        rtcp.on('message', (m) => {
          if (isBye(m)) teardown(c, session);
        });
        assert.equal((await c.request('PLAY', url, { Session: session })).status, 200);
      };
      // In parallel: each PLAY is answered at the next keyframe.
      await Promise.all([...Array(5)].flatMap(() => [playTcp(), playUdp()]));
      await cli.waitForLine(() => cli.logLines().filter((l) => l.msg === 'playing').length === 10);
      const deadline = Date.now() + 10_000;
      while (media < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(media >= 200, `media packets received: ${media}`);

      assert.equal(await stopped(cli, 'SIGINT'), 0);
      const lines = cli.logLines();
      assert.equal(lines.filter((l) => l.reason === 'shutdown').length, 10, cli.stdout);
      assert.ok(lines.some((l) => l.msg === 'stopped'));
      assert.deepEqual(
        lines.filter((l) => l.level >= WARN),
        [],
      );
      assert.doesNotMatch(cli.stdout + cli.stderr, /write after end/);
    } finally {
      for (const c of clients) c.close();
      for (const s of udpSockets) s.close();
      cli.child.kill('SIGKILL');
    }
  });

  it('SIGHUP without --config reloads nothing and says so: the server keeps serving, then SIGTERM exits 0', async () => {
    const cli = await startCli([]);
    try {
      cli.child.kill('SIGHUP');
      const line = await cli.waitForLine((l) => l.signal === 'SIGHUP');
      assert.equal(line.msg, 'reloading the config');
      assert.equal(line.level, 30);
      const warning = await cli.waitForLine((l) => /^reload:/.test(l.msg));
      assert.equal(warning.msg, 'reload: no config file to reload (start with --config FILE)');
      assert.equal(warning.level, 40);
      const c = await RawRtspClient.connect(cli.port);
      assert.equal((await c.request('DESCRIBE', `rtsp://127.0.0.1:${cli.port}/test`)).status, 200);
      c.close();
      assert.equal(await stopped(cli, 'SIGTERM'), 0);
    } finally {
      cli.child.kill('SIGKILL');
    }
  });
});
