/**
 * ITU-T G.711 companding between 16-bit linear PCM and 8-bit µ-law / A-law, as the ITU reference
 * (G.191 software tools) does it: negative samples take the one's complement, µ-law works on 14
 * bits with a bias of 33, A-law on 13 bits; a code decodes to the middle of its interval, and the
 * encoder truncates into the interval, so decode(encode(x)) is the level nearest to x.
 */
import { Buffer } from 'node:buffer';

/** 16-bit signed sample (clamped) → µ-law byte. 0 → 0xff, 32767 → 0x80, -32768 → 0x00. */
export function linearToMulaw(sample: number): number {
  const s = clamp16(sample);
  // One's complement magnitude on 14 bits, biased by 33 and saturated at 13 bits.
  let magnitude = ((s < 0 ? ~s : s) >> 2) + 33;
  if (magnitude > 0x1fff) magnitude = 0x1fff;
  // Segment 1..8: the position of the top bit of magnitude (bit 5 for segment 1 ... bit 12 for 8).
  const segment = 27 - Math.clz32(magnitude);
  const mantissa = (magnitude >> segment) & 0x0f;
  const code = ((8 - segment) << 4) | (0x0f - mantissa);
  return s >= 0 ? code | 0x80 : code;
}

/** µ-law byte → 16-bit sample (range ±32124). */
export function mulawToLinear(code: number): number {
  const inverted = ~code & 0xff;
  const exponent = (inverted >> 4) & 0x07;
  const mantissa = inverted & 0x0f;
  const step = 8 << exponent;
  const magnitude = (0x80 << exponent) + step * mantissa + step / 2 - 132;
  return (code & 0x80) !== 0 ? magnitude : 0 - magnitude; // 0 - 0 is +0
}

/** 16-bit signed sample (clamped) → A-law byte. 0 → 0xd5, -1 → 0x55, 32767 → 0xaa, -32768 → 0x2a. */
export function linearToAlaw(sample: number): number {
  const s = clamp16(sample);
  // One's complement magnitude on 12 bits (13-bit A-law input without its sign).
  let magnitude = (s < 0 ? ~s : s) >> 4;
  let code: number;
  if (magnitude < 16) {
    code = magnitude; // segment 0: linear, like segment 1
  } else {
    let exponent = 1;
    while (magnitude > 31) {
      magnitude >>= 1;
      exponent++;
    }
    code = (exponent << 4) | (magnitude - 16);
  }
  if (s >= 0) code |= 0x80;
  return code ^ 0x55; // even bits inverted (G.711 A-law transmission rule)
}

/** A-law byte → 16-bit sample (range ±32256). */
export function alawToLinear(code: number): number {
  const value = (code ^ 0x55) & 0xff;
  const exponent = (value >> 4) & 0x07;
  let mantissa = value & 0x0f;
  if (exponent > 0) mantissa += 16;
  let magnitude = (mantissa << 4) + 8;
  if (exponent > 1) magnitude <<= exponent - 1;
  return (value & 0x80) !== 0 ? magnitude : -magnitude;
}

function clamp16(sample: number): number {
  const s = Math.trunc(sample);
  return Math.min(32767, Math.max(-32768, s));
}

const MULAW_DECODE = Int16Array.from({ length: 256 }, (_, i) => mulawToLinear(i));
const ALAW_DECODE = Int16Array.from({ length: 256 }, (_, i) => alawToLinear(i));

/** Linear samples (Int16Array, or s16le bytes) → µ-law bytes, one per sample. */
export function encodeMulaw(pcm: Int16Array | Buffer): Buffer {
  return encodeWith(pcm, linearToMulaw);
}

/** Linear samples (Int16Array, or s16le bytes) → A-law bytes, one per sample. */
export function encodeAlaw(pcm: Int16Array | Buffer): Buffer {
  return encodeWith(pcm, linearToAlaw);
}

export function decodeMulaw(codes: Uint8Array): Int16Array {
  const out = new Int16Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = MULAW_DECODE[codes[i]];
  return out;
}

export function decodeAlaw(codes: Uint8Array): Int16Array {
  const out = new Int16Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = ALAW_DECODE[codes[i]];
  return out;
}

function encodeWith(pcm: Int16Array | Buffer, encode: (sample: number) => number): Buffer {
  if (pcm instanceof Int16Array) {
    const out = Buffer.allocUnsafe(pcm.length);
    for (let i = 0; i < pcm.length; i++) out[i] = encode(pcm[i]);
    return out;
  }
  const count = pcm.length >> 1;
  const out = Buffer.allocUnsafe(count);
  for (let i = 0; i < count; i++) out[i] = encode(pcm.readInt16LE(i * 2));
  return out;
}
