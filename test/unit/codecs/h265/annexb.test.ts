import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MediaFormatError } from '../../../../src/codecs/errors.js';
import { splitAnnexB } from '../../../../src/codecs/h264/annexb.js';
import {
  AnnexBNalScanner,
  H265AnnexBReader,
  H265NalType,
  h265LayerId,
  h265NalType,
  h265TemporalId,
  isFirstSliceSegment,
  isH265Irap,
  isH265ParameterSet,
  isH265Vcl,
} from '../../../../src/codecs/h265/annexb.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/**
 * 12 frames of 320x240 libx265, 2 slices per picture, keyint 6 (IDR_N_LP), 2 B-frames, AUDs, VPS/SPS/PPS
 * repeated, an MD5 decoded-picture-hash suffix SEI after every picture:
 *   ffmpeg -f lavfi -i testsrc=size=320x240:rate=25 -frames:v 12 -c:v libx265 -preset veryfast
 *     -x265-params slices=2:keyint=6:min-keyint=6:scenecut=0:bframes=2:aud=1:hash=2:repeat-headers=1:open-gop=0
 *     -f hevc slices-320x240.hevc
 */
const FIXTURE = readFileSync(new URL('./fixtures/slices-320x240.hevc', import.meta.url));
/** `ffprobe -show_entries packet=size` of the fixture: bytes of each access unit, start codes included. */
const FFPROBE_PACKET_SIZES = [5089, 333, 137, 76, 253, 61, 5211, 309, 137, 61, 234, 61];
/** The interop clip: 50 frames, IDR every 25, no AUDs (see test/interop/h265.test.ts for the command). */
const CLIP = readFileSync(new URL('./fixtures/clip-640x480-25fps.hevc', import.meta.url));

function readAll(reader: H265AnnexBReader, chunks: Buffer[]): Buffer[][] {
  const aus: Buffer[][] = [];
  for (const chunk of chunks) aus.push(...reader.push(chunk));
  aus.push(...reader.flush());
  return aus;
}

function scanAll(scanner: AnnexBNalScanner, chunks: Buffer[]): Buffer[] {
  const nalus: Buffer[] = [];
  for (const chunk of chunks) nalus.push(...scanner.push(chunk));
  nalus.push(...scanner.flush());
  return nalus;
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

const types = (au: Buffer[]) => au.map((nal) => h265NalType(nal));

/**
 * Where ffmpeg's HEVC parser cuts packets: at the 3-byte start code in front of an access unit's first
 * NAL unit (the leading zero of a 4-byte start code goes with the packet before); the first packet
 * starts at 0.
 */
function packetStart(file: Buffer, nal: Buffer): number {
  return Math.max(0, nal.byteOffset - file.byteOffset - 3);
}

describe('H.265 NAL unit header', () => {
  it('reads nal_unit_type, nuh_layer_id and TemporalId from the two header bytes', () => {
    assert.equal(h265NalType(hex('40 01')), H265NalType.VPS);
    assert.equal(h265NalType(hex('42 01')), H265NalType.SPS);
    assert.equal(h265NalType(hex('44 01')), H265NalType.PPS);
    assert.equal(h265NalType(hex('26 01 af')), H265NalType.IDR_W_RADL);
    assert.equal(h265NalType(hex('62 01')), H265NalType.FU);
    assert.equal(h265NalType(hex('60 01')), H265NalType.AP);
    // 0x03 0x11: type 1, layer (1 << 5) | 2 = 34, nuh_temporal_id_plus1 1.
    assert.equal(h265NalType(hex('03 11')), 1);
    assert.equal(h265LayerId(hex('03 11')), 34);
    assert.equal(h265TemporalId(hex('03 11')), 0);
    // 0x7f 0xff: F 0, type 63, layer 63, TemporalId 6.
    assert.equal(h265NalType(hex('7f ff')), 63);
    assert.equal(h265LayerId(hex('7f ff')), 63);
    assert.equal(h265TemporalId(hex('7f ff')), 6);
    // The forbidden bit does not leak into the type.
    assert.equal(h265NalType(hex('c0 01')), H265NalType.VPS);
  });

  it('gives -1 for a header cut short', () => {
    assert.equal(h265NalType(hex('')), -1);
    assert.equal(h265NalType(hex('40')), -1);
    assert.equal(h265LayerId(hex('40')), -1);
    assert.equal(h265TemporalId(hex('40')), -1);
  });

  it('classifies IRAP (16..23), VCL (0..31) and parameter sets', () => {
    for (let type = 0; type < 64; type++) {
      assert.equal(isH265Irap(type), type >= 16 && type <= 23, `IRAP ${type}`);
      assert.equal(isH265Vcl(type), type <= 31, `VCL ${type}`);
      assert.equal(isH265ParameterSet(type), type >= 32 && type <= 34, `parameter set ${type}`);
    }
    for (const t of [16, 17, 18, 19, 20, 21]) assert.ok(isH265Irap(t));
    assert.ok(!isH265Irap(H265NalType.RASL_R));
    assert.ok(!isH265Irap(-1));
  });

  it('reads first_slice_segment_in_pic_flag', () => {
    assert.equal(isFirstSliceSegment(hex('02 01 d0')), true);
    assert.equal(isFirstSliceSegment(hex('02 01 50')), false);
    assert.equal(isFirstSliceSegment(hex('02 01')), false);
  });
});

describe('AnnexBNalScanner', () => {
  it('splits on 3- and 4-byte start codes, trimming trailing zeros, as views', () => {
    const buf = hex('00 00 00 01 40 01 aa 00 00 01 42 01 bb 00 00 00 00 01 26 01 cc 00 00');
    const scanner = new AnnexBNalScanner();
    const nalus = scanAll(scanner, [buf]);
    assert.deepEqual(nalus, [hex('40 01 aa'), hex('42 01 bb'), hex('26 01 cc')]);
    assert.equal(nalus[1].buffer, buf.buffer);
    assert.equal(nalus[1].byteOffset, buf.byteOffset + 10);
  });

  it('ignores bytes before the first start code and empty NAL units', () => {
    assert.deepEqual(scanAll(new AnnexBNalScanner(), [hex('ff ee 00 00 01 46 01 50')]), [hex('46 01 50')]);
    assert.deepEqual(scanAll(new AnnexBNalScanner(), [hex('00 00 01 00 00 01 40 01')]), [hex('40 01')]);
    assert.deepEqual(scanAll(new AnnexBNalScanner(), [hex('40 01 0c')]), []);
    assert.deepEqual(scanAll(new AnnexBNalScanner(), [hex('00 00 01')]), []);
  });

  it('finds the same NAL units as splitAnnexB in the fixture, whatever the chunking (property)', () => {
    const expected = splitAnnexB(FIXTURE);
    assert.equal(expected.length, 56);
    assert.deepEqual(scanAll(new AnnexBNalScanner(), [FIXTURE]), expected);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
        assert.deepEqual(scanAll(new AnnexBNalScanner(), chunksOf(FIXTURE, cuts)), expected);
      }),
      { numRuns: 200 },
    );
  });

  it('handles start codes split across chunks byte by byte', () => {
    const stream = hex(
      '00 00 00 01 46 01 50 00 00 00 01 40 01 00 00 01 42 01 00 00 01 28 01 af 00 00 00 01 46 01',
    );
    const nalus = scanAll(
      new AnnexBNalScanner(),
      [...stream].map((b) => Buffer.from([b])),
    );
    assert.deepEqual(nalus, [hex('46 01 50'), hex('40 01'), hex('42 01'), hex('28 01 af'), hex('46 01')]);
  });

  it('refuses a NAL unit larger than maxNalSize', () => {
    const scanner = new AnnexBNalScanner({ maxNalSize: 100 });
    scanner.push(hex('00 00 01 26 01'));
    scanner.push(Buffer.alloc(98, 0xaa));
    assert.throws(() => scanner.push(Buffer.alloc(2, 0xaa)), MediaFormatError);
  });
});

describe('H265AnnexBReader', () => {
  it('groups the fixture into the same access units as ffprobe', () => {
    const aus = readAll(new H265AnnexBReader(), [FIXTURE]);
    assert.equal(aus.length, 12);
    const starts = aus.map((au, i) => (i === 0 ? 0 : packetStart(FIXTURE, au[0])));
    const sizes = starts.map((s, i) => (i + 1 < starts.length ? starts[i + 1] : FIXTURE.length) - s);
    assert.deepEqual(sizes, FFPROBE_PACKET_SIZES);
    // AUD, VPS, SPS, PPS, x265 info SEI, two IDR_N_LP slices, MD5 suffix SEI.
    assert.deepEqual(types(aus[0]), [35, 32, 33, 34, 39, 20, 20, 40]);
    assert.deepEqual(types(aus[6]), [35, 32, 33, 34, 39, 20, 20, 40]);
    assert.deepEqual(types(aus[1]), [35, 1, 1, 40]);
    assert.deepEqual(types(aus[3]), [35, 0, 0, 40]);
  });

  it('finds access units by first_slice_segment_in_pic_flag when there are no AUDs', () => {
    // Without AUDs, an access unit can only be told from the next by its first slice segment (or a
    // parameter set / prefix SEI); the suffix SEI must stay with the picture before it.
    const nalus = splitAnnexB(FIXTURE).filter((nal) => h265NalType(nal) !== H265NalType.AUD);
    const stream = Buffer.concat(nalus.flatMap((nal, i) => [hex(i % 2 ? '000001' : '00000001'), nal]));
    const aus = readAll(new H265AnnexBReader(), [stream]);
    assert.equal(aus.length, 12);
    assert.deepEqual(types(aus[0]), [32, 33, 34, 39, 20, 20, 40]);
    assert.deepEqual(types(aus[1]), [1, 1, 40]);
    assert.deepEqual(types(aus[11]), [0, 0, 40]);
    assert.deepEqual(aus.flat(), nalus);
  });

  it('reads the interop clip as 50 access units with IDRs at 0 and 25', () => {
    const aus = readAll(new H265AnnexBReader(), [CLIP]);
    assert.equal(aus.length, 50);
    assert.deepEqual(types(aus[0]), [32, 33, 34, 39, 20]);
    assert.deepEqual(types(aus[25]), [32, 33, 34, 39, 20]);
    const keyframes = aus.flatMap((au, i) => (au.some((nal) => isH265Irap(h265NalType(nal))) ? [i] : []));
    assert.deepEqual(keyframes, [0, 25]);
  });

  it('gives the same access units whatever the chunking (property)', () => {
    const expected = readAll(new H265AnnexBReader(), [FIXTURE]);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
        assert.deepEqual(readAll(new H265AnnexBReader(), chunksOf(FIXTURE, cuts)), expected);
      }),
      { numRuns: 100 },
    );
  });

  it('keeps EOS, EOB, suffix SEI and filler with the access unit they follow', () => {
    // IDR_N_LP (first slice), FD, suffix SEI, EOS, EOB | TRAIL_R (first slice).
    const stream = hex(
      '000001 2801 af  000001 4c01 ffff  000001 5001 05  000001 4801  000001 4a01  000001 0201 d0',
    );
    const aus = readAll(new H265AnnexBReader(), [stream]);
    assert.deepEqual(aus.map(types), [[20, 38, 40, 36, 37], [1]]);
  });

  it('starts an access unit at reserved types 41..44 and unspecified 48..55, not at 45..47 or 56..63', () => {
    // TRAIL_R, type 41, TRAIL_R, type 48, TRAIL_R, type 45, type 56, TRAIL_R (each slice a first segment).
    const stream = hex(
      '000001 0201 d0  000001 5201 01  000001 0201 d0  000001 6001 01  000001 0201 d0  000001 5a01 01' +
        '000001 7001 01  000001 0201 d0',
    );
    const aus = readAll(new H265AnnexBReader(), [stream]);
    assert.deepEqual(aus.map(types), [[1], [41, 1], [48, 1, 45, 56], [1]]);
  });

  it('does not start an access unit at a slice or parameter set of another layer', () => {
    // Base layer IDR, then a layer-1 SPS and a layer-1 first slice (same AU), then a base layer TRAIL_R.
    const stream = hex('000001 2801 af  000001 4209 01  000001 2809 af  000001 0201 d0');
    const aus = readAll(new H265AnnexBReader(), [stream]);
    assert.deepEqual(
      aus.map((au) => au.map((nal) => `${h265NalType(nal)}/${h265LayerId(nal)}`)),
      [['20/0', '33/1', '20/1'], ['1/0']],
    );
  });

  it('keeps a dependent slice segment (first_slice_segment_in_pic_flag 0) in its picture', () => {
    const stream = hex('000001 0201 d0  000001 0201 40  000001 0201 c0');
    const aus = readAll(new H265AnnexBReader(), [stream]);
    assert.deepEqual(
      aus.map((au) => au.length),
      [2, 1],
    );
  });

  it('keeps NAL units of a chunk as views of it', () => {
    const aus = new H265AnnexBReader().push(FIXTURE);
    assert.equal(aus[0][0].buffer, FIXTURE.buffer);
  });
});
