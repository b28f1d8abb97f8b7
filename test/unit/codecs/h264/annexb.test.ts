import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MediaFormatError } from '../../../../src/codecs/errors.js';
import {
  AnnexBReader,
  firstMbInSlice,
  NalType,
  nalType,
  splitAnnexB,
} from '../../../../src/codecs/h264/annexb.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/**
 * 12 frames of 320x240 libx264 main profile, 4 slices per frame, keyint 6, B-frames, AUDs:
 *   ffmpeg -f lavfi -i testsrc=size=320x240:rate=25 -frames:v 12 -c:v libx264 -preset veryfast
 *     -profile:v main -x264-params slices=4:keyint=6:min-keyint=6:scenecut=0:bframes=2:aud=1
 */
const FIXTURE = readFileSync(new URL('./fixtures/slices-320x240.264', import.meta.url));
/** `ffprobe -show_entries packet=size` of the fixture: bytes of each access unit, start codes included. */
const FFPROBE_PACKET_SIZES = [3746, 414, 134, 96, 235, 90, 3330, 319, 121, 88, 245, 91];
const SLICE_FIRST_MBS = [0, 80, 160, 220]; // 300 macroblocks in 4 slices

function readAll(reader: AnnexBReader, chunks: Buffer[]): Buffer[][] {
  const aus: Buffer[][] = [];
  for (const chunk of chunks) aus.push(...reader.push(chunk));
  aus.push(...reader.flush());
  return aus;
}

function chunksOf(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, buf.length]) {
    chunks.push(buf.subarray(prev, p));
    prev = p;
  }
  return chunks;
}

const types = (au: Buffer[]) => au.map((nal) => nalType(nal));

describe('splitAnnexB', () => {
  it('splits on 3- and 4-byte start codes, trimming trailing zeros', () => {
    const buf = hex('00 00 00 01 67 aa 00 00 01 68 bb 00 00 00 00 01 65 cc 00 00');
    const nalus = splitAnnexB(buf);
    assert.deepEqual(nalus, [hex('67 aa'), hex('68 bb'), hex('65 cc')]);
    // Views, not copies.
    assert.equal(nalus[1].buffer, buf.buffer);
    assert.equal(nalus[1].byteOffset, buf.byteOffset + 9);
  });

  it('ignores bytes before the first start code and empty NAL units', () => {
    assert.deepEqual(splitAnnexB(hex('ff ee 00 00 01 09 f0')), [hex('09 f0')]);
    assert.deepEqual(splitAnnexB(hex('00 00 01 00 00 01 67 01')), [hex('67 01')]);
    assert.deepEqual(splitAnnexB(hex('67 42 00 1e')), []);
    assert.deepEqual(splitAnnexB(hex('')), []);
    assert.deepEqual(splitAnnexB(hex('00 00 01')), []);
  });

  it('splits the fixture into its 65 NAL units', () => {
    const nalus = splitAnnexB(FIXTURE);
    assert.equal(nalus.length, 65);
    assert.deepEqual(types(nalus).slice(0, 9), [9, 7, 8, 6, 5, 5, 5, 5, 9]);
  });
});

describe('nalType / firstMbInSlice', () => {
  it('reads nal_unit_type', () => {
    assert.equal(nalType(hex('67')), NalType.SPS);
    assert.equal(nalType(hex('65 88')), NalType.IDR);
    assert.equal(nalType(hex('7c 85')), NalType.FU_A);
    assert.equal(nalType(hex('')), -1);
  });

  it('reads first_mb_in_slice, -1 when the header is cut short', () => {
    assert.equal(firstMbInSlice(hex('65 88 84')), 0); // '1' → 0
    assert.equal(firstMbInSlice(hex('41 20')), 3); // '00100' → 3
    assert.equal(firstMbInSlice(hex('41 00')), -1);
    assert.equal(firstMbInSlice(hex('41')), -1);
    const slices = splitAnnexB(FIXTURE).filter((nal) => nalType(nal) === 1 || nalType(nal) === 5);
    assert.deepEqual(
      slices.slice(0, 8).map((nal) => firstMbInSlice(nal)),
      [...SLICE_FIRST_MBS, ...SLICE_FIRST_MBS],
    );
  });
});

describe('AnnexBReader', () => {
  it('groups the fixture into the same access units as ffprobe', () => {
    const aus = readAll(new AnnexBReader(), [FIXTURE]);
    assert.equal(aus.length, 12);
    const starts = aus.map((au) => au[0].byteOffset - FIXTURE.byteOffset - 4); // AUDs have 4-byte start codes
    const sizes = starts.map((s, i) => (i + 1 < starts.length ? starts[i + 1] : FIXTURE.length) - s);
    assert.deepEqual(sizes, FFPROBE_PACKET_SIZES);
    assert.deepEqual(types(aus[0]), [9, 7, 8, 6, 5, 5, 5, 5]);
    assert.deepEqual(types(aus[6]), [9, 7, 8, 5, 5, 5, 5]);
    for (const i of [1, 2, 3, 4, 5, 7, 8, 9, 10, 11]) assert.deepEqual(types(aus[i]), [9, 1, 1, 1, 1]);
  });

  it('finds access units by first_mb_in_slice when there are no AUDs', () => {
    // Rebuild the stream without AUDs, alternating 3- and 4-byte start codes.
    const nalus = splitAnnexB(FIXTURE).filter((nal) => nalType(nal) !== NalType.AUD);
    const stream = Buffer.concat(nalus.flatMap((nal, i) => [hex(i % 2 ? '000001' : '00000001'), nal]));
    const aus = readAll(new AnnexBReader(), [stream]);
    assert.equal(aus.length, 12);
    assert.deepEqual(types(aus[0]), [7, 8, 6, 5, 5, 5, 5]);
    assert.deepEqual(types(aus[6]), [7, 8, 5, 5, 5, 5]);
    assert.deepEqual(types(aus[11]), [1, 1, 1, 1]);
    assert.deepEqual(aus.flat(), nalus);
  });

  it('gives the same NAL units and access units whatever the chunking (property)', () => {
    const expected = readAll(new AnnexBReader(), [FIXTURE]);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
        const aus = readAll(new AnnexBReader(), chunksOf(FIXTURE, cuts));
        assert.deepEqual(aus, expected);
      }),
      { numRuns: 200 },
    );
  });

  it('handles start codes split across chunks byte by byte', () => {
    const stream = hex('00 00 00 01 09 f0 00 00 00 01 67 42 00 00 01 68 ce 00 00 01 65 88 00 00 00 01 09 f0');
    const oneByte = [...stream].map((b) => Buffer.from([b]));
    const aus = readAll(new AnnexBReader(), oneByte);
    assert.deepEqual(aus, [[hex('09 f0'), hex('67 42'), hex('68 ce'), hex('65 88')], [hex('09 f0')]]);
  });

  it('keeps NAL units of a chunk as views of it', () => {
    const reader = new AnnexBReader();
    const aus = reader.push(FIXTURE);
    assert.equal(aus[0][0].buffer, FIXTURE.buffer);
  });

  it('keeps end-of-sequence and filler with the current access unit', () => {
    const stream = hex('000001 65 88  000001 0c ff ff 80  000001 0a  000001 41 9a');
    const aus = readAll(new AnnexBReader(), [stream]);
    assert.deepEqual(aus.map(types), [[5, 12, 10], [1]]);
  });

  it('refuses a NAL unit larger than maxNalSize', () => {
    const reader = new AnnexBReader({ maxNalSize: 100 });
    reader.push(hex('00 00 01 65'));
    reader.push(Buffer.alloc(99, 0xaa));
    assert.throws(() => reader.push(Buffer.alloc(2, 0xaa)), MediaFormatError);
  });
});
