/** RTP → G.711 samples: the payload is the samples, one byte each (RFC 3551 4.5.14). */
import type { Buffer } from 'node:buffer';
import { readRtpHeader } from '../../rtp/packet.js';

export interface G711Chunk {
  /** G.711 bytes: a view of the RTP packet. */
  samples: Buffer;
  /** RTP timestamp of the first sample. */
  timestamp: number;
  /** Marker bit: the first packet of a talkspurt. */
  talkspurt: boolean;
}

const MAX_MISORDER = 100;

/**
 * Receiving side of G.711 (PCMU/PCMA): takes RTP packets (`push`, one whole packet with its RTP
 * header) and gives their samples with timestamp and talkspurt flag, dropping late and duplicate
 * packets (`lostPackets` counts gaps). Public API for relays, recording and RTSP clients.
 */
export class G711Depacketizer {
  private expectedSeq = -1;
  private lost = 0;

  get lostPackets(): number {
    return this.lost;
  }

  /** The samples of `packet`, or null for a late or duplicate one. Throws RtpFormatError on a bad header. */
  push(packet: Buffer): G711Chunk | null {
    const header = readRtpHeader(packet);
    const seq = header.sequenceNumber;
    if (this.expectedSeq >= 0 && seq !== this.expectedSeq) {
      const ahead = (seq - this.expectedSeq) & 0xffff;
      if (ahead >= 0x10000 - MAX_MISORDER) return null;
      this.lost += ahead;
    }
    this.expectedSeq = (seq + 1) & 0xffff;
    return {
      samples: packet.subarray(header.payloadOffset, header.payloadOffset + header.payloadLength),
      timestamp: header.timestamp,
      talkspurt: header.marker,
    };
  }
}
