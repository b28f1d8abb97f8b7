// The Annex-B file source: access units in file order, paced by the SPS frame rate, looping with
// a presentation clock that keeps running.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AnnexBReader } from '../../src/codecs/h264/annexb.js';
import { Track, type TrackCodec } from '../../src/media/track.js';
import { AnnexBFileSource } from '../../src/sources/annexb-file.js';
import { SAMPLE_FILE } from '../helpers/server.js';
import { annexB, idr, pps, sps } from '../unit/codecs/h264/synthetic-stream.js';

/** libx264 defaults (B-frames), 75 frames at 25 fps, IDRs at 0 and 40; see test/unit/codecs/h264/poc.test.ts. */
const BFRAMES_264 = fileURLToPath(
  new URL('../unit/codecs/h264/fixtures/bframes-128x96-25fps.264', import.meta.url),
);
/** Each access unit's place in presentation order, in decode order, as ffmpeg has it. */
const BFRAMES_264_PLACES = [
  0, 4, 2, 1, 3, 8, 6, 5, 7, 9, 13, 11, 10, 12, 17, 15, 14, 16, 19, 18, 23, 21, 20, 22, 25, 24, 29, 27, 26,
  28, 30, 34, 32, 31, 33, 38, 36, 35, 37, 39, 40, 42, 41, 43, 47, 45, 44, 46, 48, 50, 49, 52, 51, 56, 54, 53,
  55, 60, 58, 57, 59, 64, 62, 61, 63, 68, 66, 65, 67, 69, 71, 70, 74, 72, 73,
];

/** A track whose codec records what it is given instead of packetizing. */
function recordingTrack() {
  const got: Array<{ units: Buffer[]; at: number }> = [];
  const codec: TrackCodec = {
    encoding: 'H264',
    clockRate: 90000,
    payloadType: 96,
    kind: 'video',
    ready: true,
    toUnits: (d) => (Array.isArray(d) ? d : [d]),
    packetize(units) {
      got.push({ units, at: performance.now() });
      return null;
    },
    describe: () => ({ kind: 'video', payloadType: 96, encoding: 'H264', clockRate: 90000 }),
  };
  const ptsSeen: number[] = [];
  const track = new Track(0, codec, () => 0);
  const push = track.pushUnits.bind(track);
  track.pushUnits = (units, options) => {
    ptsSeen.push(options?.pts ?? -1);
    push(units, options);
  };
  return { track, got, ptsSeen };
}

describe('AnnexBFileSource', () => {
  it('paces at the SPS frame rate (25 fps) with pts 40 ms apart', async () => {
    const { track, got, ptsSeen } = recordingTrack();
    const source = new AnnexBFileSource(track, { file: SAMPLE_FILE });
    source.start();
    await new Promise((r) => setTimeout(r, 1000));
    source.stop();
    // 1 s at 25 fps: the first frame goes at once, then one every 40 ms.
    assert.ok(got.length >= 24 && got.length <= 27, `${got.length} frames in 1 s`);
    for (let i = 1; i < ptsSeen.length; i++) assert.equal(ptsSeen[i] - ptsSeen[i - 1], 40_000);
    const elapsed = got[got.length - 1].at - got[0].at;
    assert.ok(
      Math.abs(elapsed - (got.length - 1) * 40) < 30,
      `drift: ${elapsed} ms for ${got.length} frames`,
    );
    // The file starts with SPS, PPS, (x264's SEI,) IDR.
    const types = got[0].units.map((n) => n[0] & 0x1f);
    assert.deepEqual([types[0], types[1], types[types.length - 1]], [7, 8, 5], types.join(','));
  });

  it('loops a short file with the clock running on, and frames match the file', async () => {
    const all = new AnnexBReader().push(readFileSync(SAMPLE_FILE));
    const five = all.slice(0, 5);
    const dir = mkdtempSync(join(tmpdir(), 'smolrtsp-'));
    const file = join(dir, 'five.264');
    const start = Buffer.from([0, 0, 0, 1]);
    writeFileSync(file, Buffer.concat(five.flatMap((au) => au.flatMap((n) => [start, n]))));

    const { track, got, ptsSeen } = recordingTrack();
    const source = new AnnexBFileSource(track, { file, fps: 100, forceFps: true });
    let loops = 0;
    source.on('loop', () => loops++);
    source.start();
    await new Promise((r) => setTimeout(r, 330));
    source.stop();
    assert.ok(got.length >= 25, `${got.length} frames`);
    assert.ok(loops >= 4, `${loops} loops`);
    for (let i = 0; i < got.length; i++) {
      assert.deepEqual(got[i].units, five[i % 5], `frame ${i}`);
      assert.equal(ptsSeen[i], i * 10_000);
    }
  });

  it('B-frames: pts from the slice headers, in presentation order per loop, on one timeline', async () => {
    const { track, got, ptsSeen } = recordingTrack();
    // fps forced to 200 (the SPS says 25): 5 ms frames, so two passes of 75 fit in well under a second.
    const source = new AnnexBFileSource(track, { file: BFRAMES_264, fps: 200, forceFps: true });
    let loops = 0;
    source.on('loop', () => loops++);
    source.start();
    const deadline = performance.now() + 5000;
    while (got.length < 160 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    source.stop();
    assert.ok(got.length >= 160, `${got.length} frames`);
    assert.ok(loops >= 2, `${loops} loops`);
    const expected = ptsSeen.map((_, i) => (75 * Math.floor(i / 75) + BFRAMES_264_PLACES[i % 75]) * 5000);
    assert.deepEqual(ptsSeen, expected);
    // Sent in decode order: the frames are the file's access units as they come.
    const reader = new AnnexBReader();
    const aus = [...reader.push(readFileSync(BFRAMES_264)), ...reader.flush()];
    assert.equal(aus.length, 75);
    for (let i = 0; i < 75; i++) assert.deepEqual(got[i].units, aus[i], `frame ${i}`);
  });

  it('refuses an H.264 stream with POC type 1, saying to use an MP4', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smolrtsp-'));
    const file = join(dir, 'clip.264');
    writeFileSync(file, annexB([sps(1), pps(), idr(0), idr(0)]));
    const { track, got } = recordingTrack();
    const source = new AnnexBFileSource(track, { file });
    const errors: Error[] = [];
    source.on('error', (e) => errors.push(e));
    source.start();
    await new Promise((r) => setTimeout(r, 50));
    source.stop();
    assert.equal(got.length, 0);
    assert.equal(errors.length, 1);
    assert.equal(
      errors[0].message,
      'clip.264 uses H.264 POC type 1, which smolrtsp cannot reorder; put it in an MP4 (ffmpeg -i clip.264 -c copy clip.mp4) and serve that',
    );
  });

  it('reports a missing file as an error event', () => {
    const { track } = recordingTrack();
    const source = new AnnexBFileSource(track, { file: '/nonexistent/clip.264' });
    let error: Error | undefined;
    source.on('error', (e) => {
      error = e;
    });
    source.start();
    assert.match(String(error), /ENOENT/);
  });

  it('a file without one access unit is an error event, not an endless loop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smolrtsp-'));
    const file = join(dir, 'garbage.264');
    writeFileSync(file, 'hello, this is not video\n');
    const { track, got } = recordingTrack();
    const source = new AnnexBFileSource(track, { file });
    const errors: Error[] = [];
    source.on('error', (e) => errors.push(e));
    source.start(); // returned at all: the event loop is free
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(got.length, 0);
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /holds no H264 access unit/);
  });

  it('start() after stop() goes on at once, without waiting out the time already played', async () => {
    const { track, got } = recordingTrack();
    const source = new AnnexBFileSource(track, { file: SAMPLE_FILE });
    source.start();
    await new Promise((r) => setTimeout(r, 400));
    source.stop();
    const before = got.length;
    source.start();
    await new Promise((r) => setTimeout(r, 400));
    source.stop();
    assert.ok(got.length - before >= 5, `${got.length - before} frames in 0.4 s after the restart`);
  });

  it('an already aborted signal keeps it from starting', async () => {
    const { track, got } = recordingTrack();
    const source = new AnnexBFileSource(track, { file: SAMPLE_FILE, signal: AbortSignal.abort() });
    source.start();
    await new Promise((r) => setTimeout(r, 100));
    source.stop();
    assert.equal(got.length, 0);
  });
});
