// Audio pushed without a pts: timestamps follow the samples, not the arrival jitter.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { AacTrackCodec } from '../../../src/media/formats/aac.js';
import { G711TrackCodec } from '../../../src/media/formats/g711.js';
import { Stream } from '../../../src/media/stream.js';
import type { RtpPacketBatch } from '../../../src/rtp/batch.js';
import { readRtpHeader } from '../../../src/rtp/packet.js';

const ADTS = readFileSync(new URL('../codecs/aac/fixtures/sine-44100-stereo.aac', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Track with live audio', () => {
  it('G.711 pushed without pts: steps of exactly 160 and one marker, whatever the arrival; a real gap marks again', async () => {
    const stream = new Stream('/a', { tracks: [new G711TrackCodec({ law: 'mulaw' })] });
    const batches: RtpPacketBatch[] = [];
    stream.tracks[0].subscribe({ deliver: (b) => batches.push(b) });
    // 200 ms of audio at once (arrival stamps would all be about the same): the samples set the pace.
    for (let i = 0; i < 10; i++) stream.tracks[0].push(Buffer.alloc(160, 0xff));
    // Then nothing for 300 ms (longer under load, never shorter): past the 200 ms sent, a gap.
    await sleep(300);
    stream.tracks[0].push(Buffer.alloc(160, 0xff));
    const headers = batches.map((b) => readRtpHeader(b.packets[0]));
    const steps = headers.slice(1, 10).map((h, i) => (h.timestamp - headers[i].timestamp) >>> 0);
    assert.deepEqual(steps, Array(9).fill(160));
    assert.deepEqual(
      headers.map((h) => h.marker),
      [true, false, false, false, false, false, false, false, false, false, true],
    );
    const gap = (headers[10].timestamp - headers[9].timestamp) >>> 0;
    // 300 ms after the first push is 2400 ticks after it; the last push began at 1440.
    assert.ok(gap >= 900, `gap of ${gap} ticks after 300 ms of silence`);
  });

  it('DESCRIBE-style waiters wake as soon as the first ADTS header tells the AAC config', async () => {
    const stream = new Stream('/a', { tracks: [new AacTrackCodec({})] });
    const t0 = performance.now();
    const ready = stream.tracks[0].whenReady(3000);
    setTimeout(() => stream.tracks[0].push(ADTS, { pts: 0 }), 20);
    assert.equal(await ready, true);
    const waited = performance.now() - t0;
    assert.ok(waited < 500, `woke after ${waited.toFixed(0)} ms`);
  });
});
