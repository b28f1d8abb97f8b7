/**
 * RTCP compound packets as received from clients (RR, SDES, BYE, APP, anything else).
 * Invariant: nothing but RtcpFormatError (an RtspError) is thrown, by the parser or by findCname
 * on its result; buffers in the result lie inside the input.
 */
import { Buffer } from 'node:buffer';
import { findCname, parseRtcpCompound } from '../../src/rtp/rtcp.js';
import { type FuzzTarget, InvariantViolation, type Rng, typed } from '../engine.js';

/** Rewrites each packet's length field so the compound's framing is consistent (reaches bodies). */
function fixLengths(data: Buffer, rng: Rng): Buffer {
  const out = Buffer.from(data);
  let pos = 0;
  while (pos + 4 <= out.length) {
    out[pos] = (out[pos] & 0x3f) | 0x80;
    const left = out.length - pos;
    const words = rng.chance(0.5)
      ? Math.floor(left / 4) - 1
      : Math.min(out.readUInt16BE(pos + 2), Math.floor(left / 4) - 1);
    if (words < 0) break;
    out.writeUInt16BE(words, pos + 2);
    pos += (words + 1) * 4;
  }
  return out;
}

export const rtcpTarget: FuzzTarget = {
  name: 'rtcp',
  description: 'parseRtcpCompound and findCname on one datagram',
  maxLen: 1024,
  dictionary: [
    '\x80\xc8\x00\x06',
    '\x81\xc8\x00\x0c',
    '\x81\xc9\x00\x07',
    '\x80\xc9\x00\x01',
    '\x81\xca\x00\x03',
    '\x82\xca',
    '\x81\xcb\x00\x01',
    '\x82\xcb\x00\x02',
    '\x80\xcc\x00\x02',
    '\xa0\xc8',
    '\x80\xcd',
    '\x80\xce',
    '\x01\x04host',
    '\x01',
    '\x02',
    '\x08',
    '\x00',
    '\x00\x00\x00\x00',
    '\x12\x34\x56\x78',
    '\xff\xff\xff\xff',
    'name',
    'CNAME',
  ],
  mutators: [(data, rng) => fixLengths(data, rng)],
  run(data: Buffer) {
    const packets = typed(() => parseRtcpCompound(data));
    if (packets === undefined) return;
    typed(() => findCname(packets));
    typed(() => findCname(packets, 0x12345678));
    for (const p of packets) {
      for (const value of Object.values(p)) {
        if (value instanceof Uint8Array && value.length > 0 && value.buffer === data.buffer) {
          const start = value.byteOffset - data.byteOffset;
          if (start < 0 || start + value.length > data.length)
            throw new InvariantViolation('RTCP view outside the input');
        }
      }
    }
  },
};
