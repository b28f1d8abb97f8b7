// Audio and video in one stream: the test pattern with its tone (G.711 µ-law). Per-track SETUP,
// aggregate PLAY, and — through the sender reports — ffmpeg puts both on one timeline.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { G711TrackCodec } from '../../src/media/formats/g711.js';
import { createServer, type RtspServer } from '../../src/server/rtsp-server.js';
import { TestPatternSource } from '../../src/sources/testpattern/source.js';
import { RawRtspClient } from '../helpers/rtsp-client.js';
import { requireTools, run } from '../helpers/tools.js';

describe('audio + video', { concurrency: 1 }, () => {
  let server: RtspServer;
  let source: TestPatternSource;
  let url = '';
  before(async () => {
    server = await createServer({ host: '127.0.0.1', port: 0, rtpPortRange: [52000, 52999] });
    const stream = server.addStream('/av', {
      video: { codec: 'H264' },
      tracks: [new G711TrackCodec({ law: 'mulaw', input: 's16le' })],
    });
    source = new TestPatternSource(stream.video!, {
      width: 320,
      height: 240,
      fps: 25,
      audioTrack: stream.tracks[1],
    });
    source.start();
    url = `rtsp://127.0.0.1:${server.port}/av`;
  });
  after(async () => {
    source.stop();
    await server.close();
  });

  it('describes two tracks; PLAY on one track of the two is refused (459), the aggregate plays both', async () => {
    const c = await RawRtspClient.connect(server.port);
    c.onFrame = () => {};
    const d = await c.request('DESCRIBE', url);
    const sdp = d.body.toString();
    assert.match(sdp, /m=video 0 RTP\/AVP 96\r\n/);
    assert.match(sdp, /m=audio 0 RTP\/AVP 0\r\n/);
    assert.match(sdp, /a=control:trackID=1\r\n/);
    const v = await c.request('SETUP', `${url}/trackID=0`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
    });
    const session = (v.headers.get('session') ?? '').split(';')[0];
    const a = await c.request('SETUP', `${url}/trackID=1`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=2-3',
      Session: session,
    });
    assert.equal(a.status, 200);
    assert.equal((await c.request('PLAY', `${url}/trackID=1`, { Session: session })).status, 459);
    const play = await c.request('PLAY', url, { Session: session });
    assert.equal(play.status, 200);
    const info = play.headers.get('rtp-info') ?? '';
    // Both tracks start with the video's next keyframe, not known yet: the URLs only.
    assert.match(info, /^url=\S*trackID=0,url=\S*trackID=1$/);
    c.close();
  });

  for (const transport of ['udp', 'tcp']) {
    it(`ffprobe sees h264 + pcm_mulaw over ${transport}, and audio and video start within 50 ms`, async (t) => {
      if (!requireTools(t, 'ffprobe')) return;
      const r = await run(
        'ffprobe',
        [
          '-v',
          'error',
          '-rtsp_transport',
          transport,
          '-read_intervals',
          '%+3',
          '-show_entries',
          'stream=index,codec_name:packet=stream_index,pts_time',
          '-of',
          'json',
          url,
        ],
        20_000,
      );
      const out = JSON.parse(r.stdout.toString()) as {
        streams: Array<{ index: number; codec_name: string }>;
        packets: Array<{ stream_index: number; pts_time: string }>;
      };
      const codecs = out.streams.map((s) => s.codec_name).sort();
      assert.deepEqual(codecs, ['h264', 'pcm_mulaw']);
      // Where each track starts on ffmpeg's timeline. ffmpeg leaves the very first H.264 packet without
      // a timestamp, so a track's start is its first timestamped packet less the packets before it.
      const startOf = (kind: string, packetSec: number) => {
        const idx = out.streams.find((s) => s.codec_name === kind)!.index;
        const mine = out.packets.filter((p) => p.stream_index === idx);
        const k = mine.findIndex((p) => Number.isFinite(Number(p.pts_time)));
        return Number(mine[k].pts_time) - k * packetSec;
      };
      const video = startOf('h264', 0.04);
      const audio = startOf('pcm_mulaw', 0.02);
      t.diagnostic(
        `${transport}: first video pts ${video.toFixed(3)} s, first audio pts ${audio.toFixed(3)} s`,
      );
      assert.ok(Math.abs(video - audio) < 0.05, `video starts at ${video}, audio at ${audio}`);
    });
  }

  it('ffmpeg decodes both tracks for 4 s with no errors, and the beeps come once a second', async (t) => {
    if (!requireTools(t, 'ffmpeg')) return;
    const r = await run(
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
        '4',
        '-map',
        '0:a',
        '-f',
        's16le',
        '-ar',
        '8000',
        '-ac',
        '1',
        '-',
      ],
      20_000,
    );
    assert.equal(r.stderr.trim(), '');
    const pcm = new Int16Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.length / 2);
    assert.ok(pcm.length >= 3.9 * 8000, `${pcm.length} samples`);
    // Beep onsets: loud after quiet, in 10 ms windows.
    const onsets: number[] = [];
    let loud = false;
    for (let w = 0; w + 80 <= pcm.length; w += 80) {
      let peak = 0;
      for (let i = w; i < w + 80; i++) peak = Math.max(peak, Math.abs(pcm[i]));
      if (peak > 8000 && !loud) onsets.push(w / 8000);
      loud = peak > 8000;
    }
    t.diagnostic(`beep onsets at ${onsets.map((x) => x.toFixed(2)).join(', ')} s`);
    assert.ok(onsets.length >= 3, `${onsets.length} beeps`);
    for (let i = 1; i < onsets.length; i++) assert.ok(Math.abs(onsets[i] - onsets[i - 1] - 1) < 0.02);
  });
});
