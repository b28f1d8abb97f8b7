// AAC, Opus, G.711 and Motion JPEG served in real time from ffmpeg-made material, played by real
// clients over UDP and TCP: ffprobe must name the codec, ffmpeg must decode at least 3 s without a
// word on stderr, and GStreamer must pick the right depayloader and decode. What they decode is
// checked too: the tone's pitch for the lossy codecs, every sample for G.711, every pixel for MJPEG.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAdts } from '../../src/codecs/aac/adts.js';
import { decodeAlaw, decodeMulaw, encodeAlaw, encodeMulaw } from '../../src/codecs/g711/g711.js';
import { parseJpeg } from '../../src/codecs/mjpeg/jpeg.js';
import { opusPacketSamples } from '../../src/codecs/opus/packet.js';
import { AacTrackCodec } from '../../src/media/formats/aac.js';
import { G711TrackCodec } from '../../src/media/formats/g711.js';
import { MjpegTrackCodec } from '../../src/media/formats/mjpeg.js';
import { OpusTrackCodec } from '../../src/media/formats/opus.js';
import type { Track, TrackCodec } from '../../src/media/track.js';
import { createServer, type RtspServer } from '../../src/server/rtsp-server.js';
import { gstDecode } from '../helpers/clients.js';
import { parseOggOpus } from '../helpers/ogg.js';
import { hasTool, requireTools, run } from '../helpers/tools.js';

const TRANSPORTS = ['udp', 'tcp'] as const;
const G711_RATE = 8000;

/** One unit pushed every `durationUs`, looping over `units`; `perPush` consecutive units per push. */
class Feeder {
  private timer: NodeJS.Timeout | undefined;
  private index = 0;

  constructor(
    private readonly track: Track,
    private readonly units: Buffer[],
    private readonly durationsUs: number[],
    private readonly perPush = 1,
  ) {}

  start(): void {
    const t0 = performance.now() * 1000;
    let pts = 0;
    this.timer = setInterval(() => {
      const now = performance.now() * 1000 - t0;
      while (pts <= now) {
        const batch: Buffer[] = [];
        let duration = 0;
        for (let k = 0; k < this.perPush; k++) {
          const i = this.index++ % this.units.length;
          batch.push(this.units[i]);
          duration += this.durationsUs[i];
        }
        this.track.push(this.perPush === 1 ? batch[0] : batch, { pts });
        pts += duration;
      }
    }, 5);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** JPEG frames of an ffmpeg `-f mjpeg` stream: each from SOI to the EOI that ends its scan. */
function splitMjpeg(data: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  let pos = 0;
  while (pos < data.length) {
    const start = data.indexOf(Buffer.from([0xff, 0xd8]), pos);
    if (start < 0) break;
    const end = data.indexOf(Buffer.from([0xff, 0xd9]), start) + 2;
    frames.push(data.subarray(start, end));
    parseJpeg(frames[frames.length - 1]); // RTP/JPEG can carry it
    pos = end;
  }
  return frames;
}

/** A 4-second non-periodic test signal (440 Hz under a slow envelope), 16-bit at 8 kHz. */
function g711Signal(): Int16Array {
  const n = 4 * G711_RATE;
  return Int16Array.from({ length: n }, (_, i) => {
    const envelope = 0.6 + 0.4 * Math.sin((2 * Math.PI * 0.25 * i) / G711_RATE);
    return Math.round(14000 * envelope * Math.sin((2 * Math.PI * 440 * i) / G711_RATE));
  });
}

/** Pitch from the zero crossings of s16le mono audio, skipping the first 0.25 s. */
function pitch(pcm: Buffer, rate: number): { hz: number; rms: number; seconds: number } {
  const samples = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length >> 1);
  const from = Math.floor(rate / 4);
  let crossings = 0;
  let energy = 0;
  for (let i = from + 1; i < samples.length; i++) {
    if (samples[i - 1] < 0 !== samples[i] < 0) crossings++;
    energy += samples[i] * samples[i];
  }
  const seconds = (samples.length - from) / rate;
  return {
    hz: crossings / 2 / seconds,
    rms: Math.sqrt(energy / (samples.length - from)),
    seconds: samples.length / rate,
  };
}

interface Served {
  path: string;
  probe: string;
  /** Probe entries. */
  entries: string;
  /** GStreamer depayloader element that must appear. */
  depay: string;
  kind: 'audio' | 'video';
  rate: number;
  /** Tone frequency of the source (audio). */
  tone?: number;
  /** Extra variants are only decoded, not probed. */
  variant?: boolean;
}

const SERVED: Served[] = [
  {
    path: '/aac',
    probe: 'aac,44100,2',
    entries: 'codec_name,sample_rate,channels',
    depay: 'rtpmp4gdepay',
    kind: 'audio',
    rate: 44100,
    tone: 440,
  },
  {
    path: '/aac-packed',
    probe: 'aac,44100,2',
    entries: 'codec_name,sample_rate,channels',
    depay: 'rtpmp4gdepay',
    kind: 'audio',
    rate: 44100,
    tone: 440,
    variant: true,
  },
  {
    path: '/aac-fragmented',
    probe: 'aac,44100,2',
    entries: 'codec_name,sample_rate,channels',
    depay: 'rtpmp4gdepay',
    kind: 'audio',
    rate: 44100,
    tone: 440,
    variant: true,
  },
  {
    path: '/opus',
    probe: 'opus,48000,2',
    entries: 'codec_name,sample_rate,channels',
    depay: 'rtpopusdepay',
    kind: 'audio',
    rate: 48000,
    tone: 660,
  },
  {
    path: '/pcmu',
    probe: 'pcm_mulaw,8000,1',
    entries: 'codec_name,sample_rate,channels',
    depay: 'rtppcmudepay',
    kind: 'audio',
    rate: 8000,
    tone: 440,
  },
  {
    path: '/pcma',
    probe: 'pcm_alaw,8000,1',
    entries: 'codec_name,sample_rate,channels',
    depay: 'rtppcmadepay',
    kind: 'audio',
    rate: 8000,
    tone: 440,
  },
  {
    path: '/mjpeg',
    probe: 'mjpeg,320,240',
    entries: 'codec_name,width,height',
    depay: 'rtpjpegdepay',
    kind: 'video',
    rate: 25,
  },
  {
    path: '/mjpeg-restart',
    probe: 'mjpeg,320,240',
    entries: 'codec_name,width,height',
    depay: 'rtpjpegdepay',
    kind: 'video',
    rate: 25,
    variant: true,
  },
];

async function ffmpegDecode(url: string, transport: string, served: Served, seconds: number) {
  const output =
    served.kind === 'audio' ? ['-vn', '-ac', '1', '-f', 's16le', '-'] : ['-an', '-f', 'framemd5', '-'];
  const r = await run(
    'ffmpeg',
    ['-nostdin', '-v', 'error', '-rtsp_transport', transport, '-i', url, '-t', String(seconds), ...output],
    (seconds + 20) * 1000,
  );
  return { ...r, errors: r.stderr.trim() };
}

async function gstAudioDecode(url: string, transport: string, served: Served, seconds: number) {
  const r = await gstDecode(url, transport, seconds, {
    chain: ['decodebin', '!', served.kind === 'audio' ? 'audio/x-raw' : 'video/x-raw'],
  });
  return {
    buffers: r.frames,
    depayloaded: r.stdout.includes(`/${served.depay}`) || r.stdout.includes(`:${served.depay}`),
    errors: r.errors,
  };
}

describe('audio and MJPEG interop with real clients', { concurrency: 1 }, () => {
  let dir = '';
  let server: RtspServer | undefined;
  const feeders: Feeder[] = [];
  let base = '';
  let g711Source: Int16Array = new Int16Array(0);
  /** framemd5 digests of every picture of the MJPEG sources, as ffmpeg decodes the files. */
  const pictures = new Set<string>();

  before(async () => {
    if (!hasTool('ffmpeg')) return;
    dir = mkdtempSync(join(tmpdir(), 'smolrtsp-audio-'));
    const make = async (args: string[]) => {
      const r = await run('ffmpeg', ['-nostdin', '-v', 'error', '-y', ...args], 60_000);
      assert.equal(r.code, 0, r.stderr);
    };
    const aac = join(dir, 'tone.aac');
    const opus = join(dir, 'tone.opus');
    const mjpeg = join(dir, 'testsrc.mjpeg');
    const mjpegRst = join(dir, 'testsrc-rst.mjpeg');
    const video = [
      '-f',
      'lavfi',
      '-i',
      'testsrc=s=320x240:r=25',
      '-t',
      '4',
      '-c:v',
      'mjpeg',
      '-pix_fmt',
      'yuvj420p',
    ];
    await Promise.all([
      make([
        '-f',
        'lavfi',
        '-i',
        'sine=frequency=440:sample_rate=44100:duration=4',
        '-ac',
        '2',
        '-c:a',
        'aac',
        '-b:a',
        '128k',
        '-f',
        'adts',
        aac,
      ]),
      make([
        '-f',
        'lavfi',
        '-i',
        'sine=frequency=660:sample_rate=48000:duration=4',
        '-ac',
        '2',
        '-c:a',
        'libopus',
        '-b:a',
        '64k',
        '-f',
        'ogg',
        opus,
      ]),
      make([...video, '-huffman', 'default', '-q:v', '4', '-f', 'mjpeg', mjpeg]),
      make([
        ...video,
        '-huffman',
        'default',
        '-q:v',
        '4',
        '-slices',
        '5',
        '-threads',
        '5',
        '-f',
        'mjpeg',
        mjpegRst,
      ]),
    ]);
    for (const file of [mjpeg, mjpegRst]) {
      const md5 = await run('ffmpeg', ['-nostdin', '-v', 'error', '-i', file, '-f', 'framemd5', '-'], 60_000);
      for (const line of md5.stdout.toString().split('\n'))
        if (/^0,/.test(line)) pictures.add(line.split(',').at(-1)!.trim());
    }

    server = await createServer({ host: '127.0.0.1', port: 0, rtpPortRange: [61000, 61999] });
    base = `rtsp://127.0.0.1:${server.port}`;
    const track = (path: string, codec: TrackCodec) => server!.addStream(path, { tracks: [codec] }).tracks[0];

    const adts = readFileSync(aac);
    const frames = parseAdts(adts);
    const aacUs = frames.map(() => (1024 * 1e6) / 44100);
    // /aac: whole ADTS frames, the config taken from their headers (the usual way).
    feeders.push(
      new Feeder(
        track('/aac', new AacTrackCodec({})),
        frames.map((f) => adts.subarray(f.offset, f.offset + f.header.frameLength)),
        aacUs,
      ),
    );
    // The variants push raw AUs with the config given: 3 per push share a packet (at 128 kb/s about
    // 370 bytes each), or 2 per push at a 160-byte mtu, each fragmented.
    const aus = frames.map((f) => f.data);
    feeders.push(
      new Feeder(track('/aac-packed', new AacTrackCodec({ input: 'raw', config: '1210' })), aus, aacUs, 3),
    );
    feeders.push(
      new Feeder(
        track('/aac-fragmented', new AacTrackCodec({ input: 'raw', config: '1210', mtu: 160 })),
        aus,
        aacUs,
        2,
      ),
    );

    const opusPackets = parseOggOpus(readFileSync(opus)).packets;
    feeders.push(
      new Feeder(
        track('/opus', new OpusTrackCodec({ channels: 2 })),
        opusPackets,
        opusPackets.map((p) => (opusPacketSamples(p) * 1e6) / 48000),
      ),
    );

    g711Source = g711Signal();
    for (const [path, law, encode] of [
      ['/pcmu', 'mulaw', encodeMulaw],
      ['/pcma', 'alaw', encodeAlaw],
    ] as const) {
      const coded = encode(g711Source);
      const chunks: Buffer[] = [];
      for (let i = 0; i < coded.length; i += 160) chunks.push(coded.subarray(i, i + 160));
      feeders.push(
        new Feeder(
          track(path, new G711TrackCodec({ law })),
          chunks,
          chunks.map(() => 20_000),
        ),
      );
    }

    for (const [path, file] of [
      ['/mjpeg', mjpeg],
      ['/mjpeg-restart', mjpegRst],
    ] as const) {
      const frames = splitMjpeg(readFileSync(file));
      if (path === '/mjpeg-restart') assert.ok(parseJpeg(frames[0]).restartInterval > 0, 'restart markers');
      feeders.push(
        new Feeder(
          track(path, new MjpegTrackCodec({})),
          frames,
          frames.map(() => 40_000),
        ),
      );
    }
    for (const f of feeders) f.start();
  });

  after(async () => {
    for (const f of feeders) f.stop();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("ffmpeg decodes our G.711 codes to exactly our decoder's samples", async (t) => {
    if (!requireTools(t, 'ffmpeg')) return;
    const codes = join(dir, 'codes.raw');
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    writeFileSync(codes, all);
    for (const [format, decode] of [
      ['mulaw', decodeMulaw],
      ['alaw', decodeAlaw],
    ] as const) {
      const r = await run(
        'ffmpeg',
        ['-nostdin', '-v', 'error', '-f', format, '-ar', '8000', '-ac', '1', '-i', codes, '-f', 's16le', '-'],
        20_000,
      );
      assert.equal(r.stderr, '');
      assert.deepEqual(new Int16Array(r.stdout.buffer, r.stdout.byteOffset, 256), decode(all), format);
    }
  });

  for (const served of SERVED) {
    describe(served.path, { concurrency: 1 }, () => {
      if (!served.variant) {
        it(`ffprobe reports ${served.probe} over UDP and TCP`, async (t) => {
          if (!requireTools(t, 'ffprobe', 'ffmpeg')) return;
          const results = await Promise.all(
            TRANSPORTS.map((transport) =>
              run(
                'ffprobe',
                [
                  '-v',
                  'error',
                  '-rtsp_transport',
                  transport,
                  '-show_entries',
                  `stream=${served.entries}`,
                  '-of',
                  'csv=p=0',
                  base + served.path,
                ],
                20_000,
              ),
            ),
          );
          for (const [i, r] of results.entries()) {
            assert.equal(r.stderr.trim(), '', `${TRANSPORTS[i]}: ffprobe printed errors`);
            assert.equal(r.stdout.toString().trim(), served.probe, TRANSPORTS[i]);
          }
        });
      }

      it('ffmpeg decodes 3.5 s over UDP and TCP with no errors', async (t) => {
        if (!requireTools(t, 'ffmpeg')) return;
        const results = await Promise.all(
          TRANSPORTS.map((tr) => ffmpegDecode(base + served.path, tr, served, 3.5)),
        );
        for (const [i, r] of results.entries()) {
          const name = `${served.path} ${TRANSPORTS[i]}`;
          assert.equal(r.errors, '', `${name}: ffmpeg printed errors`);
          assert.equal(r.code, 0, name);
          if (served.kind === 'video') {
            const digests = r.stdout
              .toString()
              .split('\n')
              .filter((l) => /^0,/.test(l))
              .map((l) => l.split(',').at(-1)!.trim());
            t.diagnostic(`${name}: ${digests.length} pictures, ${new Set(digests).size} distinct`);
            assert.ok(digests.length >= 80, `${name}: ${digests.length} pictures`);
            // The rebuilt JPEGs decode to exactly the pictures of the source file.
            const foreign = digests.filter((d) => !pictures.has(d));
            assert.equal(foreign.length, 0, `${name}: ${foreign.length} pictures differ from the source`);
            continue;
          }
          const { hz, rms, seconds } = pitch(r.stdout, served.rate);
          t.diagnostic(
            `${name}: ${seconds.toFixed(2)} s decoded, ${hz.toFixed(1)} Hz, rms ${rms.toFixed(0)}`,
          );
          assert.ok(seconds >= 3, `${name}: ${seconds.toFixed(2)} s decoded`);
          assert.ok(Math.abs(hz - served.tone!) < served.tone! * 0.02, `${name}: pitch ${hz.toFixed(1)} Hz`);
          assert.ok(rms > 1000, `${name}: rms ${rms.toFixed(0)}`);
          if (served.path.startsWith('/pcm')) {
            // Lossless from the G.711 codes on: every sample is our decoder's, in order, from some point of the loop.
            const decode = served.path === '/pcmu' ? decodeMulaw : decodeAlaw;
            const expected = decode(
              served.path === '/pcmu' ? encodeMulaw(g711Source) : encodeAlaw(g711Source),
            );
            const got = new Int16Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.length >> 1);
            const n = expected.length;
            let offset = -1;
            for (let j = 0; j < n && offset < 0; j++) {
              let k = 0;
              while (k < 400 && got[k] === expected[(j + k) % n]) k++;
              if (k === 400) offset = j;
            }
            assert.ok(offset >= 0, `${name}: decoded audio not found in the source`);
            let mismatch = -1;
            for (let k = 0; k < got.length && mismatch < 0; k++)
              if (got[k] !== expected[(offset + k) % n]) mismatch = k;
            assert.equal(mismatch, -1, `${name}: sample ${mismatch} differs`);
            t.diagnostic(`${name}: all ${got.length} samples equal the source's from sample ${offset}`);
          }
        }
      });

      it(`GStreamer rtspsrc ! decodebin decodes with ${served.depay} over UDP and TCP`, async (t) => {
        if (!requireTools(t, 'gst-launch-1.0', 'timeout', 'ffmpeg')) return;
        const results = await Promise.all(
          TRANSPORTS.map((tr) => gstAudioDecode(base + served.path, tr, served, 5)),
        );
        for (const [i, r] of results.entries()) {
          const name = `${served.path} ${TRANSPORTS[i]}`;
          t.diagnostic(
            `${name}: ${r.buffers} decoded buffers, ${served.depay} ${r.depayloaded ? 'used' : 'missing'}`,
          );
          assert.equal(r.errors, '', `${name}: GStreamer reported errors`);
          assert.ok(r.depayloaded, `${name}: ${served.depay} not used`);
          // At least 2 s of the 5 (latency and setup take the rest): 43 AAC, 50 Opus/G.711, 25 JPEG buffers a second.
          const perSecond = served.kind === 'video' ? 25 : served.path.startsWith('/aac') ? 43 : 50;
          assert.ok(r.buffers >= 2 * perSecond, `${name}: ${r.buffers} decoded buffers`);
        }
      });
    });
  }

  it('the AAC variants went out packed (3 AUs a packet) and fragmented (mtu 160)', (t) => {
    if (!requireTools(t, 'ffmpeg')) return;
    const packed = server!.getStream('/aac-packed')!.tracks[0].stats;
    const fragmented = server!.getStream('/aac-fragmented')!.tracks[0].stats;
    t.diagnostic(`packed: ${packed.packets} packets for ${packed.accessUnits} pushes of 3 AUs`);
    t.diagnostic(`fragmented: ${fragmented.packets} packets for ${fragmented.accessUnits} pushes of 2 AUs`);
    assert.ok(packed.accessUnits > 0 && packed.packets === packed.accessUnits);
    assert.ok(fragmented.packets >= 4 * fragmented.accessUnits);
  });
});
