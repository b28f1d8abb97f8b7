// The Annex-B file source: access units in file order, paced by the SPS frame rate, looping with
// a presentation clock that keeps running.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AnnexBReader } from '../../src/codecs/h264/annexb.js';
import { Track, type TrackCodec } from '../../src/media/track.js';
import { AnnexBFileSource } from '../../src/sources/annexb-file.js';
import { SAMPLE_FILE } from '../helpers/server.js';

/** A track whose codec records what it is given instead of packetizing. */
function recordingTrack() {
  const got: Array<{ units: Buffer[]; at: number }> = [];
  const codec: TrackCodec = {
    encoding: 'H264',
    clockRate: 90000,
    payloadType: 96,
    ssrc: 1,
    kind: 'video',
    nextSequence: 0,
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
