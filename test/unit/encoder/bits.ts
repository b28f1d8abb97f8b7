// A tiny independent MSB-first reader (u, ue, se) so the encoder's output is checked by code
// that shares nothing with the writer under test.
export class TestBitReader {
  private pos = 0;
  constructor(private readonly data: Uint8Array) {}

  get bitPos(): number {
    return this.pos;
  }

  get bitsLeft(): number {
    return this.data.length * 8 - this.pos;
  }

  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      if (this.pos >= this.data.length * 8) throw new Error('read past end');
      const bit = (this.data[this.pos >> 3] >> (7 - (this.pos & 7))) & 1;
      v = v * 2 + bit;
      this.pos++;
    }
    return v;
  }

  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) zeros++;
    return 2 ** zeros - 1 + this.u(zeros);
  }

  se(): number {
    const k = this.ue();
    if (k === 0) return 0;
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }

  /** Reads up to the byte boundary, returning the skipped bits' value. */
  align(): number {
    return this.pos % 8 === 0 ? 0 : this.u(8 - (this.pos % 8));
  }
}

/** Bits as a '0'/'1' string. */
export function bitString(bytes: Uint8Array, bitLength = bytes.length * 8): string {
  let s = '';
  for (let i = 0; i < bitLength; i++) s += (bytes[i >> 3] >> (7 - (i & 7))) & 1;
  return s;
}

/** Drops emulation prevention bytes (00 00 03 -> 00 00), independent of the code under test. */
export function stripEpb(payload: Uint8Array): Uint8Array {
  const out: number[] = [];
  let zeros = 0;
  for (const b of payload) {
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return Uint8Array.from(out);
}
