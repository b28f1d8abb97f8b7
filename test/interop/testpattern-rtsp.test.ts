// The default stream, end to end: the test pattern served over RTSP and decoded by real clients.
// Its encoder is lossless, so every picture ffmpeg decodes over RTSP must equal, bit for bit, one
// the generator drew.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer, type RtspServer } from '../../src/server/rtsp-server.js';
import { TestPatternSource } from '../../src/sources/testpattern/source.js';
import { gstDecode } from '../helpers/clients.js';
import { requireTools, run } from '../helpers/tools.js';

const W = 640;
const H = 480;

describe('test pattern over RTSP', { concurrency: 1 }, () => {
  let server: RtspServer;
  let source: TestPatternSource;
  let url: string;
  const drawn = new Set<string>();
  let dir = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'smolrtsp-pattern-'));
    server = await createServer({ host: '127.0.0.1', port: 0, rtpPortRange: [40000, 44999] });
    const stream = server.addStream('/test', { video: { codec: 'H264' } });
    source = new TestPatternSource(stream.video!, { width: W, height: H, fps: 25, label: '/test' });
    // Remember a digest of every picture drawn, to recognise decoded frames.
    const encodeFrame = source.encoder.encodeFrame.bind(source.encoder);
    source.encoder.encodeFrame = (index, wallMs) => {
      const out = encodeFrame(index, wallMs);
      const pic = source.encoder.lastPicture();
      drawn.add(createHash('sha1').update(pic.y).update(pic.u).update(pic.v).digest('hex'));
      return out;
    };
    source.start();
    url = `rtsp://127.0.0.1:${server.port}/test`;
  });
  after(async () => {
    source.stop();
    await server.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every frame ffmpeg decodes over TCP and UDP is one the generator drew, bit for bit', async (t) => {
    if (!requireTools(t, 'ffmpeg')) return;
    const decode = (transport: string) =>
      run(
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
          'rawvideo',
          '-pix_fmt',
          'yuv420p',
          '-',
        ],
        20_000,
      );
    const results = await Promise.all([decode('tcp'), decode('udp')]);
    const frameSize = (W * H * 3) / 2;
    for (const [i, r] of results.entries()) {
      const name = i === 0 ? 'tcp' : 'udp';
      assert.equal(r.stderr.trim(), '', `${name}: ffmpeg printed errors`);
      assert.equal(r.stdout.length % frameSize, 0);
      const frames = r.stdout.length / frameSize;
      assert.ok(frames >= 70, `${name}: ${frames} frames`);
      for (let f = 0; f < frames; f++) {
        const digest = createHash('sha1')
          .update(r.stdout.subarray(f * frameSize, (f + 1) * frameSize))
          .digest('hex');
        assert.ok(drawn.has(digest), `${name}: decoded frame ${f} matches no drawn picture`);
      }
    }
  });

  it('ffmpeg decodes 10 s over UDP and TCP with no errors', async (t) => {
    if (!requireTools(t, 'ffmpeg')) return;
    const decode = (transport: string) =>
      run(
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
          '10',
          '-f',
          'framecrc',
          '-',
        ],
        30_000,
      );
    for (const [i, r] of (await Promise.all([decode('udp'), decode('tcp')])).entries()) {
      const frames = r.stdout
        .toString()
        .split('\n')
        .filter((l) => /^0,/.test(l)).length;
      assert.equal(r.stderr.trim(), '', `${i ? 'tcp' : 'udp'}: ffmpeg printed errors`);
      assert.ok(frames >= 248 && frames <= 251, `${i ? 'tcp' : 'udp'}: ${frames} frames`);
    }
  });

  it('GStreamer decodes 10 s over UDP and TCP with no errors', async (t) => {
    if (!requireTools(t, 'gst-launch-1.0', 'timeout')) return;
    const results = await Promise.all([gstDecode(url, 'udp', 11), gstDecode(url, 'tcp', 11)]);
    for (const [i, { frames, errors }] of results.entries()) {
      assert.equal(errors, '', `${i ? 'tcp' : 'udp'}`);
      assert.ok(frames >= 225, `${i ? 'tcp' : 'udp'}: ${frames} frames in ~10 s`);
    }
  });

  it('ffmpeg takes a screenshot of the first frame', async (t) => {
    if (!requireTools(t, 'ffmpeg')) return;
    const png = join(dir, 'shot.png');
    const r = await run(
      'ffmpeg',
      ['-nostdin', '-v', 'error', '-i', url, '-frames:v', '1', '-y', png],
      20_000,
    );
    assert.equal(r.stderr.trim(), '');
    assert.ok(existsSync(png) && statSync(png).size > 5000, 'a PNG was written');
  });
});
