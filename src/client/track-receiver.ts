/**
 * One received track: puts RTP packets back in sequence order (a small window), counts loss, keeps
 * the RFC 3550 receiver statistics for RTCP RR, and turns packets into access units.
 */
import type { Buffer } from 'node:buffer';
import { AacDepacketizer } from '../codecs/aac/depacketizer.js';
import { parseMpeg4GenericFmtp } from '../codecs/aac/sdp.js';
import { G711Depacketizer } from '../codecs/g711/depacketizer.js';
import { H264Depacketizer } from '../codecs/h264/depacketizer.js';
import { H265Depacketizer } from '../codecs/h265/depacketizer.js';
import { MjpegDepacketizer } from '../codecs/mjpeg/depacketizer.js';
import { OpusDepacketizer } from '../codecs/opus/depacketizer.js';
import type { SdpMediaDescription } from '../protocol/sdp.js';
import { readRtpHeader } from '../rtp/packet.js';
import type { RtcpReportBlock } from '../rtp/rtcp.js';
import { SenderReportClock } from '../rtp/sender-timeline.js';

/** A track the server described (DESCRIBE), as the client sees it. */
export interface ClientTrack {
  /** Position in the SDP. */
  index: number;
  kind: string;
  /** rtpmap encoding name, upper-cased: 'H264', 'H265', 'MPEG4-GENERIC', 'PCMU', 'OPUS', ... */
  codec: string;
  payloadType: number;
  clockRate: number;
  channels?: number;
  /** Raw fmtp parameters, '' when none. */
  fmtp: string;
  /** Absolute URL to SETUP this track with. */
  controlUrl: string;
  /** The SDP media description as parsed. */
  media: SdpMediaDescription;
}

/** One depacketized unit. */
export interface RtspClientUnit {
  track: ClientTrack;
  /** NAL units without start codes for H.264/H.265; the frame, AU, JPEG or payload otherwise. */
  data: Buffer | Buffer[];
  rtpTimestamp: number;
  /**
   * Presentation time in microseconds from the RTP clock, 0 at the track's first unit. It keeps
   * counting (by wall time across the gap) when the client reconnects.
   */
  pts: number;
  /** A picture that decodes on its own (IDR, IRAP, JPEG) or any audio frame. */
  keyframe: boolean;
  /**
   * When the sender says this unit was (microseconds since the Unix epoch, on the sender's clock),
   * from its latest RTCP sender report (RFC 3550 6.4.1): what lines the tracks of one session up.
   * Undefined until the first sender report of the current session for the track.
   */
  senderTime?: number;
}

/** Per-track reception figures. */
export interface TrackReceptionStats {
  packetsReceived: number;
  /** Packets never received (gaps the reorder window gave up on). */
  packetsLost: number;
  /** Packets that waited in the reorder window (out of order, or after a gap). */
  packetsReordered: number;
  /** Late or duplicate packets dropped. */
  packetsDropped: number;
  /** Packets the depacketizer could not read. */
  packetsMalformed: number;
  units: number;
}

interface RawUnit {
  data: Buffer | Buffer[];
  timestamp: number;
  keyframe: boolean;
}

type Depacketize = (packet: Buffer) => RawUnit[];

function depacketizerFor(track: ClientTrack): Depacketize {
  switch (track.codec) {
    case 'H264': {
      const d = new H264Depacketizer();
      return (p) => {
        const au = d.push(p);
        return au ? [{ data: au.nalus, timestamp: au.timestamp, keyframe: au.keyframe }] : [];
      };
    }
    case 'H265': {
      const donl = /sprop-max-don-diff\s*=\s*[1-9]/i.test(track.fmtp);
      const d = new H265Depacketizer({ donl });
      return (p) => {
        const au = d.push(p);
        return au ? [{ data: au.nalus, timestamp: au.timestamp, keyframe: au.keyframe }] : [];
      };
    }
    case 'MPEG4-GENERIC': {
      const fmtp = parseMpeg4GenericFmtp(track.fmtp);
      const d = new AacDepacketizer({ layout: fmtp, samplesPerFrame: fmtp.constantDuration ?? 1024 });
      return (p) => d.push(p).map((au) => ({ data: au.data, timestamp: au.timestamp, keyframe: true }));
    }
    case 'PCMU':
    case 'PCMA': {
      const d = new G711Depacketizer();
      return (p) => {
        const c = d.push(p);
        return c ? [{ data: c.samples, timestamp: c.timestamp, keyframe: true }] : [];
      };
    }
    case 'OPUS': {
      const d = new OpusDepacketizer();
      return (p) => {
        const f = d.push(p);
        return f ? [{ data: f.data, timestamp: f.timestamp, keyframe: true }] : [];
      };
    }
    case 'JPEG': {
      const d = new MjpegDepacketizer();
      return (p) => {
        const j = d.push(p);
        return j ? [{ data: j.jpeg, timestamp: j.timestamp, keyframe: true }] : [];
      };
    }
    default:
      // Any other format: each RTP payload is one unit.
      return (p) => {
        const h = readRtpHeader(p);
        return [
          {
            data: p.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength),
            timestamp: h.timestamp,
            keyframe: true,
          },
        ];
      };
  }
}

export class TrackReceiver {
  readonly stats: TrackReceptionStats = {
    packetsReceived: 0,
    packetsLost: 0,
    packetsReordered: 0,
    packetsDropped: 0,
    packetsMalformed: 0,
    units: 0,
  };
  /** SSRC of the sender, from its first packet. */
  ssrc: number | undefined;
  /** The server sent RTCP BYE for this track. */
  ended = false;

  private depacketize: Depacketize;
  /** The sender's latest SR: RTP time to its wall clock. */
  private senderClock: SenderReportClock;
  /** Next sequence number to hand on; -1 before the first packet. */
  private expected = -1;
  /** Out-of-order packets waiting for the gap before them to fill, by sequence number. */
  private readonly pending = new Map<number, Buffer>();
  // RFC 3550 appendix A.3 figures.
  private cycles = 0;
  private maxSeq = 0;
  private baseSeq = -1;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private jitter = 0;
  private lastTransit: number | undefined;
  private lastSrMiddle = 0;
  private lastSrAt = 0;
  // Presentation time: unwrapped RTP timestamps and where this session's timeline starts.
  private firstTs: number | undefined;
  private lastTs = 0;
  private lastUnwrapped = 0;
  private ptsBase = 0;
  private lastPts = 0;
  private lastUnitAt = 0;

  constructor(
    readonly track: ClientTrack,
    private readonly reorderWindow: number,
    private readonly emit: (unit: RtspClientUnit) => void,
  ) {
    this.depacketize = depacketizerFor(track);
    this.senderClock = new SenderReportClock(track.clockRate);
  }

  /** A new session of the same stream (after a reconnect): sequence state resets, pts keeps going. */
  restart(track: ClientTrack): void {
    (this as { track: ClientTrack }).track = track;
    this.depacketize = depacketizerFor(track);
    this.senderClock = new SenderReportClock(track.clockRate);
    this.expected = -1;
    this.pending.clear();
    this.baseSeq = -1;
    this.cycles = 0;
    this.expectedPrior = 0;
    this.receivedPrior = 0;
    this.lastTransit = undefined;
    this.ssrc = undefined;
    this.ended = false;
    if (this.firstTs !== undefined) {
      this.ptsBase = this.lastPts + Math.max(0, Math.round((performance.now() - this.lastUnitAt) * 1000));
      this.firstTs = undefined;
    }
  }

  /** One RTP packet as it arrived. */
  receive(packet: Buffer): void {
    let header: ReturnType<typeof readRtpHeader>;
    try {
      header = readRtpHeader(packet);
    } catch {
      this.stats.packetsMalformed++;
      return;
    }
    if (header.payloadType !== this.track.payloadType) {
      this.stats.packetsMalformed++;
      return;
    }
    this.stats.packetsReceived++;
    this.ssrc ??= header.ssrc;
    const seq = header.sequenceNumber;
    this.updateStatistics(seq, header.timestamp);
    if (this.expected < 0) this.expected = seq;
    const ahead = (seq - this.expected) & 0xffff;
    if (ahead === 0) {
      this.deliver(packet);
      this.expected = (seq + 1) & 0xffff;
      this.drain();
      return;
    }
    if (ahead >= 0x8000 || this.pending.has(seq)) {
      this.stats.packetsDropped++; // late (its gap was given up) or duplicate
      return;
    }
    this.pending.set(seq, packet);
    if (this.pending.size > this.reorderWindow) {
      // The gap has lasted a whole window: give up on it and go on from the oldest packet held.
      let nearest = 0x10000;
      for (const s of this.pending.keys()) nearest = Math.min(nearest, (s - this.expected) & 0xffff);
      this.stats.packetsLost += nearest;
      this.expected = (this.expected + nearest) & 0xffff;
      this.drain();
    }
  }

  /**
   * An RTCP SR about this track's source: remembered for the next RR's LSR/DLSR, and its NTP/RTP
   * pair dates the units from now on (`senderTime`). One from another SSRC than the RTP is ignored.
   */
  senderReport(ntpSeconds: number, ntpFraction: number, rtpTimestamp: number, ssrc?: number): void {
    if (ssrc !== undefined && this.ssrc !== undefined && ssrc !== this.ssrc) return;
    this.senderClock.report(ntpSeconds, ntpFraction, rtpTimestamp, ssrc);
    this.lastSrMiddle = ((ntpSeconds & 0xffff) * 0x10000 + (ntpFraction >>> 16)) >>> 0;
    this.lastSrAt = performance.now();
  }

  /** The report block for this track's source, or undefined before any packet. */
  reportBlock(): RtcpReportBlock | undefined {
    if (this.ssrc === undefined || this.baseSeq < 0) return undefined;
    const extendedMax = this.cycles + this.maxSeq;
    const expected = extendedMax - this.baseSeq + 1;
    const lost = expected - this.receivedSinceBase;
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.receivedSinceBase - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.receivedSinceBase;
    const lostInterval = expectedInterval - receivedInterval;
    const fractionLost =
      expectedInterval === 0 || lostInterval <= 0
        ? 0
        : Math.min(255, Math.floor((lostInterval * 256) / expectedInterval));
    return {
      ssrc: this.ssrc,
      fractionLost,
      cumulativeLost: Math.max(-0x800000, Math.min(0x7fffff, lost)),
      highestSequence: extendedMax >>> 0,
      jitter: Math.floor(this.jitter) >>> 0,
      lastSr: this.lastSrMiddle,
      delaySinceLastSr:
        this.lastSrAt === 0 ? 0 : Math.floor(((performance.now() - this.lastSrAt) / 1000) * 65536) >>> 0,
    };
  }

  private receivedSinceBase = 0;

  private updateStatistics(seq: number, timestamp: number): void {
    if (this.baseSeq < 0) {
      this.baseSeq = seq;
      this.maxSeq = seq;
      this.cycles = 0;
      this.receivedSinceBase = 0;
    } else {
      const delta = (seq - this.maxSeq) & 0xffff;
      if (delta < 0x8000) {
        if (seq < this.maxSeq) this.cycles += 0x10000;
        this.maxSeq = seq;
      }
    }
    this.receivedSinceBase++;
    const arrival = (performance.now() / 1000) * this.track.clockRate;
    const transit = arrival - timestamp;
    if (this.lastTransit !== undefined) {
      const d = Math.abs(transit - this.lastTransit);
      this.jitter += (d - this.jitter) / 16;
    }
    this.lastTransit = transit;
  }

  private drain(): void {
    for (;;) {
      const next = this.pending.get(this.expected);
      if (next === undefined) return;
      this.pending.delete(this.expected);
      this.stats.packetsReordered++;
      this.deliver(next);
      this.expected = (this.expected + 1) & 0xffff;
    }
  }

  private deliver(packet: Buffer): void {
    let units: RawUnit[];
    try {
      units = this.depacketize(packet);
    } catch {
      this.stats.packetsMalformed++;
      return;
    }
    for (const u of units) {
      this.stats.units++;
      this.emit({
        track: this.track,
        data: u.data,
        rtpTimestamp: u.timestamp,
        pts: this.ptsOf(u.timestamp),
        keyframe: u.keyframe,
        senderTime: this.senderTimeOf(u.timestamp),
      });
    }
  }

  private senderTimeOf(timestamp: number): number | undefined {
    const from = this.senderClock.ssrc;
    return from === undefined || from === this.ssrc ? this.senderClock.senderUsAt(timestamp) : undefined;
  }

  private ptsOf(timestamp: number): number {
    if (this.firstTs === undefined) {
      this.firstTs = timestamp;
      this.lastTs = timestamp;
      this.lastUnwrapped = timestamp;
    }
    // Unwrap the 32-bit timestamp: the signed step from the previous one (B-frames step back).
    const unwrapped = this.lastUnwrapped + ((timestamp - this.lastTs) | 0);
    this.lastTs = timestamp;
    this.lastUnwrapped = unwrapped;
    const pts = this.ptsBase + Math.round(((unwrapped - this.firstTs) * 1e6) / this.track.clockRate);
    this.lastPts = pts;
    this.lastUnitAt = performance.now();
    return pts;
  }
}
