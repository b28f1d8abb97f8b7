/**
 * MSB-first bit writer for H.264 RBSP syntax (u(n), ue(v), se(v), trailing bits).
 * One instance is reused for every NAL unit an encoder writes: `reset()` keeps the buffer,
 * so steady-state encoding allocates nothing here.
 */
export class BitWriter {
  private buf: Uint8Array;
  /** Index of the byte receiving the next bit. */
  private bytePos = 0;
  /** Bits already used in buf[bytePos] (0..7). */
  private bitPos = 0;

  constructor(initialCapacity = 4096) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity));
  }

  reset(): void {
    this.bytePos = 0;
    this.bitPos = 0;
  }

  /** Number of bits written so far. */
  get bitLength(): number {
    return this.bytePos * 8 + this.bitPos;
  }

  get byteAligned(): boolean {
    return this.bitPos === 0;
  }

  /** Makes room for at least `bytes` more bytes (call before bulk writes to skip per-byte checks). */
  ensure(bytes: number): void {
    const need = this.bytePos + bytes + 8;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.bytePos + 1));
    this.buf = grown;
  }

  /** u(n): the low `count` bits of `value`, MSB first. count 0..32, value treated as unsigned. */
  writeBits(value: number, count: number): void {
    if (count === 0) return;
    this.ensure(5);
    const buf = this.buf;
    while (count > 0) {
      if (this.bitPos === 0) buf[this.bytePos] = 0;
      const free = 8 - this.bitPos;
      const take = Math.min(count, free);
      count -= take;
      // count < 32 here, so the shift is well defined (JS shifts are mod 32).
      const bits = (value >>> count) & ((1 << take) - 1);
      buf[this.bytePos] |= bits << (free - take);
      this.bitPos += take;
      if (this.bitPos === 8) {
        this.bitPos = 0;
        this.bytePos++;
      }
    }
  }

  writeBit(bit: number | boolean): void {
    this.writeBits(bit ? 1 : 0, 1);
  }

  /** ue(v): Exp-Golomb unsigned, value 0 .. 2^31-2. */
  writeUe(value: number): void {
    const codeNum = value + 1;
    const len = 31 - Math.clz32(codeNum); // floor(log2(codeNum))
    if (len > 0) this.writeBits(0, len);
    this.writeBits(codeNum, len + 1);
  }

  /** se(v): Exp-Golomb signed; k>0 maps to 2k-1, k<=0 to -2k. */
  writeSe(value: number): void {
    this.writeUe(value > 0 ? 2 * value - 1 : -2 * value);
  }

  /** Zero bits up to the next byte boundary (pcm_alignment_zero_bit, alignment after the stop bit). */
  alignZero(): void {
    if (this.bitPos !== 0) this.writeBits(0, 8 - this.bitPos);
  }

  /** rbsp_trailing_bits(): stop bit then zero bits to the byte boundary. */
  writeTrailingBits(): void {
    this.writeBits(1, 1);
    this.alignZero();
  }

  /** Appends whole bytes; the writer must be byte aligned. */
  writeBytes(src: Uint8Array): void {
    if (this.bitPos !== 0) throw new Error('BitWriter.writeBytes: not byte aligned');
    this.ensure(src.length);
    this.buf.set(src, this.bytePos);
    this.bytePos += src.length;
  }

  /**
   * Raw access for hot loops that copy samples (I_PCM) without per-call allocation: reserves
   * `count` bytes at the current (aligned) position and returns their offset in `buffer`.
   * Read `buffer` after this call (reserving may grow it).
   */
  reserveBytes(count: number): number {
    if (this.bitPos !== 0) throw new Error('BitWriter.reserveBytes: not byte aligned');
    this.ensure(count);
    const offset = this.bytePos;
    this.bytePos += count;
    return offset;
  }

  /** The backing store; see reserveBytes. */
  get buffer(): Uint8Array {
    return this.buf;
  }

  /** The whole bytes written so far (a view, valid until the next write or reset). */
  bytes(): Uint8Array {
    if (this.bitPos !== 0) throw new Error('BitWriter.bytes: not byte aligned');
    return this.buf.subarray(0, this.bytePos);
  }
}
