/**
 * The RTP sending state of one track (RFC 3550): its SSRC, the next sequence number, the random
 * timestamp base, what was sent (for sender reports), and its RTCP SR and BYE packets. Pure: it
 * has no timers or sockets, and every time it needs is passed in.
 */
import { RtpBatchWriter, type RtpPacketBatch } from './batch.js';
import { msToNtp } from './ntp.js';
import { buildByeCompound, buildSrSdesCompound, type RtcpSenderInfo } from './rtcp.js';

export interface RtpSenderOptions {
  payloadType: number;
  ssrc: number;
  /** Sequence number of the first packet (random, RFC 3550 5.1). */
  initialSequence: number;
  /** RTP timestamp of the start of the track's timeline (random, RFC 3550 5.1). */
  timestampBase: number;
  /**
   * RTP clock ticks elapsed on the track's timeline at wall-clock time `wallMs` (ms since the Unix
   * epoch): how a sender report pairs its NTP time with an RTP timestamp. Supplied by the track,
   * which knows the stream's clock and the codec's clock rate.
   */
  ticksAt: (wallMs: number) => number;
}

export class RtpSender {
  /**
   * The batch builder packetizers write into: it stamps this sender's SSRC, payload type and
   * sequence numbers on every packet.
   */
  readonly writer: RtpBatchWriter;
  readonly timestampBase: number;
  private readonly ticksAt: (wallMs: number) => number;
  private packets = 0;
  private octets = 0;

  constructor(options: RtpSenderOptions) {
    const { timestampBase } = options;
    if (!Number.isInteger(timestampBase) || timestampBase < 0 || timestampBase > 0xffffffff) {
      throw new RangeError(`RTP timestamp base must be a uint32, got ${timestampBase}`);
    }
    this.writer = new RtpBatchWriter(options);
    this.timestampBase = timestampBase;
    this.ticksAt = options.ticksAt;
  }

  get ssrc(): number {
    return this.writer.ssrc;
  }

  get payloadType(): number {
    return this.writer.payloadType;
  }

  /** Sequence number the next packet will carry. */
  get nextSequence(): number {
    return this.writer.nextSequence;
  }

  /** Packets sent so far (not wrapped; the SR field takes it modulo 2^32). */
  get packetCount(): number {
    return this.packets;
  }

  /** RTP payload octets sent so far (not wrapped). */
  get octetCount(): number {
    return this.octets;
  }

  /** True once a packet went out: from then on RTCP reports are sender reports. */
  get started(): boolean {
    return this.packets > 0;
  }

  /** The RTP timestamp `ticks` clock ticks into the track's timeline. */
  timestamp(ticks: number): number {
    return (this.timestampBase + ticks) >>> 0;
  }

  /** The RTP timestamp at wall-clock time `wallMs`. */
  timestampAt(wallMs: number): number {
    return this.timestamp(this.ticksAt(wallMs));
  }

  /** Counts a batch as sent (for sender reports). */
  countSent(batch: RtpPacketBatch): void {
    this.packets += batch.packets.length;
    this.octets += batch.payloadOctets;
  }

  /** The sender info block of an SR at wall-clock time `wallMs`. */
  senderInfo(wallMs: number): RtcpSenderInfo {
    const ntp = msToNtp(wallMs);
    return {
      ntpSeconds: ntp.seconds,
      ntpFraction: ntp.fraction,
      rtpTimestamp: this.timestampAt(wallMs),
      packetCount: this.packets,
      octetCount: this.octets,
    };
  }

  /** SR + SDES(CNAME) at `wallMs`: the periodic report, the same bytes for every client of the track. */
  senderReport(wallMs: number, cname: string): Buffer {
    return buildSrSdesCompound({ ssrc: this.ssrc, cname, ...this.senderInfo(wallMs) });
  }

  /** The compound sent when a client's session ends: SR (or an empty RR before any packet) + SDES + BYE. */
  bye(wallMs: number, cname: string, reason: string): Buffer {
    const sender = this.started ? this.senderInfo(wallMs) : undefined;
    return buildByeCompound({ ssrc: this.ssrc, cname, sender, reason });
  }
}
