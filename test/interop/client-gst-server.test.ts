// The RTSP client against a server that is not ours: GStreamer's gst-rtsp-server (run from Python,
// test/helpers/gst-rtsp-server.py) serving the sample H.264 file, remuxed by ffmpeg into Matroska so
// that GStreamer paces and timestamps it (and once as the bare elementary stream, which it does not).
// Over TCP and UDP, with Digest and Basic, the client's units carry the file's slices in file order;
// a wrong password is a 401.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { RtspResponseError } from '../../src/client/errors.js';
import { RtspClient, type RtspClientOptions, type RtspClientUnit } from '../../src/client/rtsp-client.js';
import { parseAdts } from '../../src/codecs/aac/adts.js';
import { AnnexBReader, isVclNal, nalType } from '../../src/codecs/h264/annexb.js';
import { type GstRtspServer as GstServer, startGstRtspServer } from '../helpers/gst-rtsp-server.js';
import { SAMPLE_FILE } from '../helpers/server.js';
import { requireGstRtspServer, requireTools, run } from '../helpers/tools.js';

const USER = 'alice';
const PASSWORD = 's3cret';
const UNITS = 50;
const FRAME_US = 40_000; // the sample is 25 fps

const running: GstServer[] = [];

/** Starts a server and remembers it for `after`. */
async function startGstServer(file: string, args: string[]): Promise<GstServer> {
  const server = await startGstRtspServer(file, args);
  running.push(server);
  return server;
}

let tempDir: string | undefined;

after(async () => {
  await Promise.all(running.map((server) => server.stop()));
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
});

let mkvFile: Promise<string> | undefined;

/** The sample, its stream copied as it is into Matroska with 25 fps timestamps. */
function sampleMkv(): Promise<string> {
  mkvFile ??= (async () => {
    tempDir ??= mkdtempSync(join(tmpdir(), 'smolrtsp-gst-'));
    const file = join(tempDir, 'sample.mkv');
    const args = ['-v', 'error', '-y', '-framerate', '25', '-i', SAMPLE_FILE, '-c', 'copy', file];
    const result = await run('ffmpeg', args, 15_000);
    assert.equal(result.code, 0, `ffmpeg: ${result.stderr}`);
    return file;
  })();
  return mkvFile;
}

let avFiles: Promise<{ mkv: string; aac: string }> | undefined;

/** The sample with an AAC track (10 s of seeded noise, so no two frames are alike) in Matroska. */
function sampleWithAudio(): Promise<{ mkv: string; aac: string }> {
  avFiles ??= (async () => {
    tempDir ??= mkdtempSync(join(tmpdir(), 'smolrtsp-gst-'));
    const aac = join(tempDir, 'noise.aac');
    const mkv = join(tempDir, 'sample-aac.mkv');
    const noise = 'anoisesrc=seed=7:amplitude=0.3:sample_rate=48000:duration=10';
    const encode = ['-v', 'error', '-y', '-f', 'lavfi', '-i', noise, '-ac', '1', '-c:a', 'aac', aac];
    const encoded = await run('ffmpeg', encode, 15_000);
    assert.equal(encoded.code, 0, `ffmpeg: ${encoded.stderr}`);
    const mux = ['-v', 'error', '-y', '-framerate', '25', '-i', SAMPLE_FILE, '-i', aac, '-c', 'copy', mkv];
    const muxed = await run('ffmpeg', mux, 15_000);
    assert.equal(muxed.code, 0, `ffmpeg: ${muxed.stderr}`);
    return { mkv, aac };
  })();
  return avFiles;
}

const servers = new Map<string, Promise<GstServer>>();

/** One server per argument set, started on first use and stopped in `after`; `raw` serves the .264. */
function gstServer(raw: boolean, ...args: string[]): Promise<GstServer> {
  const key = `${raw} ${args.join(' ')}`;
  let server = servers.get(key);
  if (!server) {
    server = (raw ? Promise.resolve(SAMPLE_FILE) : sampleMkv()).then((file) => startGstServer(file, args));
    servers.set(key, server);
  }
  return server;
}

const DIGEST = ['--auth', 'digest', '--user', USER, '--password', PASSWORD];
const BASIC = ['--auth', 'basic', '--user', USER, '--password', PASSWORD];

/** The slices (VCL NAL units) of each access unit of the sample, in file order. */
const fileSlices: Buffer[][] = (() => {
  const reader = new AnnexBReader();
  const aus = [...reader.push(readFileSync(SAMPLE_FILE)), ...reader.flush()];
  return aus.map((au) => au.filter((nal) => isVclNal(nalType(nal))));
})();

function slicesOf(unit: RtspClientUnit): Buffer[] {
  assert.ok(Array.isArray(unit.data), 'H.264 units are NAL unit lists');
  return unit.data.filter((nal) => isVclNal(nalType(nal)));
}

function sameSlices(a: Buffer[], b: Buffer[]): boolean {
  return a.length === b.length && a.every((nal, i) => nal.equals(b[i]));
}

interface Expect {
  count?: number;
  /** Check that pts step by one frame (not for the bare elementary stream: GStreamer stamps nothing). */
  checkPts?: boolean;
  /**
   * The media is shared and another client may have started it: units before the first keyframe are
   * skipped, and a keyframe received twice in a row counts once (GStreamer sends the keyframe it
   * prerolled with, then again when the pipeline starts playing; a packet between them goes to the
   * other client only, so loss is not checked).
   */
  shared?: boolean;
  /** Called once PLAY succeeded. */
  onPlaying?: () => void;
}

/**
 * Plays `url`, reads `count` units (bounded in time), and checks them against the file: parameter
 * sets, AUDs and SEI aside (h264parse inserts and drops those), each unit's slices are the file's,
 * in order, from the first unit received, which is a keyframe; pts step by one frame each. Returns
 * the file position of the first unit.
 */
async function playAndCompare(
  url: string,
  options: RtspClientOptions,
  { count = UNITS, checkPts = true, shared = false, onPlaying }: Expect = {},
): Promise<number> {
  const client = new RtspClient(url, { requestTimeoutMs: 5000, ...options });
  try {
    const tracks = await client.start();
    assert.equal(tracks.length, 1);
    assert.equal(tracks[0].codec, 'H264');
    assert.equal(tracks[0].clockRate, 90000);
    onPlaying?.();
    const got: RtspClientUnit[] = [];
    const deadline = setTimeout(() => void client.close(), 15_000);
    try {
      for await (const unit of client.units()) {
        if (shared && got.length === 0 && !unit.keyframe) continue;
        if (shared && got.length === 1 && sameSlices(slicesOf(unit), slicesOf(got[0]))) got.pop();
        got.push(unit);
        if (got.length >= count) break;
      }
    } finally {
      clearTimeout(deadline);
    }
    assert.equal(got.length, count, `received ${got.length} units`);

    assert.equal(got[0].keyframe, true, 'the first unit is a keyframe');
    const first = slicesOf(got[0]);
    const start = fileSlices.findIndex((slices) => sameSlices(slices, first));
    assert.ok(start >= 0, "the first unit's slices are in the file");
    assert.ok(start + count <= fileSlices.length, `the file has ${count} units from unit ${start}`);
    for (let k = 0; k < count; k++) {
      const slices = slicesOf(got[k]);
      const expected = fileSlices[start + k];
      assert.equal(slices.length, expected.length, `unit ${start + k}: slice count`);
      for (let s = 0; s < slices.length; s++) {
        assert.ok(slices[s].equals(expected[s]), `unit ${start + k}: slice ${s} bytes`);
      }
      assert.equal(got[k].keyframe, nalType(expected[0]) === 5, `unit ${start + k}: keyframe flag`);
      if (checkPts) assert.equal(got[k].pts - got[0].pts, k * FRAME_US, `unit ${start + k}: pts`);
    }
    const stats = client.stats().get(0)!;
    if (!shared) assert.equal(stats.packetsLost, 0);
    assert.equal(stats.packetsMalformed, 0);
    return start;
  } finally {
    await client.close();
  }
}

const urlOf = (server: GstServer, userInfo = `${USER}:${PASSWORD}@`) =>
  `rtsp://${userInfo}127.0.0.1:${server.port}/test`;

describe("RtspClient against GStreamer's RTSP server", { timeout: 60_000 }, () => {
  it('Digest, TCP interleaved: the units are the file, from its first unit', async (t) => {
    if (!requireGstRtspServer(t) || !requireTools(t, 'ffmpeg')) return;
    const server = await gstServer(false, ...DIGEST);
    // Not shared: each client gets its own pipeline, so it starts at the file's beginning.
    assert.equal(await playAndCompare(urlOf(server), { transport: 'tcp' }), 0);
  });

  it('Digest, UDP', async (t) => {
    if (!requireGstRtspServer(t) || !requireTools(t, 'ffmpeg')) return;
    const server = await gstServer(false, ...DIGEST);
    assert.equal(await playAndCompare(urlOf(server), { transport: 'udp', rtcpIntervalMs: 500 }), 0);
  });

  it('a wrong password or none is a RtspResponseError with status 401', async (t) => {
    if (!requireGstRtspServer(t) || !requireTools(t, 'ffmpeg')) return;
    const server = await gstServer(false, ...DIGEST);
    for (const userInfo of [`${USER}:nope@`, '']) {
      const client = new RtspClient(urlOf(server, userInfo), { requestTimeoutMs: 5000 });
      await assert.rejects(client.start(), (e: unknown) => {
        assert.ok(e instanceof RtspResponseError, String(e));
        assert.equal(e.status, 401);
        return true;
      });
      await client.close();
    }
  });

  it('Basic, shared media: a UDP client joins the TCP client that started it', async (t) => {
    if (!requireGstRtspServer(t) || !requireTools(t, 'ffmpeg')) return;
    const server = await gstServer(false, ...BASIC, '--shared');
    const url = urlOf(server);
    // One after the other: two PLAYs at once on a shared media that is still preparing get a 503 from
    // GStreamer now and then.
    let playing!: () => void;
    const tcpPlaying = new Promise<void>((resolve) => {
      playing = resolve;
    });
    const tcp = playAndCompare(url, { transport: 'tcp' }, { count: 30, shared: true, onPlaying: playing });
    await Promise.race([tcpPlaying, tcp]);
    const udp = await playAndCompare(url, { transport: 'udp' }, { count: 30, shared: true });
    // Each starts at a keyframe of the file (every 25th unit).
    assert.equal((await tcp) % 25, 0);
    assert.equal(udp % 25, 0);
  });

  it('AAC with the video, Digest, TCP: the audio units are the AAC frames of the file', async (t) => {
    if (!requireGstRtspServer(t) || !requireTools(t, 'ffmpeg')) return;
    const { mkv, aac } = await sampleWithAudio();
    const frames = parseAdts(readFileSync(aac)).map((f) => f.data);
    const server = await startGstServer(mkv, [...DIGEST, '--audio']);
    const client = new RtspClient(urlOf(server), { transport: 'tcp', requestTimeoutMs: 5000 });
    try {
      const tracks = await client.start();
      assert.deepEqual(
        tracks.map((track) => track.codec),
        ['H264', 'MPEG4-GENERIC'],
      );
      assert.equal(tracks[1].clockRate, 48000);
      const audio: RtspClientUnit[] = [];
      let video = 0;
      const deadline = setTimeout(() => void client.close(), 15_000);
      try {
        for await (const unit of client.units()) {
          if (unit.track.index === 1) audio.push(unit);
          else video++;
          if (audio.length >= UNITS) break;
        }
      } finally {
        clearTimeout(deadline);
      }
      assert.equal(audio.length, UNITS, `received ${audio.length} audio units`);
      assert.ok(video > 0, 'video units too');
      const start = frames.findIndex((f) => f.equals(audio[0].data as Buffer));
      assert.equal(start, 0, 'the audio starts at the first frame of the file');
      for (let k = 0; k < UNITS; k++) {
        assert.ok((audio[k].data as Buffer).equals(frames[k]), `AAC frame ${k} bytes`);
        // 1024 samples a frame, within the 1 ms (48 ticks) Matroska rounds timestamps to.
        const step = audio[k].rtpTimestamp - audio[0].rtpTimestamp;
        assert.ok(Math.abs(step - k * 1024) <= 48, `AAC frame ${k} timestamp: ${step}`);
      }
      assert.equal(client.stats().get(1)?.packetsLost, 0);
    } finally {
      await client.close();
    }
  });

  it('the bare elementary stream, TCP: same slices, though every unit has one RTP timestamp', async (t) => {
    if (!requireGstRtspServer(t)) return;
    const server = await gstServer(true);
    assert.equal(await playAndCompare(urlOf(server, ''), { transport: 'tcp' }, { checkPts: false }), 0);
  });
});
