// The ffmpeg source with a camera stand-in (ffmpeg's own test source in place of /dev/video0):
// served, played by ffmpeg, and surviving its ffmpeg being killed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer, type RtspServer } from '../../src/server/rtsp-server.js';
import { FfmpegSource, ffmpegCommand, splitArgs } from '../../src/sources/ffmpeg.js';
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
    const r = await run(
      'ffprobe',
      [
        '-v',
        'error',
        '-rtsp_transport',
        'tcp',
        '-show_entries',
        'stream=codec_name,width,height',
        '-of',
        'csv=p=0',
        url,
      ],
      20_000,
    );
    assert.equal(r.stdout.toString().trim(), 'h264,320,240\naac', r.stderr);
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
