// The generic path: a format smolrtsp has no codec for, registered by the application. Here L16
// (RFC 3551 linear 16-bit PCM), which ffmpeg and GStreamer both depayload.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GenericTrackCodec } from '../../src/media/formats/generic.js';
import { createServer, type RtspServer } from '../../src/server/rtsp-server.js';
import { ffmpegDecode, gstDecode } from '../helpers/clients.js';
import { requireTools, run } from '../helpers/tools.js';

const RATE = 16000;
const FRAME_SAMPLES = RATE / 50; // 20 ms

describe('generic codec: L16/16000 mono', { concurrency: 1 }, () => {
  let server: RtspServer;
  let timer: NodeJS.Timeout;
  let url = '';

  before(async () => {
    server = await createServer({ host: '127.0.0.1', port: 0, rtpPortRange: [54000, 54999] });
    const codec = new GenericTrackCodec({
      kind: 'audio',
      encoding: 'L16',
      clockRate: RATE,
      channels: 1,
      payloadType: 98,
      // One 20 ms frame (640 bytes) per packet: it always fits the mtu.
      packetize: (frame) => [frame],
    });
    const stream = server.addStream('/l16', { tracks: [codec] });
    // A 500 Hz tone, big-endian samples, pushed every 20 ms on a drift-free clock.
    let n = 0;
    const start = performance.now();
    const tick = () => {
      const frame = Buffer.alloc(FRAME_SAMPLES * 2);
      for (let i = 0; i < FRAME_SAMPLES; i++) {
        frame.writeInt16BE(
          Math.round(8000 * Math.sin((2 * Math.PI * 500 * (n * FRAME_SAMPLES + i)) / RATE)),
          i * 2,
        );
      }
      stream.tracks[0].push(frame, { pts: Math.round((n * FRAME_SAMPLES * 1e6) / RATE) });
      n++;
      timer = setTimeout(tick, Math.max(0, start + n * 20 - performance.now()));
    };
    tick();
    url = `rtsp://127.0.0.1:${server.port}/l16`;
  });
  after(async () => {
    clearTimeout(timer);
    await server.close();
  });

  it('describes itself as the application said', async (t) => {
    if (!requireTools(t, 'ffprobe')) return;
    for (const transport of ['udp', 'tcp']) {
      const r = await run(
        'ffprobe',
        [
          '-v',
          'error',
          '-rtsp_transport',
          transport,
          '-show_entries',
          'stream=codec_name,sample_rate,channels',
          '-of',
          'csv=p=0',
          url,
        ],
        20_000,
      );
      assert.equal(r.stdout.toString().trim(), 'pcm_s16be,16000,1', `${transport}: ${r.stderr}`);
    }
  });

  it('ffmpeg decodes 3 s over UDP and TCP with no errors', async (t) => {
    if (!requireTools(t, 'ffmpeg')) return;
    for (const transport of ['udp', 'tcp']) {
      const r = await ffmpegDecode(url, transport, 3, { audio: true });
      assert.equal(r.errors, '', transport);
      // framecrc groups PCM into frames of its own size: count the samples instead.
      const samples = r.stdout
        .split('\n')
        .filter((l) => /^0,/.test(l))
        .reduce((sum, l) => sum + Number(l.split(',')[3]), 0);
      assert.ok(samples >= 2.9 * RATE, `${transport}: ${samples} samples`);
    }
  });

  it('GStreamer rtspsrc ! decodebin decodes it (rtpL16depay) over UDP and TCP', async (t) => {
    if (!requireTools(t, 'gst-launch-1.0', 'timeout')) return;
    for (const transport of ['udp', 'tcp']) {
      const r = await gstDecode(url, transport, 3, { chain: ['decodebin', '!', 'audio/x-raw'] });
      assert.equal(r.errors, '', transport);
      assert.ok(r.frames >= 50, `${transport}: ${r.frames} buffers`);
    }
  });
});
