/** RTP → Opus packets (RFC 7587): each RTP payload is one Opus packet. */
import type { Buffer } from 'node:buffer';
import { RtpFormatError } from '../../rtp/errors.js';
import { readRtpHeader } from '../../rtp/packet.js';
import { opusPacketInfo } from './packet.js';

export interface OpusFrame {
  /** The Opus packet: a view of the RTP packet. */
  data: Buffer;
  timestamp: number;
  /** Duration in 48 kHz samples, from the TOC. */
  samples: number;
}

const MAX_MISORDER = 100;

/**
 * Receiving side of RFC 7587 (Opus): takes RTP packets (`push`, one whole packet with its RTP
 * header) and gives the Opus packet each carries, with its timestamp and duration, dropping late
 * and duplicate packets (`lostPackets` counts gaps). Public API for relays, recording and RTSP
 * clients.
 */
export class OpusDepacketizer {
  private expectedSeq = -1;
  private lost = 0;

  get lostPackets(): number {
    return this.lost;
  }

  /** The Opus packet in `packet`, or null for a late or duplicate packet. Throws RtpFormatError. */
  push(packet: Buffer): OpusFrame | null {
    const header = readRtpHeader(packet);
    const data = packet.subarray(header.payloadOffset, header.payloadOffset + header.payloadLength);
    let samples: number;
    try {
      samples = opusPacketInfo(data).samples;
    } catch (error) {
      throw new RtpFormatError(`bad Opus payload: ${(error as Error).message}`);
    }
    const seq = header.sequenceNumber;
    if (this.expectedSeq >= 0 && seq !== this.expectedSeq) {
      const ahead = (seq - this.expectedSeq) & 0xffff;
      if (ahead >= 0x10000 - MAX_MISORDER) return null;
      this.lost += ahead;
    }
    this.expectedSeq = (seq + 1) & 0xffff;
    return { data, timestamp: header.timestamp, samples };
  }
}
