import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MediaFormatError } from '../../../src/codecs/errors.js';
import { parseTimestampSei } from '../../../src/codecs/h264/encoder/sei.js';
import { TestPatternEncoder } from '../../../src/sources/testpattern/test-pattern-encoder.js';

const types = (nalus: Uint8Array[]) => nalus.map((n) => n[0] & 0x1f);

/** Average bit rate of `seconds` of stream, counting every NAL unit byte. */
function bitRate(enc: TestPatternEncoder, seconds: number): number {
  let bytes = 0;
  const frames = seconds * enc.fps;
  const t0 = Date.UTC(2024, 0, 1, 8, 0, 0, 0);
  for (let f = 0; f < frames; f++)
    for (const n of enc.encodeFrame(f, t0 + (f * 1000) / enc.fps).nalus) bytes += n.length;
  return (bytes * 8) / seconds;
}

describe('TestPatternEncoder', () => {
  it('emits IDR access units as [SPS, PPS, SEI, IDR] and the others as [SEI, P]', () => {
    const enc = new TestPatternEncoder({ width: 320, height: 240, gopFrames: 10 });
    const first = enc.encodeFrame(0, 1000);
    assert.equal(first.keyframe, true);
    assert.deepEqual(types(first.nalus), [7, 8, 6, 5]);
    assert.equal(first.nalus[0], enc.sps);
    assert.equal(first.nalus[1], enc.pps);
    const second = enc.encodeFrame(1, 1040);
    assert.equal(second.keyframe, false);
    assert.deepEqual(types(second.nalus), [6, 1]);
    for (const nal of [...first.nalus, ...second.nalus]) {
      assert.equal(nal[0] & 0x80, 0, 'forbidden_zero_bit');
      assert.ok(!(nal[0] === 0 && nal[1] === 0), 'no start code');
    }
    assert.equal(enc.profileLevelId, '42c01e');
  });

  it('makes frameIndex % gopFrames === 0 an IDR, plus requested and overdue keyframes', () => {
    const enc = new TestPatternEncoder({ width: 320, height: 240, gopFrames: 5 });
    const keys: number[] = [];
    for (let f = 3; f < 20; f++) {
      if (f === 12) enc.requestKeyframe();
      if (enc.encodeFrame(f, f * 40).keyframe) keys.push(f);
    }
    // 3: first frame. 5, 10, 15: GOP boundaries. 12: requested.
    assert.deepEqual(keys, [3, 5, 10, 12, 15]);

    // Indices that never hit a multiple (a caller skipping frames) still get an IDR every GOP.
    const skipping = new TestPatternEncoder({ width: 320, height: 240, gopFrames: 4 });
    const kinds = [1, 2, 3, 6, 7, 9, 11, 13, 14, 15, 17].map((f) => skipping.encodeFrame(f, 0).keyframe);
    assert.deepEqual(kinds, [true, false, false, false, true, false, false, false, true, false, false]);
  });

  it('stamps each access unit with its wall-clock time and frame number', () => {
    const enc = new TestPatternEncoder({ width: 320, height: 240 });
    const t = Date.UTC(2025, 2, 3, 4, 5, 6, 7) + 0.25;
    for (const f of [0, 1, 2, 99]) {
      const { nalus } = enc.encodeFrame(f, t + f * 40);
      const sei = nalus.find((n) => (n[0] & 0x1f) === 6);
      assert.ok(sei);
      assert.deepEqual(parseTimestampSei(sei), {
        wallClockUs: Math.round((t + f * 40) * 1000),
        wallClockMs: Math.round((t + f * 40) * 1000) / 1000,
        frameNumber: f,
      });
    }
  });

  it('keeps P frames small: only the box edges and changed digits are coded', () => {
    const enc = new TestPatternEncoder();
    enc.encodeFrame(0, 0);
    const idr = enc.lastStats;
    assert.ok(idr.idr && idr.pcm < 100, `IDR: ${idr.pcm} PCM macroblocks`);
    enc.encodeFrame(1, 40);
    const p = enc.lastStats;
    assert.ok(!p.idr && p.pcm + p.intra16x16 < 60, `P: ${p.pcm} PCM + ${p.intra16x16} I16x16`);
    assert.ok(p.skipped > 1100);
  });

  it('stays under 4 Mbit/s at 640x480@25 and at 1280x720@30 (10 s, 50-frame GOP)', () => {
    const sd = bitRate(new TestPatternEncoder(), 10);
    const hd = bitRate(new TestPatternEncoder({ width: 1280, height: 720, fps: 30 }), 10);
    assert.ok(sd < 4e6, `640x480: ${(sd / 1e6).toFixed(2)} Mbit/s`);
    assert.ok(hd < 4e6, `1280x720: ${(hd / 1e6).toFixed(2)} Mbit/s`);
  });

  it('lastPicture() is display-size I420', () => {
    const enc = new TestPatternEncoder({ width: 350, height: 202, fps: 15 });
    enc.encodeFrame(0, 0);
    const pic = enc.lastPicture();
    assert.deepEqual([pic.width, pic.height], [350, 202]);
    assert.equal(pic.y.length, 350 * 202);
    assert.equal(pic.u.length, 175 * 101);
    assert.equal(pic.v.length, 175 * 101);
  });

  it('rejects bad options', () => {
    assert.throws(() => new TestPatternEncoder({ gopFrames: 0 }), MediaFormatError);
    assert.throws(() => new TestPatternEncoder({ fps: 29.97 }), MediaFormatError);
    assert.throws(() => new TestPatternEncoder({ width: 641 }), MediaFormatError);
  });
});
