// The ffmpeg source with a camera stand-in (ffmpeg's own test source in place of /dev/video0):
// served, played by ffmpeg, and surviving its ffmpeg being killed.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Stream } from '../../src/media/stream.js';
import { createServer, type RtspServer } from '../../src/server/rtsp-server.js';
import { describePlan, FfmpegSource, ffmpegCommand, splitArgs } from '../../src/sources/ffmpeg.js';
import { ffprobeStreams } from '../helpers/clients.js';
import { SAMPLE_FILE } from '../helpers/server.js';
import { hasTool, requireTools, run } from '../helpers/tools.js';

const CAMERA =
  '-re -f lavfi -i testsrc2=size=320x240:rate=25 -re -f lavfi -i sine=f=440:r=48000 ' +
  '-c:v libx264 -preset ultrafast -tune zerolatency -g 25 -bf 0 -c:a aac';

describe('splitArgs and the ffmpeg command', () => {
  it('splits like a shell and copies codecs unless told otherwise', () => {
    assert.deepEqual(splitArgs(`-f v4l2 -i "/dev/video 0" -vf 'scale=640:-2' a\\ b`), [
      '-f',
      'v4l2',
      '-i',
      '/dev/video 0',
      '-vf',
      'scale=640:-2',
      'a b',
    ]);
    assert.throws(() => splitArgs('-i "open'), /unterminated/);
    const copy = ffmpegCommand(['-re', '-i', 'x.mp4']);
    assert.deepEqual(copy.slice(copy.indexOf('x.mp4') + 1, copy.indexOf('x.mp4') + 3), ['-c', 'copy']);
    assert.ok(!ffmpegCommand(['-i', 'x', '-c:v', 'libx264']).includes('copy'));
    assert.deepEqual(copy.slice(-3), ['-flush_packets', '1', 'pipe:1']);
  });
});

describe('FfmpegSource', { concurrency: 1 }, () => {
  let server: RtspServer;
  let source: FfmpegSource;
  let url = '';
  const restarts: number[] = [];

  before(async () => {
    if (!hasTool('ffmpeg')) return;
    server = await createServer({ host: '127.0.0.1', port: 0, rtpPortRange: [51000, 51999] });
    source = new FfmpegSource({ args: CAMERA, restartDelayMs: 300 });
    source.on('restart', (attempt) => restarts.push(attempt));
    const codecs = await source.open();
    const stream = server.addStream('/cam', { tracks: codecs });
    source.start(stream);
    url = `rtsp://127.0.0.1:${server.port}/cam`;
  });
  after(async () => {
    source?.stop();
    await server?.close();
  });

  it('serves the camera stand-in: ffprobe sees h264 320x240 and aac', async (t) => {
    if (!requireTools(t, 'ffmpeg', 'ffprobe')) return;
    const r = await ffprobeStreams(url);
    assert.equal(r.lines.join('\n'), 'h264,320,240\naac', r.stderr);
  });

  it('survives ffmpeg being killed: the client sees a gap, not an end', async (t) => {
    if (!requireTools(t, 'ffmpeg')) return;
    const player = run(
      'ffmpeg',
      [
        '-nostdin',
        '-v',
        'error',
        '-rtsp_transport',
        'tcp',
        '-i',
        url,
        '-t',
        '8',
        '-map',
        '0:v',
        '-f',
        'framecrc',
        '-',
      ],
      30_000,
    );
    await new Promise((r) => setTimeout(r, 2500));
    const pid = source.pid;
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    const r = await player;
    const times = r.stdout
      .toString()
      .split('\n')
      .filter((l) => /^0,/.test(l))
      .map((l) => Number(l.split(',')[2]));
    assert.ok(restarts.length >= 1, 'ffmpeg was restarted');
    assert.notEqual(source.pid, pid);
    // Frames before and after the kill, and the player ran to its 8 s.
    assert.ok(times.length >= 150, `${times.length} frames`);
    // framecrc times are in frames (1/25 s): the player ran its whole 8 s, with one short gap.
    const last = times[times.length - 1];
    const gap = Math.max(...times.slice(1).map((x, i) => x - times[i]));
    t.diagnostic(`${times.length} frames over ${last + 1} frame times; longest gap ${gap} frames`);
    assert.ok(last >= 190, `played to frame time ${last}`);
    assert.ok(gap >= 3 && gap < 75, `gap of ${gap} frames`);
    assert.equal(r.code, 0, r.stderr);
  });
});

/**
 * An ffmpeg stand-in that runs the real one, but from its second media run on maps its inputs the other
 * way: the `-map` values 0:v and 1:a are replaced as `remap` says (a camera that comes back with its
 * streams in another order, or without its audio).
 */
function remappingFfmpeg(dir: string, remap: { '0:v': string; '1:a': string }): string {
  const file = join(dir, 'ffmpeg');
  writeFileSync(
    file,
    [
      '#!/bin/sh',
      'dir=$(dirname "$0")',
      // Probe runs (to a null output) are not counted: only runs that send media.
      'case "$*" in *pipe:1*) n=$(( $(cat "$dir/runs" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$dir/runs";; *) n=$(cat "$dir/runs" 2>/dev/null || echo 0);; esac',
      'if [ "$n" -ge 2 ]; then',
      `  for a; do shift; case "$a" in 0:v) set -- "$@" ${remap['0:v']};; 1:a) set -- "$@" ${remap['1:a']};; *) set -- "$@" "$a";; esac; done`,
      'fi',
      'exec ffmpeg "$@"',
      '',
    ].join('\n'),
  );
  chmodSync(file, 0o755);
  return file;
}

describe('FfmpegSource restarted with another track layout', { concurrency: 1 }, () => {
  const ARGS =
    '-re -f lavfi -i testsrc2=size=160x120:rate=25 -re -f lavfi -i sine=f=440:r=48000 -map 0:v -map 1:a ' +
    '-t 1.5 -c:v libx264 -preset ultrafast -tune zerolatency -g 25 -bf 0 -c:a aac';

  /** Serves ARGS through the stand-in; counts each track's access units in its second run. */
  async function secondRun(remap: { '0:v': string; '1:a': string }, enough: (grown: number[]) => boolean) {
    const dir = mkdtempSync(join(tmpdir(), 'smolrtsp-ffmpeg-'));
    const source = new FfmpegSource({
      args: ARGS,
      ffmpegPath: remappingFfmpeg(dir, remap),
      restartDelayMs: 200,
    });
    const errors: string[] = [];
    source.on('error', (err) => errors.push(err.message));
    try {
      const codecs = await source.open();
      const stream = new Stream('/cam', { tracks: codecs });
      source.start(stream);
      await new Promise((r) => source.once('restart', r));
      const before = stream.tracks.map((t) => t.stats.accessUnits);
      // The second run: spawn after 200 ms, probe, then media. How long the probe takes depends on the
      // machine's load, so wait for what the test needs (bounded), not a fixed time.
      const grownNow = () => stream.tracks.map((t, i) => t.stats.accessUnits - before[i]);
      const deadline = Date.now() + 10_000;
      while (!enough(grownNow()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      // A little more, so a track that should stay silent had its chance to speak.
      await new Promise((r) => setTimeout(r, 300));
      const grown = grownNow();
      return { names: source.tracks.map((t) => `${t.name} ${t.kind}`), grown, errors };
    } finally {
      source.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('pairs the tracks by codec when ffmpeg comes back with them in another order', async (t) => {
    if (!requireTools(t, 'ffmpeg')) return;
    const r = await secondRun({ '0:v': '1:a', '1:a': '0:v' }, ([v, a]) => v >= 15 && a >= 25);
    t.diagnostic(`${r.names.join(', ')}: ${r.grown.join(', ')} access units in the second run`);
    assert.deepEqual(r.names, ['avc video', 'aac audio']);
    assert.deepEqual(r.errors, []);
    assert.ok(r.grown[0] >= 15, `video: ${r.grown[0]} frames`);
    assert.ok(r.grown[1] >= 25, `audio: ${r.grown[1]} AAC frames`);
  });

  it('says which track went missing and keeps the others flowing', async (t) => {
    if (!requireTools(t, 'ffmpeg')) return;
    // The second run has two video streams and no audio.
    const r = await secondRun({ '0:v': '0:v', '1:a': '0:v' }, ([v]) => v >= 15);
    t.diagnostic(`${r.grown.join(', ')} access units in the second run; ${r.errors.join('; ')}`);
    assert.deepEqual(r.errors, [
      'ffmpeg came back without its aac audio track: it stays silent until a restart brings it back',
    ]);
    assert.ok(r.grown[0] >= 15, `video: ${r.grown[0]} frames`);
    assert.equal(r.grown[1], 0);
  });

  it('an abort while open() probes kills its ffmpeg and rejects', async (t) => {
    if (!requireTools(t, 'ffmpeg')) return;
    const dir = mkdtempSync(join(tmpdir(), 'smolrtsp-ffmpeg-'));
    const stand = join(dir, 'ffmpeg');
    // Writes its pid (exec keeps it) so the test can look for the process afterwards.
    writeFileSync(stand, '#!/bin/sh\necho $$ > "$(dirname "$0")/pid"\nexec ffmpeg "$@"\n');
    chmodSync(stand, 0o755);
    try {
      const controller = new AbortController();
      const source = new FfmpegSource({ args: ARGS, ffmpegPath: stand, signal: controller.signal });
      const opening = source.open();
      setTimeout(() => controller.abort(), 20);
      await assert.rejects(opening, { name: 'AbortError' });
      const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
      await new Promise((r) => setTimeout(r, 300));
      assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `ffmpeg ${pid} still running`);
      // An already aborted signal does not even start ffmpeg.
      const never = new FfmpegSource({ args: ARGS, ffmpegPath: stand, signal: AbortSignal.abort() });
      await assert.rejects(never.open(), { name: 'AbortError' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('FfmpegSource picks what to copy and what to encode', { concurrency: 1 }, () => {
  /** Serves ARGS with feed() on a fresh server; ffprobe's view of the stream, and the source's plan. */
  async function serveAndProbe(args: string) {
    const server = await createServer({ host: '127.0.0.1', port: 0, rtpPortRange: [52000, 52999] });
    const source = new FfmpegSource({ args, gopSeconds: 1 });
    try {
      const stream = server.addStream('/in', {});
      await source.feed(stream);
      const r = await ffprobeStreams(`rtsp://127.0.0.1:${server.port}/in`);
      return { probed: r.lines.join('\n'), stderr: r.stderr, plan: source.plan.map(describePlan) };
    } finally {
      source.stop();
      await server.close();
    }
  }

  it('raw video and PCM audio are encoded: the client gets H.264 and AAC', async (t) => {
    if (!requireTools(t, 'ffmpeg', 'ffprobe')) return;
    const r = await serveAndProbe(
      '-re -f lavfi -i testsrc2=size=320x240:rate=25 -re -f lavfi -i sine=frequency=440',
    );
    t.diagnostic(`${r.plan.join(', ')}; ffprobe: ${r.probed.replace('\n', ' ')}`);
    assert.deepEqual(r.plan, [
      'track 0 video rawvideo → h264 (encoded)',
      'track 1 audio pcm_s16le → aac (encoded)',
    ]);
    assert.equal(r.probed, 'h264,320,240\naac', r.stderr);
  });

  it('H.264 input is copied', async (t) => {
    if (!requireTools(t, 'ffmpeg', 'ffprobe')) return;
    const r = await serveAndProbe(`-re -framerate 25 -f h264 -i ${SAMPLE_FILE}`);
    t.diagnostic(`${r.plan.join(', ')}; ffprobe: ${r.probed}`);
    assert.deepEqual(r.plan, ['track 0 video h264 (copied)']);
    assert.equal(r.probed, 'h264,640,480', r.stderr);
  });

  it('feed() keeps trying a failing ffmpeg, with its reason, the stream unavailable meanwhile', async (t) => {
    if (!requireTools(t, 'ffmpeg')) return;
    const source = new FfmpegSource({ args: '-re -i no-such-file.mp4', restartDelayMs: 100 });
    const stream = new Stream('/missing', {});
    const reasons: string[] = [];
    source.on('restart', (_attempt, _delay, reason) => reasons.push(reason));
    const feeding = source.feed(stream);
    try {
      const deadline = Date.now() + 10_000;
      while (reasons.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      t.diagnostic(reasons[0]);
      assert.ok(reasons.length >= 2, `${reasons.length} tries`);
      assert.match(reasons[0], /^ffmpeg exited \(1\): no-such-file\.mp4: No such file or directory$/);
      assert.equal(stream.unavailableReason, reasons[reasons.length - 1]);
      assert.equal(stream.tracks.length, 0);
    } finally {
      source.stop();
    }
    await assert.rejects(feeding, { name: 'AbortError' });
  });
});
