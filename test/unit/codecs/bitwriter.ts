/**
 * Test-only bit writer: builds RBSPs (SPS with scaling lists, exp-Golomb sequences) to feed the
 * readers, and adds emulation prevention like an encoder would.
 */
import { Buffer } from 'node:buffer';

export class BitWriter {
  private readonly bits: number[] = [];

  u(n: number, value: number): this {
    for (let i = n - 1; i >= 0; i--) this.bits.push(Math.floor(value / 2 ** i) % 2);
    return this;
  }

  flag(value: boolean): this {
    return this.u(1, value ? 1 : 0);
  }

  ue(value: number): this {
    const code = value + 1;
    const length = Math.floor(Math.log2(code));
    this.u(length, 0);
    return this.u(length + 1, code);
  }

  se(value: number): this {
    return this.ue(value > 0 ? 2 * value - 1 : -2 * value);
  }

  /** rbsp_trailing_bits: a 1 then zeros to the byte boundary. */
  trailing(): this {
    this.bits.push(1);
    while (this.bits.length % 8 !== 0) this.bits.push(0);
    return this;
  }

  /** The bits so far, zero-padded to whole bytes. */
  toBuffer(): Buffer {
    const out = Buffer.alloc(Math.ceil(this.bits.length / 8));
    this.bits.forEach((bit, i) => {
      if (bit) out[i >> 3] |= 0x80 >> (i & 7);
    });
    return out;
  }
}

/** Inserts 0x03 after every 00 00 that precedes a byte <= 3 (H.264 7.4.1). */
export function addEmulationPrevention(rbsp: Uint8Array): Buffer {
  const out: number[] = [];
  let zeros = 0;
  for (const byte of rbsp) {
    if (zeros >= 2 && byte <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(byte);
    zeros = byte === 0 ? zeros + 1 : 0;
  }
  return Buffer.from(out);
}
