// A track hands every batch to every sink: one that throws loses its place, not the others' frame.
// Keyframe requests for joining clients are coalesced and bounded.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { G711TrackCodec } from '../../../src/media/formats/g711.js';
import { Stream } from '../../../src/media/stream.js';
import { FORCED_KEYFRAME_MIN_FRAMES, type TrackSink } from '../../../src/media/track.js';
import { sampleParameterSets } from '../../helpers/synthetic.js';

describe('Track fan-out', () => {
  it('a sink that throws is dropped and reported; the others and the source go on', () => {
    const stream = new Stream('/a', { tracks: [new G711TrackCodec({ law: 'mulaw' })] });
    const track = stream.tracks[0];
    const got: string[] = [];
    const reported: unknown[] = [];
    track.onSinkError = (err, sink) => reported.push([(err as Error).message, sink === broken]);
    const broken: TrackSink = {
      deliver() {
        throw new Error('socket gone');
      },
    };
    track.subscribe({ deliver: () => got.push('first') });
    track.subscribe(broken);
    track.subscribe({ deliver: () => got.push('last') });
    assert.doesNotThrow(() => track.push(Buffer.alloc(160, 0xff), { pts: 0 }));
    assert.doesNotThrow(() => track.push(Buffer.alloc(160, 0xff), { pts: 20_000 }));
    assert.deepEqual(got, ['first', 'last', 'first', 'last']);
    assert.deepEqual(reported, [['socket gone', true]]);
    assert.equal(track.subscriberCount, 2);
  });
});

describe('Track keyframe requests', () => {
  function videoTrack() {
    const stream = new Stream('/v', { video: { codec: 'H264' } });
    const track = stream.video!;
    const { sps, pps } = sampleParameterSets();
    let n = 0;
    const push = (keyframe: boolean) =>
      track.pushUnits(keyframe ? [sps, pps, Buffer.from([0x65, 1, 2, 3])] : [Buffer.from([0x41, 4, 5])], {
        pts: n++ * 40_000,
      });
    let asked = 0;
    track.onKeyframeRequest = () => {
      asked++;
    };
    return { track, push, asked: () => asked };
  }

  it('many requests before the next frame ask the source once', () => {
    const { track, push, asked } = videoTrack();
    for (let i = 0; i < 100; i++) track.requestKeyframe();
    assert.equal(asked(), 1);
    push(false);
    track.requestKeyframe();
    assert.equal(asked(), 1, 'the keyframe asked for is still to come: it serves this one too');
    push(true);
    for (let i = 0; i < FORCED_KEYFRAME_MIN_FRAMES; i++) push(false);
    for (let i = 0; i < 100; i++) track.requestKeyframe();
    assert.equal(asked(), 2);
  });

  it(`a request soon after a keyframe is asked so that the next comes ${FORCED_KEYFRAME_MIN_FRAMES} frames after it`, () => {
    const { track, push, asked } = videoTrack();
    push(true);
    track.requestKeyframe();
    track.requestKeyframe();
    assert.equal(asked(), 0);
    for (let i = 1; i < FORCED_KEYFRAME_MIN_FRAMES - 1; i++) push(false);
    assert.equal(asked(), 0, `${FORCED_KEYFRAME_MIN_FRAMES - 2} frames after the keyframe`);
    push(false);
    assert.equal(asked(), 1, 'the next frame can be the keyframe');
    push(false);
    assert.equal(asked(), 1);
  });

  it('a source hook that throws is reported, not thrown at the client or the push', () => {
    const { track, push } = videoTrack();
    const reported: unknown[] = [];
    track.onSinkError = (err) => reported.push((err as Error).message);
    track.onKeyframeRequest = () => {
      throw new Error('encoder busy');
    };
    push(true);
    assert.doesNotThrow(() => track.requestKeyframe());
    assert.doesNotThrow(() => {
      for (let i = 0; i < FORCED_KEYFRAME_MIN_FRAMES; i++) push(false);
    });
    assert.deepEqual(reported, ['encoder busy']);
  });

  it('a track whose source cannot make keyframes ignores requests', () => {
    const { track, push } = videoTrack();
    track.onKeyframeRequest = undefined;
    push(false);
    assert.doesNotThrow(() => track.requestKeyframe());
  });
});
