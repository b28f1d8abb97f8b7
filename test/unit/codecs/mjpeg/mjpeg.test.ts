// Fixtures, made once with:
//   ffmpeg -f lavfi -i testsrc=s=64x48:r=25 -frames:v 1 -c:v mjpeg -pix_fmt yuvj420p -huffman default \
//     -q:v 5 -fflags +bitexact -flags +bitexact testsrc-64x48-420.jpg
//   (the same with -slices 3 -threads 3: restart markers every MCU row) testsrc-64x48-420-rst.jpg
//   gst-launch-1.0 videotestsrc num-buffers=1 pattern=smpte ! video/x-raw,format=Y42B,width=64,height=48 \
//     ! jpegenc quality=75 ! filesink location=videotestsrc-64x48-422.jpg
//   (ffmpeg's own 4:2:2 JPEGs sample Y 2x2 and chroma 1x2, which RFC 2435 type 0 cannot describe.)
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MediaFormatError } from '../../../../src/codecs/errors.js';
import { MjpegDepacketizer } from '../../../../src/codecs/mjpeg/depacketizer.js';
import { buildJpegHeader, parseJpeg } from '../../../../src/codecs/mjpeg/jpeg.js';
import { MjpegPacketizer } from '../../../../src/codecs/mjpeg/packetizer.js';
import { quantTablesForQ, ZIGZAG } from '../../../../src/codecs/mjpeg/tables.js';
import { RtpFormatError } from '../../../../src/rtp/errors.js';
import { writeRtpHeader } from '../../../../src/rtp/packet.js';
import { withRtpState } from '../../../helpers/rtp-state.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const J420 = fixture('testsrc-64x48-420.jpg');
const J420_RST = fixture('testsrc-64x48-420-rst.jpg');
const J422 = fixture('videotestsrc-64x48-422.jpg');

/** Offset of the first byte after the SOS segment. */
function scanStart(jpeg: Buffer): number {
  const sos = jpeg.indexOf(hex('ffda'));
  return sos + 2 + jpeg.readUInt16BE(sos + 2);
}

/** Copy of `jpeg` with `bytes` written at the first occurrence of `find` + `at`. */
function patched(jpeg: Buffer, find: string, at: number, bytes: number[]): Buffer {
  const copy = Buffer.from(jpeg);
  copy.set(bytes, copy.indexOf(hex(find)) + at);
  return copy;
}

function rtpPacket(payload: Buffer, seq: number, marker: boolean, timestamp = 3000): Buffer {
  const buf = Buffer.alloc(12 + payload.length);
  writeRtpHeader(buf, 0, { marker, payloadType: 26, sequenceNumber: seq, timestamp, ssrc: 5 });
  payload.copy(buf, 12);
  return buf;
}

describe('JPEG parsing for RFC 2435', () => {
  it('reads size, type, tables, restart interval and the scan of real encoder output', () => {
    const f420 = parseJpeg(J420);
    assert.deepEqual([f420.width, f420.height, f420.type, f420.restartInterval], [64, 48, 1, 0]);
    // ffmpeg writes one table for all components: it serves as luma and chroma table.
    assert.equal(f420.quantTables[0].precision, 0);
    assert.deepEqual(f420.quantTables[0].data, J420.subarray(J420.indexOf(hex('ffdb')) + 5).subarray(0, 64));
    assert.deepEqual(f420.quantTables[1].data, f420.quantTables[0].data);
    assert.deepEqual(f420.scan, J420.subarray(scanStart(J420), J420.length - 2));
    assert.equal(f420.scan.length, 1034);

    const rst = parseJpeg(J420_RST);
    assert.deepEqual([rst.type, rst.restartInterval], [1, 4]); // one MCU row of 4 16x16 MCUs
    assert.ok(
      rst.scan.includes(hex('ffd0')) && rst.scan.includes(hex('ffd1')),
      'RST markers kept in the scan',
    );

    const f422 = parseJpeg(J422);
    assert.deepEqual([f422.width, f422.height, f422.type, f422.restartInterval], [64, 48, 0, 0]);
    assert.notDeepEqual(f422.quantTables[0].data, f422.quantTables[1].data, 'libjpeg: separate chroma table');
    assert.equal(f422.scan.length, 1009);
  });

  it('rejects what RTP/JPEG cannot carry', () => {
    const rejects = (jpeg: Buffer, message: RegExp) =>
      assert.throws(() => parseJpeg(jpeg), { name: 'MediaFormatError', message });
    rejects(hex('0102'), /no SOI/);
    rejects(patched(J420, 'ffc0', 1, [0xc2]), /coding process 0xc2/); // progressive
    rejects(patched(J420, 'ffc0', 4, [12]), /12-bit/);
    rejects(patched(J420, 'ffc0', 11, [0x11]), /sampling 1x1,1x1,1x1/); // 4:4:4
    // ffmpeg's 4:2:2: Y 2x2, chroma 1x2.
    const ffmpeg422 = patched(patched(J420, 'ffc0', 14, [0x12]), 'ffc0', 17, [0x12]);
    rejects(ffmpeg422, /sampling 2x2,1x2,1x2/);
    // A Huffman table other than Annex K (first DC luma symbol changed).
    rejects(patched(J420, 'ffc4', 21, [0x05]), /non-standard Huffman/);
    rejects(J420.subarray(0, J420.length - 2), /no EOI/);
    rejects(J420.subarray(0, 300), /cut off|ends/);
  });

  it('builds the headers a received scan needs: DQT, SOF0, the Annex K DHT, DRI, SOS', () => {
    const frame = parseJpeg(J420_RST);
    const header = buildJpegHeader({
      type: 1,
      width: 64,
      height: 48,
      quantTables: frame.quantTables,
      restartInterval: 4,
    });
    const jpeg = Buffer.concat([header, frame.scan, hex('ffd9')]);
    const again = parseJpeg(jpeg);
    assert.deepEqual(again.scan, frame.scan);
    assert.deepEqual(again.quantTables, frame.quantTables);
    assert.equal(again.restartInterval, 4);
    assert.deepEqual(header.subarray(0, 6), hex('ffd8 ffdb 0084'), 'SOI, DQT with two 64-byte tables');
    assert.ok(
      header.includes(hex('ffc0 0011 08 0030 0040 03 01 22 00 02 11 01 03 11 01')),
      'SOF0 4:2:0 64x48',
    );
    assert.ok(header.includes(hex('ffdd 0004 0004')), 'DRI');
    assert.deepEqual(header.subarray(-14), hex('ffda 000c 03 01 00 02 11 03 11 00 3f 00'), 'SOS');
  });

  it('derives the Q-factor tables of RFC 2435 Appendix A from T.81 Annex K', () => {
    const [luma50, chroma50] = quantTablesForQ(50);
    // Q 50 is Annex K itself; zig-zag order starts 16 11 12 14 12 10 16 14 (luma) and 17 18 18 24 21 24 (chroma).
    assert.deepEqual([...luma50.subarray(0, 8)], [16, 11, 12, 14, 12, 10, 16, 14]);
    assert.deepEqual([...chroma50.subarray(0, 6)], [17, 18, 18, 24, 21, 24]);
    assert.equal(luma50[63], 99);
    const [luma90] = quantTablesForQ(90); // scale 20: (16 * 20 + 50) / 100 = 3
    assert.equal(luma90[0], 3);
    const [luma1] = quantTablesForQ(1); // scale 5000: capped at 255
    assert.equal(luma1[0], 255);
    assert.deepEqual(ZIGZAG.slice(0, 10), [0, 1, 8, 16, 9, 2, 3, 10, 17, 24]);
  });
});

describe('MjpegPacketizer (RFC 2435)', () => {
  it('writes the main header, the quantization table header in the first packet, and fragment offsets', () => {
    const frame = parseJpeg(J420);
    const packetizer = withRtpState(new MjpegPacketizer({ mtu: 600 }), {
      ssrc: 0x01020304,
      initialSequence: 100,
    });
    const batch = packetizer.packetize(J420, 0x11223344);
    // First packet: 8 + 4 + 128 header bytes and 460 scan bytes; the other 574 fit the second (8 + 574).
    assert.equal(batch.packets.length, 2);
    const [p0, p1] = batch.packets.map((p) => p.subarray(12));
    assert.deepEqual(batch.packets[0].subarray(0, 12), hex('80 1a 00 64 11 22 33 44 01 02 03 04'));
    assert.deepEqual(batch.packets[1].subarray(0, 12), hex('80 9a 00 65 11 22 33 44 01 02 03 04'));
    // type-specific 0 | offset 0 | type 1 | Q 255 | 64/8 | 48/8 ; MBZ 0 | precision 0 | length 128.
    assert.deepEqual(p0.subarray(0, 12), hex('00 000000 01 ff 08 06 00 00 0080'));
    assert.deepEqual(p0.subarray(12, 76), frame.quantTables[0].data);
    assert.deepEqual(p0.subarray(76, 140), frame.quantTables[1].data);
    assert.deepEqual(p0.subarray(140), frame.scan.subarray(0, 460));
    assert.deepEqual(p1.subarray(0, 8), hex('00 0001cc 01 ff 08 06'));
    assert.deepEqual(p1.subarray(8), frame.scan.subarray(460));
    assert.equal(batch.keyframe, true);
    assert.deepEqual(packetizer.dimensions, { width: 64, height: 48 });
  });

  it('adds the restart marker header to every packet of a frame with restart markers (type 65)', () => {
    const batch = withRtpState(new MjpegPacketizer({ mtu: 400 }), { ssrc: 1, initialSequence: 0 }).packetize(
      J420_RST,
      0,
    );
    assert.ok(batch.packets.length >= 3);
    batch.packets.forEach((packet, i) => {
      const payload = packet.subarray(12);
      assert.equal(payload[4], 65, 'type 1 + 64');
      // Restart interval 4, F = L = 1, count 0x3fff: not aligned to restart intervals.
      assert.deepEqual(payload.subarray(8, 12), hex('0004 ffff'), `packet ${i}`);
      assert.ok(payload.length <= 400);
    });
  });

  it('round-trips to a JPEG with the same scan and tables, for any mtu', () => {
    for (const jpeg of [J420, J420_RST, J422]) {
      const original = parseJpeg(jpeg);
      fc.assert(
        fc.property(fc.integer({ min: 273, max: 3000 }), (mtu) => {
          const batch = withRtpState(new MjpegPacketizer({ mtu }), {
            ssrc: 1,
            initialSequence: 65534,
          }).packetize(jpeg, 90000);
          const depacketizer = new MjpegDepacketizer();
          const out = batch.packets.map((p) => depacketizer.push(p));
          assert.ok(out.slice(0, -1).every((o) => o === null));
          const picture = out.at(-1)!;
          assert.ok(picture !== null);
          assert.equal(picture.timestamp, 90000);
          assert.deepEqual([picture.width, picture.height], [64, 48]);
          const rebuilt = parseJpeg(picture.jpeg);
          assert.deepEqual(rebuilt.scan, original.scan);
          assert.deepEqual(rebuilt.quantTables, original.quantTables);
          assert.equal(rebuilt.type, original.type);
          assert.equal(rebuilt.restartInterval, original.restartInterval);
          assert.deepEqual(
            picture.jpeg,
            Buffer.concat([
              buildJpegHeader({ ...original, restartInterval: original.restartInterval }),
              original.scan,
              hex('ffd9'),
            ]),
          );
        }),
        { numRuns: 40 },
      );
    }
  });

  it('rejects pictures wider than 2040 and a too small mtu', () => {
    const wide = patched(J420, 'ffc0', 7, [0x08, 0x00]); // width 2048
    assert.throws(
      () => withRtpState(new MjpegPacketizer(), { ssrc: 1, initialSequence: 0 }).packetize(wide, 0),
      MediaFormatError,
    );
    assert.throws(
      () => withRtpState(new MjpegPacketizer({ mtu: 272 }), { ssrc: 1, initialSequence: 0 }),
      RangeError,
    );
  });
});

describe('MjpegDepacketizer', () => {
  it('drops a frame with a lost fragment and delivers the next one', () => {
    const packetizer = withRtpState(new MjpegPacketizer({ mtu: 300 }), { ssrc: 1, initialSequence: 0 });
    const first = packetizer.packetize(J420, 0).packets;
    const second = packetizer.packetize(J422, 3600).packets;
    const depacketizer = new MjpegDepacketizer();
    const out = [...first.filter((_, i) => i !== 2), ...second]
      .map((p) => depacketizer.push(p))
      .filter((o) => o !== null);
    assert.equal(out.length, 1);
    assert.equal(out[0].timestamp, 3600);
    assert.equal(out[0].type, 0);
    assert.equal(depacketizer.lostPackets, 1);
    assert.equal(depacketizer.droppedFrames, 1);
  });

  it('rebuilds Q < 128 frames with the Appendix A tables', () => {
    const scan = parseJpeg(J420).scan;
    const main = hex('00 000000 01 32 08 06'); // Q 50
    const picture = new MjpegDepacketizer().push(rtpPacket(Buffer.concat([main, scan]), 1, true))!;
    const [luma, chroma] = quantTablesForQ(50);
    const rebuilt = parseJpeg(picture.jpeg);
    assert.deepEqual(rebuilt.quantTables[0].data, luma);
    assert.deepEqual(rebuilt.quantTables[1].data, chroma);
    assert.equal(picture.q, 50);
  });

  it('throws RtpFormatError on unsupported or malformed payloads', () => {
    const bad = (payload: string, message: RegExp) =>
      assert.throws(
        () => new MjpegDepacketizer().push(rtpPacket(hex(payload), 1, true)),
        (e) => e instanceof RtpFormatError && message.test(e.message),
      );
    bad('00 000000 01 ff 08', /main header/);
    bad('00 000000 02 ff 08 06 aa', /type 2/);
    bad('00 000000 01 00 08 06 aa', /Q of 0/);
    bad('00 000000 41 ff 08 06 00', /restart marker header/);
    bad('00 000000 01 ff 08 06 00 00', /quantization table header/);
    bad('00 000000 01 ff 08 06 00 00 0080 aabb', /tables cut off/);
    bad('00 000000 01 ff 08 06 00 00 0000 aabb', /Q=255 without tables/);
  });
});
