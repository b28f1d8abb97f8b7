// H.265 (RFC 7798) interop: a libx265 clip served in real time, played by ffprobe, ffmpeg and GStreamer.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { splitAnnexB } from '../../src/codecs/h264/annexb.js';
import {
  H265AnnexBReader,
  H265NalType,
  h265NalType,
  isH265ParameterSet,
} from '../../src/codecs/h265/annexb.js';
import { h265FrameRate } from '../../src/codecs/h265/sps.js';
import { H265TrackCodec } from '../../src/media/formats/h265.js';
import type { Track } from '../../src/media/track.js';
import { createServer, type RtspServer } from '../../src/server/rtsp-server.js';
import { ffmpegDecode, gstDecode, gstLaunch } from '../helpers/clients.js';
import { requireTools, run } from '../helpers/tools.js';

/**
 * 50 frames (2 s) of 640x480 at 25 fps, IDR every 25 frames, no B-frames, VPS/SPS/PPS before each IDR:
 *   ffmpeg -f lavfi -i testsrc2=size=640x480:rate=25 -frames:v 50 -c:v libx265 -preset ultrafast -b:v 150k
 *     -x265-params keyint=25:min-keyint=25:scenecut=0:bframes=0:open-gop=0 -f hevc clip-640x480-25fps.hevc
 */
const CLIP = readFileSync(new URL('../unit/codecs/h265/fixtures/clip-640x480-25fps.hevc', import.meta.url));

const TRANSPORTS = ['udp', 'tcp'] as const;

function accessUnits(file: Buffer): Buffer[][] {
  const reader = new H265AnnexBReader();
  return [...reader.push(file), ...reader.flush()];
}

/** Pushes the access units into the track in real time, looping, like a camera would. Returns a stopper. */
function play(track: Track, aus: Buffer[][], fps: number): () => void {
  const intervalUs = 1_000_000 / fps;
  const startedAt = performance.now();
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    track.pushUnits(aus[sent % aus.length], { pts: sent * intervalUs });
    sent++;
    // Scheduled against the start so timer lateness does not accumulate.
    const due = startedAt + (sent * intervalUs) / 1000;
    timer = setTimeout(tick, Math.max(0, due - performance.now()));
  };
  tick();
  return () => clearTimeout(timer);
}

/** ffmpeg's RTSP client copying the elementary stream out: the NAL units its depacketizer rebuilt. */
async function ffmpegNalUnits(url: string, transport: string, seconds: number): Promise<Buffer[]> {
  const r = await run(
    'ffmpeg',
    ['-nostdin', '-v', 'error', '-rtsp_transport', transport, '-i', url, '-t', String(seconds)].concat([
      '-c',
      'copy',
      '-f',
      'hevc',
      '-',
    ]),
    (seconds + 15) * 1000,
  );
  assert.equal(r.stderr.trim(), '', `ffmpeg ${transport}`);
  return splitAnnexB(r.stdout);
}

/** GStreamer's rtph265depay output, one NAL unit per buffer, written to a file. */
async function gstNalUnits(url: string, transport: string, seconds: number): Promise<Buffer[]> {
  const dir = mkdtempSync(join(tmpdir(), 'smolrtsp-h265-'));
  try {
    const file = join(dir, 'out.hevc');
    const r = await gstLaunch(
      ['rtspsrc', `location=${url}`, `protocols=${transport}`, 'latency=200', '!', 'rtph265depay']
        .concat(['!', 'video/x-h265,stream-format=byte-stream,alignment=nal', '!'])
        .concat(['filesink', `location=${file}`]),
      seconds,
    );
    assert.equal(r.errors, '', `GStreamer ${transport}`);
    return splitAnnexB(readFileSync(file));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The received NAL units are the clip's, byte for byte, in order, from the start of a keyframe access
 * unit on (the clip loops). A client may put the SDP's parameter sets in front once; the last NAL unit
 * may be cut by the client stopping, so it is not compared. Returns how many were compared.
 */
function assertClipNalUnits(received: Buffer[], clip: Buffer[], name: string): number {
  let start = 0;
  const firstOther = received.findIndex((n) => !isH265ParameterSet(h265NalType(n)));
  for (let i = 1; i < firstOther; i++) if (h265NalType(received[i]) === H265NalType.VPS) start = i;
  const got = received.slice(start, -1);
  const candidates = clip.flatMap((n, i) => (h265NalType(n) === H265NalType.VPS ? [i] : []));
  const matches = candidates.some((c0) => got.every((nal, j) => nal.equals(clip[(c0 + j) % clip.length])));
  assert.ok(matches, `${name}: the ${got.length} NAL units received differ from the clip's`);
  return got.length;
}

describe('H.265 interop with real clients', { concurrency: 1 }, () => {
  let server: RtspServer;
  let base: string;
  const stops: Array<() => void> = [];

  before(async () => {
    server = await createServer({ host: '127.0.0.1', port: 0, rtpPortRange: [30000, 39999] });
    base = `rtsp://127.0.0.1:${server.port}`;
    const aus = accessUnits(CLIP);
    const fps = h265FrameRate(aus[0]);
    assert.equal(fps, 25, 'frame rate from the SPS VUI');
    // Default packetization (APs for VPS+SPS+PPS, FUs for large slices), and one without APs under a
    // small mtu: every slice goes either alone or in FUs.
    const paths: Array<[string, ConstructorParameters<typeof H265TrackCodec>[0]]> = [
      ['/h265', {}],
      ['/h265-fu', { aggregate: false, mtu: 500 }],
    ];
    for (const [path, options] of paths) {
      const stream = server.addStream(path, { tracks: [new H265TrackCodec(options)] });
      stops.push(play(stream.tracks[0], aus, fps!));
    }
  });

  after(async () => {
    for (const stop of stops) stop();
    await server.close();
  });

  for (const transport of TRANSPORTS) {
    it(`ffprobe reports hevc 640x480 over ${transport}`, async (t) => {
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
        ].concat(['-of', 'csv=p=0', `${base}/h265`]),
        20_000,
      );
      assert.equal(r.stderr.trim(), '');
      assert.equal(r.stdout.toString().trim(), 'hevc,640,480');
    });
  }

  it('ffmpeg decodes 4 s over UDP and over TCP with no errors, with and without APs', async (t) => {
    if (!requireTools(t, 'ffmpeg')) return;
    const runs = await Promise.all(
      ['/h265', '/h265-fu'].flatMap((path) =>
        TRANSPORTS.map(async (tr) => ({
          name: `${path} ${tr}`,
          r: await ffmpegDecode(`${base}${path}`, tr, 4),
        })),
      ),
    );
    for (const { name, r } of runs) {
      assert.equal(r.errors, '', `${name}: ffmpeg printed errors`);
      assert.equal(r.code, 0, name);
      // 4 s at 25 fps; a frame or two may straddle the cut.
      assert.ok(r.frames >= 98 && r.frames <= 101, `${name}: ${r.frames} frames`);
    }
  });

  it('GStreamer rtph265depay ! h265parse ! avdec_h265 decodes over UDP and over TCP', async (t) => {
    if (!requireTools(t, 'gst-launch-1.0', 'timeout')) return;
    const chain = ['rtph265depay', '!', 'h265parse', '!', 'avdec_h265'];
    const [udp, tcp] = await Promise.all(TRANSPORTS.map((tr) => gstDecode(`${base}/h265`, tr, 5, { chain })));
    for (const [name, r] of [
      ['udp', udp],
      ['tcp', tcp],
    ] as const) {
      assert.equal(r.errors, '', `${name}: GStreamer reported errors`);
      assert.ok(r.frames >= 75, `${name}: ${r.frames} decoded frames`);
      const caps = r.stdout
        .split('\n')
        .find((l) => l.includes('avdec_h265') && l.includes('src: caps = video/x-raw'));
      assert.match(caps ?? '', /width=\(int\)640, height=\(int\)480/, `${name}: decoder output caps`);
    }
  });

  it('GStreamer rtspsrc ! decodebin decodes the FU-only stream over UDP and over TCP', async (t) => {
    if (!requireTools(t, 'gst-launch-1.0', 'timeout')) return;
    const chain = ['decodebin', '!', 'video/x-raw'];
    const [udp, tcp] = await Promise.all(
      TRANSPORTS.map((tr) => gstDecode(`${base}/h265-fu`, tr, 5, { chain })),
    );
    for (const [name, r] of [
      ['udp', udp],
      ['tcp', tcp],
    ] as const) {
      assert.equal(r.errors, '', `${name}: GStreamer reported errors`);
      assert.ok(r.frames >= 75, `${name}: ${r.frames} decoded frames`);
    }
  });

  it('ffmpeg and GStreamer depacketize the exact NAL units sent (UDP and TCP, with and without APs)', async (t) => {
    if (!requireTools(t, 'ffmpeg', 'gst-launch-1.0', 'timeout')) return;
    const clip = accessUnits(CLIP).flat();
    for (const path of ['/h265', '/h265-fu']) {
      const results = await Promise.all(
        TRANSPORTS.flatMap((tr) => [
          ffmpegNalUnits(`${base}${path}`, tr, 3).then((nalus) => ({ name: `ffmpeg ${path} ${tr}`, nalus })),
          gstNalUnits(`${base}${path}`, tr, 4).then((nalus) => ({ name: `GStreamer ${path} ${tr}`, nalus })),
        ]),
      );
      for (const { name, nalus } of results) {
        // 58 NAL units per 50 frames: 60 is over 2 s of video.
        assert.ok(assertClipNalUnits(nalus, clip, name) >= 60, `${name}: ${nalus.length} NAL units`);
      }
    }
  });

  it('a client joining mid-GOP decodes cleanly from its first frame', async (t) => {
    if (!requireTools(t, 'ffmpeg')) return;
    // The clip has a 1 s GOP: join at odd offsets inside it.
    await new Promise((r) => setTimeout(r, 1370));
    const [udp, tcp] = await Promise.all([
      ffmpegDecode(`${base}/h265`, 'udp', 3),
      new Promise((r) => setTimeout(r, 410)).then(() => ffmpegDecode(`${base}/h265`, 'tcp', 3)),
    ]);
    for (const [name, r] of [
      ['udp', udp],
      ['tcp', tcp],
    ] as const) {
      assert.equal(r.errors, '', `${name}: ffmpeg printed errors`);
      assert.ok(r.frames >= 73, `${name}: ${r.frames} frames`);
    }
  });
});
