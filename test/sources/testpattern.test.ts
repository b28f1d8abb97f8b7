// The test pattern as a source: starting again after stop(), and an abort signal given already aborted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Stream } from '../../src/media/stream.js';
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
});
