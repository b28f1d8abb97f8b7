// H.265 picture order counts from slice segment headers, checked against what ffmpeg reports for a
// libx265 stream with B-frames and open GOPs (CRA pictures with RASL leading pictures).
import assert from 'node:assert/strict';
import type { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { H265AnnexBReader } from '../../../../src/codecs/h265/annexb.js';
import { H265PocCounter } from '../../../../src/codecs/h265/poc.js';
import { PresentationOrder } from '../../../../src/codecs/presentation-order.js';

// libx265 defaults but for keyint, 50 frames; IDR first, then CRAs (open GOP) at 20 and 40:
//   ffmpeg -f lavfi -i testsrc2=size=160x120:rate=25 -t 2 -c:v libx265 -pix_fmt yuv420p -g 20 x.mp4
//   ffmpeg -i x.mp4 -c copy -bsf:v hevc_mp4toannexb -f hevc bframes-160x120-25fps.hevc
const FIXTURE = new URL('./fixtures/bframes-160x120-25fps.hevc', import.meta.url);

/** Each packet's pts / 512 (frame index in presentation order), in decode order, from the MP4:
 * `ffprobe -show_packets -show_entries packet=pts x.mp4`. */
const FFMPEG_PLACES = [
  0, 5, 3, 1, 2, 4, 9, 7, 6, 8, 13, 11, 10, 12, 16, 15, 14, 20, 18, 17, 19, 23, 22, 21, 28, 26, 24, 25, 27,
  33, 31, 29, 30, 32, 38, 36, 34, 35, 37, 40, 39, 44, 42, 41, 43, 48, 46, 45, 47, 49,
];

function accessUnits(file: URL): Buffer[][] {
  const reader = new H265AnnexBReader();
  return [...reader.push(readFileSync(file)), ...reader.flush()];
}

describe('H.265 POC', () => {
  it('libx265 B-frames and CRAs: POCs and presentation places as ffmpeg has them', () => {
    const aus = accessUnits(FIXTURE);
    assert.equal(aus.length, 50);
    const counter = new H265PocCounter();
    const orders = aus.map((au) => counter.next(au));
    // POC runs on through the CRAs (no reset), and the RASL pictures after them come first.
    assert.deepEqual(
      orders.map((o) => o?.poc),
      FFMPEG_PLACES,
    );
    assert.deepEqual(
      orders.flatMap((o, i) => (o?.newPeriod ? [i] : [])),
      [0],
    );
    const order = new PresentationOrder();
    const indices = orders.map((o) => order.add(o));
    order.endPeriod();
    const got = indices.map((i) => order.take(i));
    assert.deepEqual(got, FFMPEG_PLACES);
    const pts = got.map((p) => (p ?? -1) * 40_000).sort((a, b) => a - b);
    assert.deepEqual(
      pts,
      Array.from({ length: 50 }, (_, i) => i * 40_000),
    );
  });

  it('an IDR resets the POC: the file twice in a row gives the same POCs twice', () => {
    const aus = accessUnits(FIXTURE);
    const counter = new H265PocCounter();
    const first = aus.map((au) => counter.next(au));
    const second = aus.map((au) => counter.next(au));
    // The IDR at the top resets the POC on the second pass too.
    assert.deepEqual(second, first);
  });
});
