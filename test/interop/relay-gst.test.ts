// Relays of an upstream that is not ours: GStreamer's gst-rtsp-server (test/helpers/gst-rtsp-server.py)
// serving a 320x240 25 fps H.264 clip as shared media, its sessions expiring soon without a
// keepalive. 20 real players on the relay (ffmpeg over TCP and UDP, GStreamer rtspsrc) decode without
// errors while GStreamer holds exactly one session; GStreamer killed and restarted on the same port is
// a gap in the players' timestamps, not an end; on demand, GStreamer holds no session before the first
// player nor after the linger.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createServer, type RtspServer } from '../../src/server/rtsp-server.js';
import { RelaySource } from '../../src/sources/relay.js';
import { type DecodeResult, ffmpegDecode, gstDecode } from '../helpers/clients.js';
import { type GstRtspServer, startGstRtspServer } from '../helpers/gst-rtsp-server.js';
import { requireGstElements, requireGstRtspServer, requireTools, run } from '../helpers/tools.js';

/**
 * The upstream's session timeout. gst-rtsp-server (1.22) drops a UDP session that nothing keeps alive
 * (no request, no RTCP) about 5 s after it; a TCP interleaved one it keeps while the connection
 * lasts, which is why the relay pulls over UDP here: so that its keepalives are what hold it.
 */
const UPSTREAM_SESSION_TIMEOUT_S = 1;
const UPSTREAM_EXPIRY_S = UPSTREAM_SESSION_TIMEOUT_S + 5;
/** How long (media time, which runs on through the gap) each player plays. */
const PLAY_SECONDS = 16;

let tempDir: string | undefined;
let clipFile: Promise<string> | undefined;

/** 30 s of testsrc2, 320x240 at 25 fps, H.264 with a keyframe each second, in Matroska (GStreamer paces it). */
function clip(): Promise<string> {
  clipFile ??= (async () => {
    tempDir ??= mkdtempSync(join(tmpdir(), 'smolrtsp-relay-gst-'));
    const file = join(tempDir, 'clip.mkv');
    const args = [
      ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=30'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-pix_fmt', 'yuv420p', file],
    ];
    const result = await run('ffmpeg', args, 30_000);
    assert.equal(result.code, 0, `ffmpeg: ${result.stderr}`);
    return file;
  })();
  return clipFile;
}

const upstreamArgs = (port?: number) => [
  '--shared',
  ...['--session-timeout', String(UPSTREAM_SESSION_TIMEOUT_S)],
  ...(port === undefined ? [] : ['--port', String(port)]),
];

async function startRelay(
  upstreamPort: number,
  options: { onDemand?: boolean; lingerMs?: number; transport?: 'tcp' | 'udp' } = {},
): Promise<{ server: RtspServer; relay: RelaySource; url: string; restarts: string[] }> {
  const server = await createServer({ host: '127.0.0.1', port: 0, rtpPortRange: [49000, 50999] });
  const relay = new RelaySource({
    url: `rtsp://127.0.0.1:${upstreamPort}/test`,
    retry: { initialDelayMs: 200, maxDelayMs: 1000 },
    ...options,
  });
  const restarts: string[] = [];
  relay.on('restart', (_attempt, _delay, reason) => restarts.push(reason));
  relay.on('error', (err) => restarts.push(`error: ${err.message}`));
  const stream = server.addStream('/cam', { tracks: [...(await relay.open())] });
  relay.start(stream);
  return { server, relay, url: `rtsp://127.0.0.1:${server.port}/cam`, restarts };
}

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The longest step between two consecutive frames' timestamps, and how many frames follow it. */
function largestGap(pts: number[]): { seconds: number; framesAfter: number } {
  let seconds = 0;
  let at = pts.length;
  for (let i = 1; i < pts.length; i++) {
    if (pts[i] - pts[i - 1] > seconds) {
      seconds = pts[i] - pts[i - 1];
      at = i;
    }
  }
  return { seconds, framesAfter: pts.length - at };
}

describe('relay of a GStreamer rtsp-server upstream', { timeout: 90_000 }, () => {
  const cleanup: Array<() => Promise<unknown> | unknown> = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  });

  it('20 decoding players, one upstream session; the upstream killed and restarted is a gap, not an end', async (t) => {
    if (
      !requireGstRtspServer(t) ||
      !requireTools(t, 'ffmpeg', 'gst-launch-1.0') ||
      !requireGstElements(t, 'rtspsrc', 'decodebin', 'avdec_h264')
    )
      return;
    const file = await clip();
    let upstream: GstRtspServer = await startGstRtspServer(file, upstreamArgs());
    cleanup.push(() => upstream.stop());
    const port = upstream.port;
    const relay = await startRelay(port, { transport: 'udp' });
    cleanup.push(
      () => relay.relay.stop(),
      () => relay.server.close(),
    );
    await until('the relay to play', () => relay.server.getStream('/cam')?.unavailableReason === undefined);
    const relayPlayingAt = Date.now();

    // 20 players: ffmpeg over TCP and UDP, and two GStreamer rtspsrc. rtspsrc's UDP timeout (5 s by
    // default, then it retries over TCP with a warning) is raised past the gap this test makes.
    const players: Array<{ name: string; done: boolean; result: Promise<DecodeResult> }> = [];
    const gstOptions = { rtspsrc: ['timeout=20000000'] };
    for (let i = 0; i < 20; i++) {
      const transport = i % 2 === 0 ? 'tcp' : 'udp';
      const gst = i >= 18;
      const result = gst
        ? gstDecode(relay.url, transport, PLAY_SECONDS, gstOptions)
        : ffmpegDecode(relay.url, transport, PLAY_SECONDS);
      const player = { name: `${gst ? 'gst' : 'ffmpeg'} ${transport} #${i}`, done: false, result };
      void result.finally(() => {
        player.done = true;
      });
      players.push(player);
    }
    await until('20 player sessions', () => relay.server.sessions().length === 20, 20_000);
    assert.equal(await upstream.sessions(), 1, 'one upstream session for 20 players');

    // Past the time the upstream drops a session not kept alive: the relay's keepalives hold its own.
    await sleep(Math.max(0, relayPlayingAt + (UPSTREAM_EXPIRY_S + 2) * 1000 - Date.now()));
    assert.equal(await upstream.sessions(), 1, 'the upstream session is kept alive');
    assert.deepEqual(relay.restarts, [], 'no upstream failure before the kill');
    assert.equal(relay.server.sessions().length, 20);

    // GStreamer dies (no TEARDOWN, no BYE) and comes back on the same port 1.5 s later.
    await upstream.kill();
    await until('the relay to notice', () => relay.server.getStream('/cam')?.unavailableReason !== undefined);
    await sleep(1500);
    assert.equal(
      relay.server.sessions().length,
      20,
      'players keep their sessions while the upstream is down',
    );
    assert.deepEqual(
      players.filter((p) => p.done).map((p) => p.name),
      [],
      'no player ended while the upstream was down',
    );
    upstream = await startGstRtspServer(file, upstreamArgs(port));
    await until(
      'the relay to play again',
      () => relay.server.getStream('/cam')?.unavailableReason === undefined,
    );
    assert.equal(await upstream.sessions(), 1, 'one upstream session after the restart');
    assert.equal(relay.server.sessions().length, 20, 'the same 20 player sessions');
    assert.ok(
      relay.restarts.some((r) => /ECONNREFUSED|closed/i.test(r)),
      `reasons: ${relay.restarts.join(' | ')}`,
    );

    const summary: string[] = [];
    for (const player of players) {
      const r = await player.result;
      const gap = largestGap(r.pts);
      summary.push(
        `${player.name}: ${r.frames} frames, gap ${gap.seconds.toFixed(2)} s, ${gap.framesAfter} after`,
      );
      assert.equal(r.errors, '', `${player.name}: ${r.errors}`);
      assert.equal(r.pts.length, r.frames, `${player.name}: a timestamp per frame`);
      // The 1.5 s the upstream was down, as a step in the timestamps, with decoded frames on both sides.
      assert.ok(gap.seconds >= 1, `${player.name}: largest step ${gap.seconds} s`);
      assert.ok(
        r.frames - gap.framesAfter >= 25,
        `${player.name}: ${r.frames - gap.framesAfter} frames before`,
      );
      assert.ok(gap.framesAfter >= 25, `${player.name}: ${gap.framesAfter} frames after the gap`);
    }
    t.diagnostic(summary.join('\n'));
    t.diagnostic(`relay restarts: ${relay.restarts.join(' | ')}`);
  });

  it('on demand: no upstream session before the first player, none after the linger', async (t) => {
    if (!requireGstRtspServer(t) || !requireTools(t, 'ffmpeg')) return;
    const upstream = await startGstRtspServer(await clip(), upstreamArgs());
    cleanup.push(() => upstream.stop());
    const relay = await startRelay(upstream.port, { onDemand: true, lingerMs: 500 });
    cleanup.push(
      () => relay.relay.stop(),
      () => relay.server.close(),
    );
    await sleep(500);
    assert.equal(await upstream.sessions(), 0, 'no upstream session before a player');
    assert.equal(relay.relay.upstreamActive, false);

    const player = ffmpegDecode(relay.url, 'tcp', 3);
    let finished = false;
    void player.finally(() => {
      finished = true;
    });
    await until('the upstream session while the player plays', async () => {
      assert.equal(finished, false, 'the player ended before the upstream had a session');
      return (await upstream.sessions()) === 1;
    });
    const r = await player;
    assert.equal(r.errors, '', r.errors);
    assert.ok(r.frames >= 50, `ffmpeg decoded ${r.frames} frames`);

    await until(
      'the upstream session to end after the linger',
      async () => (await upstream.sessions()) === 0,
    );
    assert.equal(relay.relay.upstreamActive, false);
    assert.deepEqual(relay.restarts, []);
  });
});
