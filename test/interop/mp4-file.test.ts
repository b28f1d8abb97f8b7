// The MP4 file source, without ffmpeg on the serving side: an MP4 made here (H.264 with B-frames,
// and AAC) is demuxed in-process, paced in real time and played by real clients.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer, type RtspServer } from '../../src/server/rtsp-server.js';
import { Mp4FileSource } from '../../src/sources/mp4-file.js';
import { hasTool, requireTools, run } from '../helpers/tools.js';

describe('Mp4FileSource', { concurrency: 1 }, () => {
  let dir = '';
  let server: RtspServer | undefined;
  let source: Mp4FileSource | undefined;
  let url = '';

  before(async () => {
    if (!hasTool('ffmpeg')) return;
    dir = mkdtempSync(join(tmpdir(), 'smolrtsp-mp4-'));
    const file = join(dir, 'clip.mp4');
    const made = await run(
      'ffmpeg',
      [
        '-v',
        'error',
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=320x240:rate=25',
        '-f',
        'lavfi',
        '-i',
        'sine=f=440:r=48000',
        '-t',
        '3',
        '-c:v',
        'libx264',
        '-g',
        '25',
        '-bf',
        '2',
        '-c:a',
        'aac',
        '-shortest',
        file,
      ],
      30_000,
    );
    assert.equal(made.code, 0, made.stderr);
    source = await Mp4FileSource.open({ file, loop: true });
    server = await createServer({ host: '127.0.0.1', port: 0, rtpPortRange: [53000, 53999] });
    const stream = server.addStream('/clip', { tracks: source.codecs });
    source.start(stream);
    url = `rtsp://127.0.0.1:${server.port}/clip`;
  });
  after(async () => {
    source?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('maps the file’s tracks', (t) => {
    if (!requireTools(t, 'ffmpeg')) return;
    assert.deepEqual(
      source!.tracks.map((tr) => tr.name),
      ['avc', 'aac'],
    );
    t.diagnostic(`tracks: ${source!.tracks.map((tr) => `${tr.kind} ${tr.name}`).join(', ')}`);
  });

  for (const transport of ['udp', 'tcp']) {
    it(`ffmpeg decodes 5 s over ${transport} (through a loop) with no errors`, async (t) => {
      if (!requireTools(t, 'ffmpeg', 'ffprobe')) return;
      const probe = await run(
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
      assert.match(probe.stdout.toString(), /^h264,320,240$/m, probe.stderr);
      assert.match(probe.stdout.toString(), /^aac$/m, probe.stderr);
      const r = await run(
        'ffmpeg',
        [
          '-nostdin',
          '-v',
          'error',
          '-rtsp_transport',
          transport,
          '-i',
          url,
          '-t',
          '5',
          '-f',
          'framecrc',
          '-',
        ],
        30_000,
      );
      const frames = r.stdout
        .toString()
        .split('\n')
        .filter((l) => /^0,/.test(l)).length;
      const audioFrames = r.stdout
        .toString()
        .split('\n')
        .filter((l) => /^1,/.test(l)).length;
      assert.equal(r.stderr.trim(), '');
      assert.ok(frames >= 123, `${frames} video frames`);
      // AAC at 48 kHz: 1024 samples a frame, 46.9 frames a second.
      assert.ok(audioFrames >= 220, `${audioFrames} audio frames`);
    });
  }
});

describe('Mp4FileSource with H.265 and Opus', { concurrency: 1 }, () => {
  let dir = '';
  let server: RtspServer | undefined;
  let source: Mp4FileSource | undefined;
  let url = '';

  before(async () => {
    if (!hasTool('ffmpeg')) return;
    dir = mkdtempSync(join(tmpdir(), 'smolrtsp-mp4-'));
    const file = join(dir, 'hevc-opus.mp4');
    const made = await run(
      'ffmpeg',
      [
        '-v',
        'error',
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=320x240:rate=25',
        '-f',
        'lavfi',
        '-i',
        'sine=f=440:r=48000',
        '-t',
        '2',
        '-c:v',
        'libx265',
        '-x265-params',
        'log-level=error',
        '-g',
        '25',
        '-bf',
        '0',
        '-c:a',
        'libopus',
        '-shortest',
        file,
      ],
      60_000,
    );
    assert.equal(made.code, 0, made.stderr);
    source = await Mp4FileSource.open({ file, loop: true });
    server = await createServer({ host: '127.0.0.1', port: 0, rtpPortRange: [53000, 53999] });
    const stream = server.addStream('/hevc', { tracks: source.codecs });
    source.start(stream);
    url = `rtsp://127.0.0.1:${server.port}/hevc`;
  });
  after(async () => {
    source?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('maps hevc and opus; ffmpeg decodes both for 3 s over TCP and UDP with no errors', async (t) => {
    if (!requireTools(t, 'ffmpeg', 'ffprobe')) return;
    assert.deepEqual(
      source!.tracks.map((tr) => tr.name),
      ['hevc', 'opus'],
    );
    for (const transport of ['tcp', 'udp']) {
      const probe = await run(
        'ffprobe',
        [
          '-v',
          'error',
          '-rtsp_transport',
          transport,
          '-show_entries',
          'stream=codec_name',
          '-of',
          'csv=p=0',
          url,
        ],
        20_000,
      );
      assert.equal(probe.stdout.toString().trim(), 'hevc\nopus', probe.stderr);
      const r = await run(
        'ffmpeg',
        [
          '-nostdin',
          '-v',
          'error',
          '-rtsp_transport',
          transport,
          '-i',
          url,
          '-t',
          '3',
          '-f',
          'framecrc',
          '-',
        ],
        30_000,
      );
      const lines = r.stdout.toString().split('\n');
      const video = lines.filter((l) => /^0,/.test(l)).length;
      const audio = lines.filter((l) => /^1,/.test(l)).length;
      assert.equal(r.stderr.trim(), '', transport);
      assert.ok(video >= 73 && audio >= 140, `${transport}: ${video} video, ${audio} audio frames`);
    }
  });
});
