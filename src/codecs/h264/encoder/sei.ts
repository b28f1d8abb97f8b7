import { Buffer } from 'node:buffer';
import { buildNalUnit, NalUnitType, nalHeaderByte, unescapeRbsp } from './nal.js';

/**
 * UUID of smolrtsp's timestamp SEI (user_data_unregistered, payloadType 5), made up for this
 * project: 5a2c6f1e-9b47-4d3a-8e61-73f0c2d9b4a8. The payload after the UUID is
 * uint64 BE generation wall-clock time in microseconds since the Unix epoch, then
 * uint32 BE frame number.
 */
export const SMOLRTSP_TIMESTAMP_SEI_UUID: Buffer = Buffer.from('5a2c6f1e9b474d3a8e6173f0c2d9b4a8', 'hex');

const SEI_PAYLOAD_USER_DATA_UNREGISTERED = 5;
const TIMESTAMP_PAYLOAD_SIZE = 16 + 8 + 4;

/** What parseTimestampSei reads back. */
export interface TimestampSei {
  /** Generation time, microseconds since the Unix epoch. */
  wallClockUs: number;
  /** Same instant in (fractional) milliseconds. */
  wallClockMs: number;
  /** Frame number (mod 2^32). */
  frameNumber: number;
}

/** SEI NAL unit (nal_ref_idc 0, type 6) carrying the generation time and frame number. */
export function writeTimestampSei(wallClockMs: number, frameNumber: number): Buffer {
  const rbsp = Buffer.allocUnsafe(2 + TIMESTAMP_PAYLOAD_SIZE + 1);
  rbsp[0] = SEI_PAYLOAD_USER_DATA_UNREGISTERED; // payloadType (< 255: one byte)
  rbsp[1] = TIMESTAMP_PAYLOAD_SIZE; // payloadSize
  SMOLRTSP_TIMESTAMP_SEI_UUID.copy(rbsp, 2);
  const us = Math.max(0, Math.round(wallClockMs * 1000));
  // Split by arithmetic, not bit ops: microsecond times exceed 32 bits (safe up to 2^53).
  const hi = Math.floor(us / 0x1_0000_0000);
  rbsp.writeUInt32BE(hi >>> 0, 18);
  rbsp.writeUInt32BE(us - hi * 0x1_0000_0000, 22);
  rbsp.writeUInt32BE(frameNumber >>> 0, 26);
  rbsp[30] = 0x80; // rbsp_trailing_bits
  return buildNalUnit(nalHeaderByte(0, NalUnitType.Sei), rbsp);
}

/**
 * Reads the smolrtsp timestamp out of an SEI NAL unit (header byte first, escaped payload as sent).
 * Returns null for any other NAL unit, or an SEI without our message; never throws on bad input.
 */
export function parseTimestampSei(nal: Uint8Array): TimestampSei | null {
  if (nal.length < 2 || (nal[0] & 0x1f) !== NalUnitType.Sei) return null;
  const rbsp = unescapeRbsp(nal.subarray(1));
  let pos = 0;
  // sei_rbsp: messages until the trailing bits byte (0x80).
  while (pos < rbsp.length && !(rbsp[pos] === 0x80 && pos === rbsp.length - 1)) {
    let type = 0;
    while (pos < rbsp.length && rbsp[pos] === 0xff) {
      type += 255;
      pos++;
    }
    if (pos >= rbsp.length) return null;
    type += rbsp[pos++];
    let size = 0;
    while (pos < rbsp.length && rbsp[pos] === 0xff) {
      size += 255;
      pos++;
    }
    if (pos >= rbsp.length) return null;
    size += rbsp[pos++];
    if (pos + size > rbsp.length) return null;
    if (type === SEI_PAYLOAD_USER_DATA_UNREGISTERED && size >= TIMESTAMP_PAYLOAD_SIZE) {
      let ours = true;
      for (let i = 0; i < 16; i++) {
        if (rbsp[pos + i] !== SMOLRTSP_TIMESTAMP_SEI_UUID[i]) {
          ours = false;
          break;
        }
      }
      if (ours) {
        const view = new DataView(rbsp.buffer, rbsp.byteOffset + pos + 16, 12);
        const wallClockUs = view.getUint32(0) * 0x1_0000_0000 + view.getUint32(4);
        return { wallClockUs, wallClockMs: wallClockUs / 1000, frameNumber: view.getUint32(8) };
      }
    }
    pos += size;
  }
  return null;
}
