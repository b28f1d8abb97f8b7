import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StreamClock } from '../../../src/media/clock.js';
import { Track, type TrackCodec } from '../../../src/media/track.js';

function codec(clockRate: number, kind: TrackCodec['kind']): TrackCodec {
  return {
    encoding: 'X',
    clockRate,
    payloadType: 96,
    kind,
    ready: true,
    toUnits: (d) => (Array.isArray(d) ? d : [d]),
    packetize: () => null,
    describe: () => ({ kind, payloadType: 96, encoding: 'X', clockRate }),
  };
}

describe('StreamClock', () => {
  it('anchors at the first observation and maps pts and wall time onto one timeline', () => {
    const c = new StreamClock();
    c.observe(5_000_000, 1000);
    assert.equal(c.elapsedUsAtPts(5_040_000), 40_000);
    assert.equal(c.elapsedUsAtWall(1040), 40_000);
  });

  it('keeps its anchor through jitter below the limit, re-anchors beyond it', () => {
    const c = new StreamClock(1000);
    c.observe(0, 0);
    c.observe(2_000_000, 2400); // 400 ms late: jitter, no change
    assert.equal(c.elapsedUsAtWall(2000), 2_000_000);
    c.observe(3_000_000, 8000); // 5 s late: a stall, re-anchor so wall 8000 = pts 3 s
    assert.equal(c.elapsedUsAtWall(8000), 3_000_000);
  });

  it('tracks of one stream agree on wall clock however bursty each is pushed', () => {
    const clock = new StreamClock();
    const video = new Track(0, codec(90000, 'video'), () => 1000, clock);
    const audio = new Track(1, codec(48000, 'audio'), () => 7, clock);
    // Same presentation times, pushed at different moments: the mapping comes from the shared clock.
    video.pushUnits([Buffer.alloc(1)], { pts: 10_000_000 });
    audio.pushUnits([Buffer.alloc(1)], { pts: 10_000_000 });
    const now = performance.timeOrigin + performance.now();
    const v = video.rtpTimestampAt(now) - 1000;
    const a = audio.rtpTimestampAt(now) - 7;
    // Both name the same instant: v/90000 s == a/48000 s (to the tick).
    assert.ok(Math.abs(v / 90 - a / 48) < 1, `video ${v / 90} ms vs audio ${a / 48} ms`);
  });
});
