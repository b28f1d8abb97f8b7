/**
 * RTP packets through readRtpHeader and every depacketizer, as a relay or a test client receives
 * them: H.264 (RFC 6184 mode 1), H.265 (RFC 7798, with and without DONL), AAC (RFC 3640 AAC-hbr),
 * MJPEG (RFC 2435), Opus (RFC 7587) and G.711. Input: a sequence of packets, each preceded by a
 * 16-bit length; each depacketizer gets the whole sequence.
 *
 * Invariants: nothing but RtpFormatError (an RtspError) or MediaFormatError is thrown; H.264/H.265
 * access units never hold an empty NAL unit; the H.264 counters stay non-negative integers.
 */
import { Buffer } from 'node:buffer';
import { AacDepacketizer } from '../../src/codecs/aac/depacketizer.js';
import { G711Depacketizer } from '../../src/codecs/g711/depacketizer.js';
import { H264Depacketizer } from '../../src/codecs/h264/depacketizer.js';
import { H265Depacketizer } from '../../src/codecs/h265/depacketizer.js';
import { MjpegDepacketizer } from '../../src/codecs/mjpeg/depacketizer.js';
import { OpusDepacketizer } from '../../src/codecs/opus/depacketizer.js';
import { readRtpHeader } from '../../src/rtp/packet.js';
import { codecTyped, type FuzzTarget, InvariantViolation, type Rng, typed } from '../engine.js';

function packets(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos + 2 <= data.length) {
    const n = data.readUInt16BE(pos);
    pos += 2;
    out.push(data.subarray(pos, pos + n));
    pos += n;
  }
  return out;
}

/** Makes the length prefixes consistent and the RTP version 2, so packets reach the payload code. */
function fixFraming(data: Buffer, rng: Rng, maxLen: number): Buffer {
  const parts = packets(data);
  if (parts.length === 0 || rng.chance(0.2)) {
    const p = Buffer.alloc(13 + rng.below(20));
    p[0] = 0x80;
    p[1] = rng.chance(0.5) ? 0xe0 : 0x60;
    p[12] = rng.pick([0x65, 0x41, 0x78, 0x7c, 0x1c, 0x67, 0x18, 0x19, 0x1a, 0x1b, 0x1d]);
    parts.push(p);
  }
  const out: Buffer[] = [];
  for (const p of parts) {
    const copy = Buffer.from(p);
    if (copy.length > 0) copy[0] = (copy[0] & 0x3f) | 0x80;
    const len = Buffer.alloc(2);
    len.writeUInt16BE(copy.length);
    out.push(len, copy);
  }
  const joined = Buffer.concat(out);
  return joined.length > maxLen ? data : joined;
}

export const rtpTarget: FuzzTarget = {
  name: 'rtp',
  description:
    'readRtpHeader and the H.264, H.265, AAC, MJPEG, Opus and G.711 depacketizers on length-prefixed packets',
  maxLen: 2048,
  dictionary: [
    '\x80\x60',
    '\x80\xe0',
    '\x90\x60',
    '\xa0\x60',
    '\x8f\x60',
    '\x00\x01',
    '\x00\x00\x00\x00',
    '\x00\x0c',
    '\x00\x0d',
    '\x65',
    '\x41',
    '\x67',
    '\x68',
    '\x06',
    '\x09',
    '\x78',
    '\x18',
    '\x19',
    '\x1a',
    '\x1b',
    '\x7c\x85',
    '\x7c\x45',
    '\x7c\x05',
    '\x5c\x81',
    '\x1d',
    '\x1e',
    '\x1f',
    '\x00',
    '\xff',
    '\xff\xff',
    '\xbe\xde\x00\x01',
    '\x40\x01',
    '\x62\x01',
    '\x60\x01',
    '\x26\x01',
    '\x02\x01',
    '\x00\x10',
    '\x00\x00\x00\x00\x01\x50\x1e\x0f',
    '\x78\x00',
  ],
  mutators: [fixFraming],
  run(data: Buffer) {
    const list = packets(data);
    const depacketizer = new H264Depacketizer();
    const units = [];
    for (const packet of list) {
      typed(() => readRtpHeader(packet));
      const au = codecTyped(() => depacketizer.push(packet));
      if (au) units.push(au);
    }
    units.push(...depacketizer.flush());
    for (const au of units) {
      if (au.nalus.length === 0) throw new InvariantViolation('H.264 access unit without NAL units');
      for (const nal of au.nalus) if (nal.length === 0) throw new InvariantViolation('empty H.264 NAL unit');
    }
    for (const n of [depacketizer.lostPackets, depacketizer.droppedFragmentCount]) {
      if (!Number.isSafeInteger(n) || n < 0) throw new InvariantViolation(`counter ${n}`);
    }

    for (const donl of [false, true]) {
      const h265 = new H265Depacketizer({ donl });
      const units265 = [];
      for (const packet of list) {
        const au = codecTyped(() => h265.push(packet));
        if (au) units265.push(au);
      }
      units265.push(...h265.flush());
      for (const au of units265) {
        for (const nal of au.nalus)
          if (nal.length === 0) throw new InvariantViolation('empty H.265 NAL unit');
      }
    }
    const others = [
      new AacDepacketizer(),
      new MjpegDepacketizer(),
      new OpusDepacketizer(),
      new G711Depacketizer(),
    ];
    for (const other of others) for (const packet of list) codecTyped(() => other.push(packet));
  },
};
