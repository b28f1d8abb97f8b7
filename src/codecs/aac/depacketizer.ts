/**
 * RTP → AAC access units for RFC 3640 mpeg4-generic (non-interleaved): reads the AU-header section
 * with whatever field lengths the fmtp declares (AAC-hbr by default), skips an auxiliary section,
 * splits whole AUs and reassembles fragmented ones (section 3.2.3). Used by tests and relays.
 */
import { Buffer } from 'node:buffer';
import { RtpFormatError } from '../../rtp/errors.js';
import { readRtpHeader } from '../../rtp/packet.js';
import { AAC_HBR_LAYOUT, type Mpeg4GenericFmtp } from './sdp.js';

export interface AacAccessUnit {
  /** Raw AU (no ADTS header). Views of the packet for whole AUs, a new buffer for reassembled ones. */
  data: Buffer;
  /** RTP timestamp of this AU. */
  timestamp: number;
}

export type AacLayout = Pick<
  Mpeg4GenericFmtp,
  | 'sizeLength'
  | 'indexLength'
  | 'indexDeltaLength'
  | 'ctsDeltaLength'
  | 'dtsDeltaLength'
  | 'randomAccessIndication'
  | 'streamStateIndication'
  | 'auxiliaryDataSizeLength'
>;

export interface AacDepacketizerOptions {
  /** AU-header layout from the fmtp (parseMpeg4GenericFmtp); AAC-hbr when absent. */
  layout?: Partial<AacLayout>;
  /** RTP ticks per AU, to time the 2nd and later AUs of a packet (default 1024). */
  samplesPerFrame?: number;
}

const MAX_MISORDER = 100;

/** MSB-first reader over the AU-header section; running out is a malformed packet. */
class HeaderBits {
  private pos: number;
  constructor(
    private readonly buf: Uint8Array,
    byteOffset: number,
    private readonly end: number,
  ) {
    this.pos = byteOffset * 8;
  }
  read(width: number): number {
    if (width === 0) return 0;
    if (this.pos + width > this.end)
      throw new RtpFormatError('mpeg4-generic AU-header runs past its section');
    let value = 0;
    for (let i = 0; i < width; i++, this.pos++) {
      value = value * 2 + ((this.buf[this.pos >>> 3] >>> (7 - (this.pos & 7))) & 1);
    }
    return value;
  }
  get bitPosition(): number {
    return this.pos;
  }
}

/**
 * Receiving side of RFC 3640 mpeg4-generic (AAC): takes RTP packets (`push`, one whole packet with
 * its RTP header, in arrival order) and gives the raw AAC access units they complete, each with its
 * RTP timestamp. The AU-header layout comes from the SDP fmtp (`layout`, AAC-hbr by default).
 * Public API for relays, recording and RTSP clients.
 */
export class AacDepacketizer {
  private readonly layout: AacLayout;
  private readonly samplesPerFrame: number;
  private expectedSeq = -1;
  private fragments: Buffer[] | null = null;
  private fragmentSize = 0;
  private fragmentLength = 0;
  private fragmentTimestamp = 0;
  private lost = 0;
  private dropped = 0;

  constructor(options: AacDepacketizerOptions = {}) {
    this.layout = { ...AAC_HBR_LAYOUT, ...options.layout };
    this.samplesPerFrame = options.samplesPerFrame ?? 1024;
  }

  /** Packets missing from the sequence so far. */
  get lostPackets(): number {
    return this.lost;
  }

  /** Fragments thrown away because their AU could not be completed. */
  get droppedFragmentCount(): number {
    return this.dropped;
  }

  /**
   * Takes one RTP packet and returns the AUs it completes (none while a fragmented AU is still
   * arriving). Throws RtpFormatError on a malformed payload; state stays consistent.
   */
  push(packet: Buffer): AacAccessUnit[] {
    const header = readRtpHeader(packet);
    const start = header.payloadOffset;
    const end = start + header.payloadLength;
    const { sizes, dataStart } = this.readHeaders(packet, start, end);

    const seq = header.sequenceNumber;
    if (this.expectedSeq >= 0 && seq !== this.expectedSeq) {
      const ahead = (seq - this.expectedSeq) & 0xffff;
      if (ahead >= 0x10000 - MAX_MISORDER) return []; // late or duplicate
      this.lost += ahead;
      this.dropFragments();
    }
    this.expectedSeq = (seq + 1) & 0xffff;

    const available = end - dataStart;
    if (this.fragments !== null) {
      const continues =
        sizes.length === 1 && sizes[0] === this.fragmentSize && header.timestamp === this.fragmentTimestamp;
      if (continues) return this.addFragment(packet.subarray(dataStart, end), header.marker);
      this.dropFragments();
    }

    // No AU-size field: the payload is one AU, or a fragment of one unless the marker ends it.
    if (sizes.length === 1 && sizes[0] < 0) {
      if (header.marker) return [{ data: packet.subarray(dataStart, end), timestamp: header.timestamp }];
      this.startFragment(-1, header.timestamp);
      return this.addFragment(packet.subarray(dataStart, end), false);
    }
    if (sizes.length === 1 && sizes[0] > available) {
      if (header.marker) {
        this.dropped++; // the last fragment of an AU whose beginning was lost
        return [];
      }
      this.startFragment(sizes[0], header.timestamp);
      return this.addFragment(packet.subarray(dataStart, end), false);
    }
    const aus: AacAccessUnit[] = [];
    let pos = dataStart;
    for (let i = 0; i < sizes.length; i++) {
      const size = sizes[i];
      if (pos + size > end) throw new RtpFormatError('mpeg4-generic AU runs past the packet end');
      aus.push({
        data: packet.subarray(pos, pos + size),
        timestamp: (header.timestamp + i * this.samplesPerFrame) >>> 0,
      });
      pos += size;
    }
    return aus;
  }

  /** AU sizes (-1 when there is no AU-size field) and where the AU data starts. */
  private readHeaders(packet: Buffer, start: number, end: number): { sizes: number[]; dataStart: number } {
    const l = this.layout;
    let pos = start;
    const sizes: number[] = [];
    const perHeaderMax =
      l.sizeLength +
      Math.max(l.indexLength, l.indexDeltaLength) +
      (l.ctsDeltaLength > 0 ? 1 + l.ctsDeltaLength : 0) +
      (l.dtsDeltaLength > 0 ? 1 + l.dtsDeltaLength : 0) +
      (l.randomAccessIndication ? 1 : 0) +
      l.streamStateIndication;
    if (perHeaderMax > 0) {
      if (end - pos < 2) throw new RtpFormatError('mpeg4-generic payload without AU-headers-length');
      const headerBits = (packet[pos] << 8) | packet[pos + 1];
      pos += 2;
      const sectionEnd = pos * 8 + headerBits;
      if (sectionEnd > end * 8)
        throw new RtpFormatError('mpeg4-generic AU-header section runs past the packet');
      const bits = new HeaderBits(packet, pos, sectionEnd);
      while (bits.bitPosition < sectionEnd) {
        const before = bits.bitPosition;
        const size = l.sizeLength > 0 ? bits.read(l.sizeLength) : -1;
        const index = bits.read(sizes.length === 0 ? l.indexLength : l.indexDeltaLength);
        if (sizes.length > 0 && index !== 0) {
          throw new RtpFormatError('interleaved mpeg4-generic (AU-Index-delta != 0) is not supported');
        }
        if (l.ctsDeltaLength > 0 && bits.read(1) === 1) bits.read(l.ctsDeltaLength);
        if (l.dtsDeltaLength > 0 && bits.read(1) === 1) bits.read(l.dtsDeltaLength);
        if (l.randomAccessIndication) bits.read(1);
        bits.read(l.streamStateIndication);
        if (bits.bitPosition === before) throw new RtpFormatError('mpeg4-generic AU-header of zero bits');
        sizes.push(size);
        if (size < 0 && sizes.length > 1) throw new RtpFormatError('several AUs in a packet need an AU-size');
      }
      if (sizes.length === 0) throw new RtpFormatError('mpeg4-generic packet with no AU-header');
      pos = Math.ceil(sectionEnd / 8);
    } else {
      sizes.push(-1);
    }
    if (l.auxiliaryDataSizeLength > 0) {
      const bits = new HeaderBits(packet, pos, end * 8);
      const auxBits = bits.read(l.auxiliaryDataSizeLength);
      const auxEnd = bits.bitPosition + auxBits;
      if (auxEnd > end * 8) throw new RtpFormatError('mpeg4-generic auxiliary section runs past the packet');
      pos = Math.ceil(auxEnd / 8);
    }
    return { sizes, dataStart: pos };
  }

  private startFragment(size: number, timestamp: number): void {
    this.fragments = [];
    this.fragmentSize = size;
    this.fragmentLength = 0;
    this.fragmentTimestamp = timestamp;
  }

  private addFragment(part: Buffer, marker: boolean): AacAccessUnit[] {
    const parts = this.fragments!;
    parts.push(part);
    this.fragmentLength += part.length;
    const known = this.fragmentSize >= 0;
    if (known && this.fragmentLength > this.fragmentSize) {
      this.dropFragments();
      throw new RtpFormatError('mpeg4-generic fragments exceed the AU size');
    }
    const complete = known ? this.fragmentLength === this.fragmentSize : marker;
    if (!complete) {
      if (marker) this.dropFragments(); // marked last, yet short: a fragment was lost
      return [];
    }
    const data = Buffer.concat(parts, this.fragmentLength);
    this.fragments = null;
    return [{ data, timestamp: this.fragmentTimestamp }];
  }

  private dropFragments(): void {
    if (this.fragments !== null) {
      this.dropped += this.fragments.length;
      this.fragments = null;
    }
  }
}
