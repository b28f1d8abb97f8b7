// Real clients nobody here wrote — ffprobe, ffmpeg, GStreamer — play the server over UDP and TCP.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ffmpegDecode, gstDecode } from '../helpers/clients.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { requireTools, run } from '../helpers/tools.js';

const TRANSPORTS = ['udp', 'tcp'] as const;

describe('interop with real clients', { concurrency: 1 }, () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  after(async () => {
    await ts.close();
  });

  for (const transport of TRANSPORTS) {
    it(`ffprobe reports h264 640x480 over ${transport}`, async (t) => {
      if (!requireTools(t, 'ffprobe')) return;
      const r = await run(
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
          ts.url,
        ],
        20_000,
      );
      assert.equal(r.stderr.trim(), '');
      assert.equal(r.stdout.toString().trim(), 'h264,640,480');
    });
  }

  it('ffprobe and GStreamer play a URL with a query string', async (t) => {
    if (!requireTools(t, 'ffprobe', 'gst-launch-1.0', 'timeout')) return;
    const url = `${ts.url}?channel=1&subtype=0`;
    const probe = await run(
      'ffprobe',
      ['-v', 'error', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', url],
      20_000,
    );
    assert.equal(probe.stdout.toString().trim(), 'h264', probe.stderr);
    const gst = await gstDecode(url, 'tcp', 3);
    assert.equal(gst.errors, '');
    assert.ok(gst.frames >= 25, `${gst.frames} frames`);
  });

  it('ffmpeg decodes 6 s over UDP and over TCP with no errors', async (t) => {
    if (!requireTools(t, 'ffmpeg')) return;
    const [udp, tcp] = await Promise.all(TRANSPORTS.map((tr) => ffmpegDecode(ts.url, tr, 6)));
    for (const [name, r] of [
      ['udp', udp],
      ['tcp', tcp],
    ] as const) {
      assert.equal(r.errors, '', `${name}: ffmpeg printed errors`);
      assert.equal(r.code, 0, name);
      // 6 s at 25 fps; a frame or two may straddle the cut.
      assert.ok(r.frames >= 148 && r.frames <= 151, `${name}: ${r.frames} frames`);
    }
  });

  it('GStreamer rtspsrc ! decodebin decodes over UDP and over TCP', async (t) => {
    if (!requireTools(t, 'gst-launch-1.0', 'timeout')) return;
    const [udp, tcp] = await Promise.all(TRANSPORTS.map((tr) => gstDecode(ts.url, tr, 6)));
    for (const [name, r] of [
      ['udp', udp],
      ['tcp', tcp],
    ] as const) {
      assert.equal(r.errors, '', `${name}: GStreamer reported errors`);
      assert.ok(r.frames >= 100, `${name}: ${r.frames} decoded frames`);
    }
  });

  it('a second client joining mid-GOP decodes cleanly from its first frame', async (t) => {
    if (!requireTools(t, 'ffmpeg')) return;
    const first = ffmpegDecode(ts.url, 'tcp', 6);
    // The sample has a 1 s GOP: join at odd offsets inside it.
    await new Promise((r) => setTimeout(r, 1370));
    const [udpLate, tcpLate] = await Promise.all([
      ffmpegDecode(ts.url, 'udp', 3),
      new Promise((r) => setTimeout(r, 410)).then(() => ffmpegDecode(ts.url, 'tcp', 3)),
    ]);
    const early = await first;
    for (const [name, r] of [
      ['first', early],
      ['udp late', udpLate],
      ['tcp late', tcpLate],
    ] as const) {
      assert.equal(r.errors, '', `${name}: ffmpeg printed errors`);
      assert.ok(r.frames >= 73, `${name}: ${r.frames} frames`);
    }
  });

  it("two clients at once both play; one's TEARDOWN does not disturb the other", async (t) => {
    if (!requireTools(t, 'ffmpeg')) return;
    for (const transport of TRANSPORTS) {
      const long = ffmpegDecode(ts.url, transport, 6);
      const short = await ffmpegDecode(ts.url, transport, 2);
      const rest = await long;
      assert.equal(short.errors, '', `${transport} short`);
      assert.equal(rest.errors, '', `${transport} long`);
      assert.ok(short.frames >= 48, `${transport} short: ${short.frames}`);
      assert.ok(rest.frames >= 148, `${transport} long: ${rest.frames}`);
    }
    assert.equal(ts.server.sessions().length, 0, 'every session ended with its client');
  });
});
