import { Buffer } from 'node:buffer';

/** nal_unit_type values this encoder writes. */
export const NalUnitType = {
  SliceNonIdr: 1,
  SliceIdr: 5,
  Sei: 6,
  Sps: 7,
  Pps: 8,
} as const;

/** forbidden_zero_bit(0) | nal_ref_idc(2 bits) | nal_unit_type(5 bits). */
export function nalHeaderByte(nalRefIdc: number, nalUnitType: number): number {
  return ((nalRefIdc & 3) << 5) | (nalUnitType & 31);
}

/**
 * Builds a NAL unit (header byte + escaped payload, no start code) from an RBSP: inserts an
 * emulation_prevention_three_byte after every 0x00 0x00 that is followed by a byte <= 0x03, and
 * after a trailing 0x00 0x00, so the payload can never contain a start code prefix.
 * Returns a fresh Buffer (the rbsp may be a reused scratch view).
 */
export function buildNalUnit(headerByte: number, rbsp: Uint8Array): Buffer {
  const n = rbsp.length;
  // First pass counts insertions so the output is allocated once at its exact size.
  let inserts = 0;
  let zeros = 0;
  for (let i = 0; i < n; i++) {
    const b = rbsp[i];
    if (zeros >= 2 && b <= 3) {
      inserts++;
      zeros = 0;
    }
    zeros = b === 0 ? zeros + 1 : 0;
  }
  if (zeros >= 2) inserts++;

  const out = Buffer.allocUnsafe(1 + n + inserts);
  out[0] = headerByte;
  if (inserts === 0) {
    out.set(rbsp, 1);
    return out;
  }
  let o = 1;
  zeros = 0;
  for (let i = 0; i < n; i++) {
    const b = rbsp[i];
    if (zeros >= 2 && b <= 3) {
      out[o++] = 3;
      zeros = 0;
    }
    out[o++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  if (zeros >= 2) out[o++] = 3;
  return out;
}

/** Inverse of the escaping in buildNalUnit: drops each 0x03 that follows 0x00 0x00. */
export function unescapeRbsp(payload: Uint8Array): Uint8Array {
  let zeros = 0;
  let escapes = 0;
  for (let i = 0; i < payload.length; i++) {
    const b = payload[i];
    if (zeros >= 2 && b === 3) {
      escapes++;
      zeros = 0;
      continue;
    }
    zeros = b === 0 ? zeros + 1 : 0;
  }
  if (escapes === 0) return payload;
  const out = new Uint8Array(payload.length - escapes);
  let o = 0;
  zeros = 0;
  for (let i = 0; i < payload.length; i++) {
    const b = payload[i];
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out[o++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out;
}
