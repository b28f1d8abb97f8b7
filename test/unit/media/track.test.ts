// A track hands every batch to every sink: one that throws loses its place, not the others' frame.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { G711TrackCodec } from '../../../src/media/formats/g711.js';
import { Stream } from '../../../src/media/stream.js';
import type { TrackSink } from '../../../src/media/track.js';

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
