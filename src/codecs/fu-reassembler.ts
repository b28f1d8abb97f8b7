/**
 * Puts a NAL unit back together from fragmentation units — H.264 FU-A (RFC 6184 5.8) and H.265 FU
 * (RFC 7798 4.4.3) work alike: a NAL header rebuilt from the FU's own headers, then the fragments
 * in order. A fragment whose start was lost is counted and dropped; a start while another unit is
 * open drops the open one (its end was lost).
 */
export class FuReassembler {
  private parts: Buffer[] | null = null;
  private length = 0;
  private header = 0;
  /** Fragments thrown away so far. */
  dropped = 0;

  /** `headerSize`: the NAL header's bytes, 1 (H.264) or 2 (H.265). */
  constructor(private readonly headerSize: 1 | 2) {}

  /**
   * Takes one fragment; returns the whole NAL unit with its end fragment, else null. `header` (the
   * rebuilt NAL header, big-endian in `headerSize` bytes) is read from a start fragment only.
   */
  push(fragment: Buffer, isStart: boolean, isEnd: boolean, header: number): Buffer | null {
    if (isStart) {
      this.drop();
      this.header = header;
      this.parts = [fragment];
      this.length = fragment.length;
    } else if (this.parts === null) {
      this.dropped++;
      return null;
    } else {
      this.parts.push(fragment);
      this.length += fragment.length;
    }
    if (!isEnd) return null;
    const parts = this.parts;
    const size = this.headerSize;
    const nal = Buffer.allocUnsafe(size + this.length);
    if (size === 2) nal.writeUInt16BE(this.header, 0);
    else nal[0] = this.header;
    let p = size;
    for (let i = 0; i < parts.length; i++) {
      nal.set(parts[i], p);
      p += parts[i].length;
    }
    this.parts = null;
    this.length = 0;
    return nal;
  }

  /** Drops a unit still open (its end will not come: a new timestamp, a lost packet, the end). */
  drop(): void {
    if (this.parts === null) return;
    this.dropped += this.parts.length;
    this.parts = null;
    this.length = 0;
  }
}
