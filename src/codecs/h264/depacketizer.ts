/**
 * RTP → H.264 access units (RFC 6184, non-interleaved mode): Single NAL Unit, STAP-A and FU-A.
 * Used by tests and the relay client; throughput matters less than on the sending side.
 */
import type { Buffer } from 'node:buffer';
import { RtpFormatError } from '../../rtp/errors.js';
import { readRtpHeader } from '../../rtp/packet.js';
import { FuReassembler } from '../fu-reassembler.js';
import { NalType } from './annexb.js';

export interface H264AccessUnit {
  /** NAL units without start codes. Single NAL and STAP-A units are views of the RTP packets. */
  nalus: Buffer[];
  timestamp: number;
  /** The access unit holds an IDR slice. */
  keyframe: boolean;
}

/** A sequence number this far behind the expected one is a late or duplicate packet, not a restart. */
const MAX_MISORDER = 100;

/**
 * Receiving side of RFC 6184 (H.264, packetization mode 0/1): takes RTP packets (`push`, one whole
 * packet with its RTP header, in arrival order) and gives access units (NAL units without start
 * codes, timestamp, keyframe flag) as they complete; `flush` gives what is left at end of stream.
 * Public API for relays, recording and RTSP clients.
 */
export class H264Depacketizer {
  private nalus: Buffer[] = [];
  private timestamp = 0;
  private keyframe = false;
  private expectedSeq = -1;
  /** Fragments of the FU-A being reassembled; null when none (or it was broken by loss). */
  private readonly fu = new FuReassembler(1);
  private lost = 0;
  /** Completed access units not yet returned. */
  private ready: H264AccessUnit[] = [];

  /** Packets missing from the sequence so far. */
  get lostPackets(): number {
    return this.lost;
  }

  /** FU-A fragments thrown away because their NAL unit could not be completed. */
  get droppedFragmentCount(): number {
    return this.fu.dropped;
  }

  /**
   * Takes one RTP packet; returns an access unit when one completes (marker bit, or the previous one
   * when the timestamp changes), else null. Throws RtpFormatError on a malformed packet or a payload
   * structure that mode 1 does not allow (STAP-B, MTAP, FU-B); state is left consistent.
   */
  push(packet: Buffer): H264AccessUnit | null {
    const header = readRtpHeader(packet);
    const start = header.payloadOffset;
    const end = start + header.payloadLength;
    if (end - start < 1) throw new RtpFormatError('H.264 RTP packet with empty payload');
    const type = packet[start] & 0x1f;
    if (type === 0 || type > NalType.FU_A || (type > NalType.STAP_A && type < NalType.FU_A)) {
      throw new RtpFormatError(`H.264 RTP payload type ${type} not supported in packetization mode 1`);
    }
    if (type === NalType.STAP_A) validateStapA(packet, start, end);
    else if (type === NalType.FU_A && end - start < 2) throw new RtpFormatError('FU-A without FU header');

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

    if (type === NalType.STAP_A) {
      let p = start + 1;
      while (p + 2 <= end) {
        const size = (packet[p] << 8) | packet[p + 1];
        p += 2;
        if (size > 0) this.addNal(packet.subarray(p, p + size));
        p += size;
      }
    } else if (type === NalType.FU_A) {
      this.addFragment(packet, start, end);
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

  // Rarely two AUs complete in one call (one lost its marker); the second waits for the next call.
  private nextReady(): H264AccessUnit | null {
    return this.ready.length > 0 ? this.ready.shift()! : null;
  }

  /** End of stream: every access unit still held, the one in progress (without marker) last. */
  flush(): H264AccessUnit[] {
    this.fu.drop();
    if (this.nalus.length > 0) this.ready.push(this.takeAccessUnit());
    const out = this.ready;
    this.ready = [];
    return out;
  }

  private addNal(nal: Buffer): void {
    this.nalus.push(nal);
    if ((nal[0] & 0x1f) === NalType.IDR) this.keyframe = true;
  }

  private addFragment(packet: Buffer, start: number, end: number): void {
    const fuHeader = packet[start + 1];
    // The NAL header: F and NRI from the FU indicator, type from the FU header.
    const nal = this.fu.push(
      packet.subarray(start + 2, end),
      (fuHeader & 0x80) !== 0,
      (fuHeader & 0x40) !== 0,
      (packet[start] & 0xe0) | (fuHeader & 0x1f),
    );
    if (nal) this.addNal(nal);
  }

  private takeAccessUnit(): H264AccessUnit {
    const au: H264AccessUnit = { nalus: this.nalus, timestamp: this.timestamp, keyframe: this.keyframe };
    this.nalus = [];
    this.keyframe = false;
    return au;
  }
}

/** Checks every aggregated NAL unit of a STAP-A lies inside the payload before any is used. */
function validateStapA(packet: Buffer, start: number, end: number): void {
  let p = start + 1;
  if (p + 2 > end) throw new RtpFormatError('STAP-A without aggregation units');
  while (p < end) {
    if (p + 2 > end) throw new RtpFormatError('STAP-A NAL size runs past the payload end');
    const size = (packet[p] << 8) | packet[p + 1];
    p += 2 + size;
    if (p > end) throw new RtpFormatError('STAP-A NAL unit runs past the payload end');
  }
}
