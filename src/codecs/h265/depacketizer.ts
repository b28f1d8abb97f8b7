/**
 * RTP → H.265 access units (RFC 7798): Single NAL Unit packets, Aggregation Packets and
 * Fragmentation Units. Used by tests and the relay client; throughput matters less than on the
 * sending side.
 *
 * With `donl: true` (the SDP said sprop-max-don-diff > 0) the DONL / DOND fields are read past;
 * NAL units are still returned in transmission order, not reordered by decoding order number.
 */
import { Buffer } from 'node:buffer';
import { RtpFormatError } from '../../rtp/errors.js';
import { readRtpHeader } from '../../rtp/packet.js';
import { FuReassembler } from '../fu-reassembler.js';
import { H265_NAL_HEADER_SIZE, H265NalType, isH265Irap } from './annexb.js';

export interface H265AccessUnit {
  /** NAL units without start codes. Single NAL and AP units are views of the RTP packets. */
  nalus: Buffer[];
  timestamp: number;
  /** The access unit holds an IRAP picture (NAL types 16..23). */
  keyframe: boolean;
}

export interface H265DepacketizerOptions {
  /** DONL fields are present (sprop-max-don-diff > 0 in the SDP). Default false. */
  donl?: boolean;
}

/** A sequence number this far behind the expected one is a late or duplicate packet, not a restart. */
const MAX_MISORDER = 100;

/**
 * Receiving side of RFC 7798 (H.265): takes RTP packets (`push`, one whole packet with its RTP
 * header, in arrival order) and gives access units (NAL units without start codes, timestamp,
 * keyframe flag) as they complete; `flush` gives what is left at end of stream. Set `donl` when the
 * SDP has sprop-max-don-diff > 0. Public API for relays, recording and RTSP clients.
 */
export class H265Depacketizer {
  private readonly donl: boolean;
  private nalus: Buffer[] = [];
  private timestamp = 0;
  private keyframe = false;
  private expectedSeq = -1;
  /** Fragments of the FU being reassembled; null when none (or it was broken by loss). */
  private readonly fu = new FuReassembler(2);
  private lost = 0;
  /** Completed access units not yet returned. */
  private ready: H265AccessUnit[] = [];

  constructor(options: H265DepacketizerOptions = {}) {
    this.donl = options.donl ?? false;
  }

  /** Packets missing from the sequence so far. */
  get lostPackets(): number {
    return this.lost;
  }

  /** FU fragments thrown away because their NAL unit could not be completed. */
  get droppedFragmentCount(): number {
    return this.fu.dropped;
  }

  /**
   * Takes one RTP packet; returns an access unit when one completes (marker bit, or the previous one
   * when the timestamp changes), else null. Throws RtpFormatError on a malformed packet or a payload
   * structure this reader does not take (PACI, types 51..63, an FU with S and E both set or carrying
   * an AP/FU/PACI); state is left consistent.
   */
  push(packet: Buffer): H265AccessUnit | null {
    const header = readRtpHeader(packet);
    const start = header.payloadOffset;
    const end = start + header.payloadLength;
    if (end - start < H265_NAL_HEADER_SIZE) {
      throw new RtpFormatError(`H.265 RTP payload of ${end - start} bytes: no payload header`);
    }
    const type = (packet[start] >>> 1) & 0x3f;
    if (type > H265NalType.FU) {
      throw new RtpFormatError(`H.265 RTP payload type ${type} not supported`);
    }
    if (type === H265NalType.AP) this.validateAp(packet, start, end);
    else if (type === H265NalType.FU) this.validateFu(packet, start, end);
    else if (this.donl && end - start < H265_NAL_HEADER_SIZE + 2) {
      throw new RtpFormatError('H.265 single NAL unit packet without DONL');
    }

    const seq = header.sequenceNumber;
    if (this.expectedSeq >= 0 && seq !== this.expectedSeq) {
      const ahead = (seq - this.expectedSeq) & 0xffff;
      if (ahead >= 0x10000 - MAX_MISORDER) return this.nextReady(); // late or duplicate: dropped
      this.lost += ahead;
      this.fu.drop();
    }
    this.expectedSeq = (seq + 1) & 0xffff;

    if (this.nalus.length > 0 && header.timestamp !== this.timestamp) {
      this.ready.push(this.takeAccessUnit()); // its marker was lost
    }
    if (header.timestamp !== this.timestamp) this.fu.drop();
    this.timestamp = header.timestamp;

    if (type === H265NalType.AP) {
      let p = start + H265_NAL_HEADER_SIZE;
      let first = true;
      while (p < end) {
        if (this.donl) p += first ? 2 : 1; // DONL, then DOND
        first = false;
        const size = (packet[p] << 8) | packet[p + 1];
        p += 2;
        this.addNal(packet.subarray(p, p + size));
        p += size;
      }
    } else if (type === H265NalType.FU) {
      this.addFragment(packet, start, end);
    } else if (this.donl) {
      // The NAL header, then DONL, then the rest of the NAL unit: rebuilt without the DONL.
      const nal = Buffer.allocUnsafe(end - start - 2);
      packet.copy(nal, 0, start, start + H265_NAL_HEADER_SIZE);
      packet.copy(nal, H265_NAL_HEADER_SIZE, start + H265_NAL_HEADER_SIZE + 2, end);
      this.addNal(nal);
    } else {
      this.addNal(packet.subarray(start, end));
    }

    if (header.marker) {
      this.fu.drop();
      // A marker can close an AU whose NALs were all lost; nothing to emit then.
      if (this.nalus.length > 0) this.ready.push(this.takeAccessUnit());
    }
    return this.nextReady();
  }

  /** End of stream: every access unit still held, the one in progress (without marker) last. */
  flush(): H265AccessUnit[] {
    this.fu.drop();
    if (this.nalus.length > 0) this.ready.push(this.takeAccessUnit());
    const out = this.ready;
    this.ready = [];
    return out;
  }

  // Rarely two AUs complete in one call (one lost its marker); the second waits for the next call.
  private nextReady(): H265AccessUnit | null {
    return this.ready.length > 0 ? this.ready.shift()! : null;
  }

  /** Checks every aggregated NAL unit of an AP lies inside the payload and has a header. */
  private validateAp(packet: Buffer, start: number, end: number): void {
    let p = start + H265_NAL_HEADER_SIZE;
    if (p >= end) throw new RtpFormatError('AP without aggregation units');
    let first = true;
    while (p < end) {
      if (this.donl) p += first ? 2 : 1;
      first = false;
      if (p + 2 > end) throw new RtpFormatError('AP NAL unit size runs past the payload end');
      const size = (packet[p] << 8) | packet[p + 1];
      if (size < H265_NAL_HEADER_SIZE) throw new RtpFormatError(`AP NAL unit of ${size} bytes`);
      p += 2 + size;
      if (p > end) throw new RtpFormatError('AP NAL unit runs past the payload end');
    }
  }

  private validateFu(packet: Buffer, start: number, end: number): void {
    if (end - start < 3) throw new RtpFormatError('FU without FU header');
    const fuHeader = packet[start + 2];
    if ((fuHeader & 0xc0) === 0xc0) throw new RtpFormatError('FU with both start and end bits set');
    const fuType = fuHeader & 0x3f;
    if (fuType >= H265NalType.AP && fuType <= H265NalType.PACI) {
      throw new RtpFormatError(`FU carrying payload structure type ${fuType}`);
    }
    if (this.donl && (fuHeader & 0x80) !== 0 && end - start < 5) {
      throw new RtpFormatError('FU start without DONL');
    }
  }

  private addNal(nal: Buffer): void {
    this.nalus.push(nal);
    if (isH265Irap((nal[0] >>> 1) & 0x3f)) this.keyframe = true;
  }

  private addFragment(packet: Buffer, start: number, end: number): void {
    const fuHeader = packet[start + 2];
    const isStart = (fuHeader & 0x80) !== 0;
    // DONL follows the FU header in the first fragment only. The NAL header: F, LayerId and TID
    // from the PayloadHdr, type from the FU header.
    const nal = this.fu.push(
      packet.subarray(start + 3 + (isStart && this.donl ? 2 : 0), end),
      isStart,
      (fuHeader & 0x40) !== 0,
      (((packet[start] & 0x81) | ((fuHeader & 0x3f) << 1)) << 8) | packet[start + 1],
    );
    if (nal) this.addNal(nal);
  }

  private takeAccessUnit(): H265AccessUnit {
    const au: H265AccessUnit = { nalus: this.nalus, timestamp: this.timestamp, keyframe: this.keyframe };
    this.nalus = [];
    this.keyframe = false;
    return au;
  }
}
