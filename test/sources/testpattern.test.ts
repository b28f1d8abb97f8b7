// The test pattern as a source: starting again after stop(), an abort signal given already aborted,
// and keyframes for joining clients.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Stream } from '../../src/media/stream.js';
import { FORCED_KEYFRAME_MIN_FRAMES } from '../../src/media/track.js';
import { TestPatternSource } from '../../src/sources/testpattern/source.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('TestPatternSource', () => {
  it('start() after stop() goes on at once, without waiting out the time already played', async () => {
    const stream = new Stream('/p', { video: { codec: 'H264' } });
    const source = new TestPatternSource(stream.video!, { width: 160, height: 160, fps: 25 });
    source.start();
    await sleep(400);
    source.stop();
    const before = source.stats.frames;
    source.start();
    await sleep(400);
    source.stop();
    assert.ok(
      source.stats.frames - before >= 5,
      `${source.stats.frames - before} frames in 0.4 s after the restart`,
    );
  });

  it('an already aborted signal keeps it from starting', async () => {
    const stream = new Stream('/p', { video: { codec: 'H264' } });
    const source = new TestPatternSource(stream.video!, {
      width: 160,
      height: 160,
      fps: 25,
      signal: AbortSignal.abort(),
    });
    source.start();
    await sleep(100);
    source.stop();
    assert.equal(source.stats.frames, 0);
  });

  it('a crowd of joins gets one IDR at the next frame; joins on every frame force one IDR per FORCED_KEYFRAME_MIN_FRAMES', async () => {
    const stream = new Stream('/p', { video: { codec: 'H264' } });
    const track = stream.video!;
    const source = new TestPatternSource(track, { width: 160, height: 128, fps: 100, gopFrames: 10_000 });
    const keyframes: boolean[] = [];
    const N = FORCED_KEYFRAME_MIN_FRAMES;
    const floodFrom = 40;
    const floodTo = floodFrom + 10 * N;
    const done = new Promise<void>((resolve) => {
      track.subscribe({
        deliver(batch) {
          const frame = keyframes.length;
          keyframes.push(batch.keyframe);
          // Clients join as frames go out (the requests come from within the source's push).
          if (frame === 20) for (let i = 0; i < 100; i++) track.requestKeyframe();
          if (frame >= floodFrom && frame < floodTo) track.requestKeyframe();
          if (frame === floodTo + N) resolve();
        },
      });
    });
    source.start();
    await Promise.race([done, sleep(15_000)]);
    source.stop();
    assert.ok(keyframes.length > floodTo + N, `${keyframes.length} frames`);
    const idrs = (from: number, to: number) =>
      keyframes.map((k, i) => (k ? i : -1)).filter((i) => i >= from && i < to);
    assert.deepEqual(idrs(0, floodFrom), [0, 21], 'one IDR for the crowd, at the next frame');
    const flood = idrs(floodFrom, floodTo + 2);
    // The first join of the flood is answered at once; then one IDR every N frames, no more.
    assert.equal(flood[0], floodFrom + 1);
    for (let i = 1; i < flood.length; i++) assert.equal(flood[i] - flood[i - 1], N, `IDRs at ${flood}`);
    assert.ok(flood.length >= 10, `IDRs at ${flood}`);
  });
});
