// `smolrtsp serve --http-port N`: GET /metrics, read by the Prometheus client's own text parser while
// ffmpeg plays over TCP and UDP: the session gauges follow the players, the traffic counters grow
// between scrapes and keep their value once the players have left, failed logins are counted.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, type RunningCli, startCli } from '../helpers/cli.js';
import {
  type PromSample,
  parsePrometheusText,
  requirePrometheusParser,
  requireTools,
  run,
} from '../helpers/tools.js';

interface Scrape {
  samples: PromSample[];
  /** The value of the sample `name` whose labels include `labels`; undefined when there is none. */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

async function scrape(base: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const res = await fetch(`${base}/metrics`, { headers });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const samples = await parsePrometheusText(await res.text());
  return {
    samples,
    value(name, labels = {}) {
      const s = samples.find(
        (x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v),
      );
      return s === undefined ? undefined : Number(s.value);
    },
  };
}

/** Scrapes until `done` holds (bounded: 10 s), returning that scrape. */
async function scrapeUntil(base: string, done: (s: Scrape) => boolean, what: string): Promise<Scrape> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const s = await scrape(base);
    if (done(s)) return s;
    assert.ok(Date.now() < deadline, `${what} not seen within 10 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const stop = async (cli: RunningCli) => {
  cli.child.kill('SIGTERM');
  assert.equal(await cli.exited, 0);
};

describe('serve --http-port: GET /metrics', () => {
  it('counts sessions and traffic per path and transport while ffmpeg plays over TCP and UDP', async (t) => {
    if (!requireTools(t, 'ffmpeg') || !requirePrometheusParser(t)) return;
    const httpPort = await freePort();
    const cli = await startCli(['--pattern', '160x120@25', '--http-port', String(httpPort)]);
    const base = `http://127.0.0.1:${httpPort}`;
    const tcp = { path: '/test', transport: 'tcp' };
    const udp = { path: '/test', transport: 'udp' };
    try {
      const idle = await scrape(base);
      assert.equal(idle.value('smolrtsp_sessions', tcp), 0, 'a served path is listed before anyone plays');
      assert.equal(idle.value('smolrtsp_sent_bytes_total', tcp), 0);
      assert.ok(idle.value('nodejs_eventloop_lag_seconds') !== undefined, 'event-loop lag is exported');

      const url = `rtsp://127.0.0.1:${cli.port}/test`;
      const players = ['tcp', 'udp'].map((transport) =>
        run(
          'ffmpeg',
          ['-loglevel', 'error', '-rtsp_transport', transport, '-i', url, '-t', '4', '-f', 'null', '-'],
          30_000,
        ),
      );
      const playing = (s: Scrape) =>
        s.value('smolrtsp_readers', tcp) === 1 &&
        s.value('smolrtsp_readers', udp) === 1 &&
        (s.value('smolrtsp_sent_bytes_total', tcp) ?? 0) > 0 &&
        (s.value('smolrtsp_sent_bytes_total', udp) ?? 0) > 0;
      const first = await scrapeUntil(base, playing, 'one reader per transport with bytes sent');
      assert.equal(first.value('smolrtsp_sessions', tcp), 1);
      assert.equal(first.value('smolrtsp_sessions', udp), 1);
      await new Promise((r) => setTimeout(r, 1000));
      const second = await scrape(base);
      assert.ok(playing(second), 'both players are still there a second later');
      for (const labels of [tcp, udp]) {
        for (const name of ['smolrtsp_sent_bytes_total', 'smolrtsp_sent_packets_total']) {
          const a = first.value(name, labels) ?? 0;
          const b = second.value(name, labels) ?? 0;
          assert.ok(b > a, `${name}${JSON.stringify(labels)} grew between scrapes (${a} → ${b})`);
        }
      }

      for (const r of await Promise.all(players)) assert.equal(r.code, 0, r.stderr);
      const after = await scrapeUntil(
        base,
        (s) => s.value('smolrtsp_sessions', tcp) === 0 && s.value('smolrtsp_sessions', udp) === 0,
        'no session left after the players ended',
      );
      for (const labels of [tcp, udp]) {
        const b = second.value('smolrtsp_sent_bytes_total', labels) ?? 0;
        const c = after.value('smolrtsp_sent_bytes_total', labels) ?? 0;
        assert.ok(c >= b, `the bytes counter keeps the ended sessions' bytes (${b} → ${c})`);
      }
      const ended = after.samples
        .filter((s) => s.name === 'smolrtsp_sessions_ended_total' && s.labels.path === '/test')
        .reduce((sum, s) => sum + Number(s.value), 0);
      assert.equal(ended, 2, 'both sessions counted as ended');
    } finally {
      await stop(cli);
    }
  });

  it('needs credentials when users exist (Basic for Prometheus), counts failed RTSP and HTTP logins, and the banner names both methods', async (t) => {
    if (!requireTools(t, 'ffmpeg') || !requirePrometheusParser(t)) return;
    const dir = mkdtempSync(join(tmpdir(), 'smolrtsp-cli-metrics-'));
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        auth: { methods: ['digest', 'basic'], users: [{ name: 'prom', password: 'scrape-me' }] },
      }),
    );
    const httpPort = await freePort();
    const cli = await startCli([
      '--config',
      config,
      '--user',
      'viewer:s3cret',
      '--pattern',
      '160x120@10',
      '--http-port',
      String(httpPort),
    ]);
    const base = `http://127.0.0.1:${httpPort}`;
    const basic = { Authorization: `Basic ${Buffer.from('prom:scrape-me').toString('base64')}` };
    try {
      const anonymous = await fetch(`${base}/metrics`);
      assert.equal(anonymous.status, 401);
      assert.match(anonymous.headers.get('www-authenticate') ?? '', /Basic/);

      const before = await scrape(base, basic);
      assert.equal(before.value('smolrtsp_auth_failures_total'), 0);

      const wrong = await run(
        'ffmpeg',
        [
          '-loglevel',
          'error',
          '-rtsp_transport',
          'tcp',
          '-i',
          `rtsp://viewer:wrong@127.0.0.1:${cli.port}/test`,
        ],
        20_000,
      );
      assert.notEqual(wrong.code, 0, 'ffmpeg is refused');
      const afterFailure = await scrape(base, basic);
      assert.ok(
        (afterFailure.value('smolrtsp_auth_failures_total') ?? 0) >= 1,
        'the failed login is counted',
      );
      assert.ok((afterFailure.value('smolrtsp_refused_requests_total', { status: '401' }) ?? 0) >= 1);

      // A failed login over HTTP counts too.
      const failures = afterFailure.value('smolrtsp_auth_failures_total') ?? 0;
      const wrongBasic = { Authorization: `Basic ${Buffer.from('prom:wrong').toString('base64')}` };
      assert.equal((await fetch(`${base}/metrics`, { headers: wrongBasic })).status, 401);
      const afterHttpFailure = await scrape(base, basic);
      assert.equal(afterHttpFailure.value('smolrtsp_auth_failures_total'), failures + 1);

      // The banner names the methods in force.
      assert.match(cli.stdout, /users: +prom, viewer \(Digest, Basic\)\n/);
    } finally {
      await stop(cli);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
