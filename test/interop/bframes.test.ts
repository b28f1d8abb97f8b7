// B-frames from an Annex-B file: libx264 and libx265 streams with their default B-frames, served by
// AnnexBFileSource and decoded by ffprobe over RTSP, come out with strictly increasing pts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createServer, type RtspServer } from '../../src/server/rtsp-server.js';
import { AnnexBFileSource } from '../../src/sources/annexb-file.js';
import { requireTools, run } from '../helpers/tools.js';

/** 3 s of libx264 defaults (B-pyramid, 3 B-frames), IDR every 40 frames: see test/unit/codecs/h264/poc.test.ts. */
const H264_CLIP = fileURLToPath(
  new URL('../unit/codecs/h264/fixtures/bframes-128x96-25fps.264', import.meta.url),
);
/** 2 s of libx265 defaults (B-frames, open GOP), keyframe every 20: see test/unit/codecs/h265/poc.test.ts. */
const H265_CLIP = fileURLToPath(
  new URL('../unit/codecs/h265/fixtures/bframes-160x120-25fps.hevc', import.meta.url),
);

describe('B-frames from .264 / .265 files over RTSP', () => {
  let server: RtspServer;
  const sources: AnnexBFileSource[] = [];

  before(async () => {
    server = await createServer({ host: '127.0.0.1', port: 0, rtpPortRange: [30000, 39999] });
    for (const [path, codec, file] of [
      ['/h264', 'H264', H264_CLIP],
      ['/h265', 'H265', H265_CLIP],
    ] as const) {
      const stream = server.addStream(path, { video: { codec } });
      const source = new AnnexBFileSource(stream.video!, { file, codec, loop: true });
      source.on('error', (err) => assert.fail(err));
      source.start();
      sources.push(source);
    }
  });

  after(async () => {
    for (const s of sources) s.stop();
    await server.close();
  });

  for (const [path, codec] of [
    ['/h264', 'h264'],
    ['/h265', 'hevc'],
  ] as const) {
    it(`ffprobe decodes ${codec} with B-frames: every frame's pts after the last, no errors`, async (t) => {
      if (!requireTools(t, 'ffprobe')) return;
      const r = await run(
        'ffprobe',
        [
          '-v',
          'error',
          '-rtsp_transport',
          'tcp',
          '-read_intervals',
          '%+4',
          '-select_streams',
          'v',
          '-show_frames',
          '-show_entries',
          'stream=codec_name:frame=pts',
          '-of',
          'json',
          `rtsp://127.0.0.1:${server.port}${path}`,
        ],
        25_000,
      );
      const out = JSON.parse(r.stdout.toString() || '{}') as {
        streams?: Array<{ codec_name: string }>;
        frames?: Array<{ pts?: number }>;
      };
      assert.equal(out.streams?.[0]?.codec_name, codec);
      const all = (out.frames ?? []).map((f) => f.pts);
      t.diagnostic(`${all.length} frames, pts ${all.slice(0, 12).join(' ')} ...`);
      // ffmpeg's RTSP demuxer leaves the very first packet without a timestamp; every other frame has one.
      const pts = all.slice(all[0] === undefined ? 1 : 0).map((p) => p ?? Number.NaN);
      // 4 s at 25 fps, less a wait for the first keyframe (at most 1.6 s) and ffprobe's start.
      assert.ok(pts.length >= 40, `${pts.length} frames decoded`);
      const backwards = pts.flatMap((p, i) => (i > 0 && !(p > pts[i - 1]) ? [`${pts[i - 1]} -> ${p}`] : []));
      assert.deepEqual(backwards, [], `pts not increasing: ${backwards.slice(0, 5).join(', ')}`);
      assert.equal(r.stderr.trim(), '', 'ffprobe printed errors');
    });
  }
});
