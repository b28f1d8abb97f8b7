/**
 * Bit-level reading of H.264/H.265 RBSP: emulation-prevention removal and an exp-Golomb reader.
 * Reading past the end throws MediaFormatError, never a RangeError.
 */
import { Buffer } from 'node:buffer';
import { MediaFormatError } from './errors.js';

/**
 * NAL payload to RBSP: every 00 00 03 becomes 00 00 (the 03 is dropped). Returns `nal` itself when
 * there is nothing to remove, so the common case copies nothing.
 */
export function removeEmulationPrevention(nal: Buffer): Buffer {
  const length = nal.length;
  let first = -1;
  for (let i = 2; i < length; i++) {
    if (nal[i] === 3 && nal[i - 1] === 0 && nal[i - 2] === 0) {
      first = i;
      break;
    }
  }
  if (first < 0) return nal;
  const out = Buffer.allocUnsafe(length - 1);
  nal.copy(out, 0, 0, first);
  let o = first;
  let zeros = 0;
  for (let i = first + 1; i < length; i++) {
    const byte = nal[i];
    if (zeros >= 2 && byte === 3) {
      // An emulation prevention byte: drop it and restart the zero count.
      zeros = 0;
      continue;
    }
    zeros = byte === 0 ? zeros + 1 : 0;
    out[o++] = byte;
  }
  return out.subarray(0, o);
}

/** MSB-first bit reader over an RBSP (emulation prevention already removed). */
export class BitReader {
  private readonly data: Uint8Array;
  private bitPos: number;
  private readonly bitEnd: number;

  constructor(data: Uint8Array, byteOffset = 0) {
    this.data = data;
    this.bitPos = byteOffset * 8;
    this.bitEnd = data.length * 8;
  }

  /** Bits consumed from the start of the buffer. */
  get position(): number {
    return this.bitPos;
  }

  get bitsLeft(): number {
    return this.bitEnd - this.bitPos;
  }

  private need(bits: number): void {
    if (this.bitPos + bits > this.bitEnd) {
      throw new MediaFormatError(`bitstream truncated: need ${bits} bits, ${this.bitEnd - this.bitPos} left`);
    }
  }

  /** Unsigned n-bit value, 0 <= n <= 32. */
  u(n: number): number {
    if (n === 0) return 0;
    if (n > 32 || n < 0) throw new RangeError(`u(${n}): at most 32 bits`);
    this.need(n);
    let value = 0;
    let pos = this.bitPos;
    let left = n;
    while (left > 0) {
      const byte = this.data[pos >>> 3];
      const bitInByte = pos & 7;
      const take = Math.min(8 - bitInByte, left);
      const bits = (byte >>> (8 - bitInByte - take)) & ((1 << take) - 1);
      // Multiply rather than shift: 32-bit values must stay unsigned.
      value = value * (1 << take) + bits;
      left -= take;
      pos += take;
    }
    this.bitPos = pos;
    return value;
  }

  /** One bit as a boolean. */
  flag(): boolean {
    this.need(1);
    const pos = this.bitPos++;
    return ((this.data[pos >>> 3] >>> (7 - (pos & 7))) & 1) === 1;
  }

  skip(bits: number): void {
    this.need(bits);
    this.bitPos += bits;
  }

  /** Unsigned exp-Golomb ue(v); values up to 2^32 - 2 as the specs allow. */
  ue(): number {
    let leadingZeros = 0;
    while (!this.flag()) {
      if (++leadingZeros > 31) throw new MediaFormatError('exp-Golomb code longer than 32 bits');
    }
    return 2 ** leadingZeros - 1 + this.u(leadingZeros);
  }

  /** Signed exp-Golomb se(v): 1, -1, 2, -2, ... from ue 1, 2, 3, 4, ... */
  se(): number {
    const k = this.ue();
    // `0 - x` rather than `-x`: k = 0 must give 0, not -0.
    return k % 2 === 1 ? (k + 1) / 2 : 0 - k / 2;
  }

  /**
   * True while RBSP data remains before rbsp_trailing_bits: the current position is before the last
   * 1 bit (the stop bit) of the buffer. Trailing zero bytes (cabac_zero_words) are skipped over.
   */
  moreRbspData(): boolean {
    const data = this.data;
    let last = data.length - 1;
    while (last >= 0 && data[last] === 0) last--;
    if (last < 0) return false;
    const byte = data[last];
    let stopBit = 7;
    while (((byte >>> (7 - stopBit)) & 1) === 0) stopBit--;
    return this.bitPos < last * 8 + stopBit;
  }
}
