// H.264 picture order counts from slice headers, checked against what ffmpeg reports for a libx264
// stream with B-frames, and on hand-built streams for POC types 1 and 2 and MMCO 5.
import assert from 'node:assert/strict';
import type { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { PictureOrderError } from '../../../../src/codecs/errors.js';
import { AnnexBReader } from '../../../../src/codecs/h264/annexb.js';
import { H264PocCounter, type PictureOrder, pocMsb } from '../../../../src/codecs/h264/poc.js';
import { parseSps } from '../../../../src/codecs/h264/sps.js';
import { PresentationOrder } from '../../../../src/codecs/presentation-order.js';
import { SAMPLE_FILE } from '../../../helpers/server.js';
import { idr, pps, slice, sps } from './synthetic-stream.js';

// libx264 defaults (3 B-frames, B-pyramid) but for keyint, 75 frames, IDRs at 0 and 40:
//   ffmpeg -f lavfi -i testsrc2=size=128x96:rate=25 -t 3 -c:v libx264 -pix_fmt yuv420p -g 40 x.mp4
//   ffmpeg -i x.mp4 -c copy -bsf:v h264_mp4toannexb -f h264 bframes-128x96-25fps.264
const FIXTURE = new URL('./fixtures/bframes-128x96-25fps.264', import.meta.url);

/** Each packet's pts / 512 (frame index in presentation order), in decode order, from the MP4:
 * `ffprobe -show_packets -show_entries packet=pts x.mp4`. */
const FFMPEG_PLACES = [
  0, 4, 2, 1, 3, 8, 6, 5, 7, 9, 13, 11, 10, 12, 17, 15, 14, 16, 19, 18, 23, 21, 20, 22, 25, 24, 29, 27, 26,
  28, 30, 34, 32, 31, 33, 38, 36, 35, 37, 39, 40, 42, 41, 43, 47, 45, 44, 46, 48, 50, 49, 52, 51, 56, 54, 53,
  55, 60, 58, 57, 59, 64, 62, 61, 63, 68, 66, 65, 67, 69, 71, 70, 74, 72, 73,
];

function accessUnits(file: URL | string): Buffer[][] {
  const reader = new AnnexBReader();
  return [...reader.push(readFileSync(file)), ...reader.flush()];
}

function places(orders: Array<PictureOrder | null>): number[] {
  const order = new PresentationOrder();
  const indices = orders.map((o) => order.add(o));
  order.endPeriod();
  return indices.map((i) => order.take(i) ?? -1);
}

describe('H.264 POC', () => {
  it('libx264 B-frames: POCs in decode order and presentation places as ffmpeg has them', () => {
    const aus = accessUnits(FIXTURE);
    assert.equal(aus.length, 75);
    const sps = parseSps(aus[0].find((n) => (n[0] & 0x1f) === 7) as Buffer);
    // 64 lsb values, POCs up to 78: the second GOP runs through a PicOrderCntMsb wrap.
    assert.deepEqual([sps.picOrderCntType, sps.log2MaxPicOrderCntLsb], [0, 6]);
    const counter = new H264PocCounter();
    const orders = aus.map((au) => counter.next(au));
    assert.deepEqual(
      orders.slice(0, 10).map((o) => o?.poc),
      [0, 8, 4, 2, 6, 16, 12, 10, 14, 18], // I P B B B P B B B P: decode order
    );
    assert.deepEqual(
      orders.flatMap((o, i) => (o?.newPeriod ? [i] : [])),
      [0, 40], // the IDRs
    );
    assert.ok(Math.max(...orders.map((o) => o?.poc ?? 0)) >= 64);
    const got = places(orders);
    assert.deepEqual(got, FFMPEG_PLACES);
    // Sorted, the presentation times are an arithmetic sequence: every frame has its own slot.
    const pts = got.map((p) => p * 40_000).sort((a, b) => a - b);
    assert.deepEqual(
      pts,
      Array.from({ length: 75 }, (_, i) => i * 40_000),
    );
  });

  it('POC type 2 (the sample clip, no B-frames): presentation order is decode order', () => {
    const aus = accessUnits(SAMPLE_FILE);
    const counter = new H264PocCounter();
    const got = places(aus.map((au) => counter.next(au)));
    assert.deepEqual(
      got,
      aus.map((_, i) => i),
    );
  });

  it('PicOrderCntMsb wraps forward and back by half the lsb range (8-3)', () => {
    assert.equal(pocMsb(2, 0, 62, 64), 64);
    assert.equal(pocMsb(62, 64, 2, 64), 0);
    assert.equal(pocMsb(40, 0, 10, 64), 0);
    assert.equal(pocMsb(10, 64, 40, 64), 64);
  });

  it('refuses POC type 1, naming it', () => {
    const counter = new H264PocCounter();
    assert.throws(
      () => counter.next([sps(1), pps(), idr(0)]),
      (err: unknown) => err instanceof PictureOrderError && err.what === 'uses H.264 POC type 1',
    );
  });

  it('an MMCO 5 starts a new POC period at its picture', () => {
    const counter = new H264PocCounter();
    const orders = [
      counter.next([sps(0), pps(), idr(0)]), // POC 0
      counter.next([slice('P', 4, 1)]), // POC 4
      counter.next([slice('B', 2, 2, false)]), // POC 2, not a reference
      counter.next([slice('P', 8, 2, true, true)]), // MMCO 5: POC 0 of a new period
      counter.next([slice('P', 4, 1)]), // POC 4 after the reset
      counter.next([slice('B', 2, 2, false)]), // POC 2
    ];
    assert.deepEqual(
      orders.map((o) => [o?.poc, o?.newPeriod]),
      [
        [0, true],
        [4, false],
        [2, false],
        [0, true],
        [4, false],
        [2, false],
      ],
    );
    assert.deepEqual(places(orders), [0, 2, 1, 3, 5, 4]);
  });

  it('an access unit without parameter sets before it has no order', () => {
    assert.equal(new H264PocCounter().next([idr(0)]), null);
  });
});
