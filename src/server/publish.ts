/**
 * Publishing (RFC 2326 ANNOUNCE / SETUP mode=record / RECORD): the announced SDP becomes track codecs,
 * and each track's incoming RTP is checked, depacketized and pushed into the path's tracks, so
 * players get it through the same fan-out as any other source.
 */

import type { AnnouncedTrack, Unpacked } from '../media/announced-track.js';
import type { MulticastOptions } from '../media/multicast.js';
import { type Track, wallClockMs } from '../media/track.js';
import {
  RtpMediaTime,
  SenderReportClock,
  SenderTimeline,
  type SenderTrackTimeline,
} from '../rtp/sender-timeline.js';

export { type AnnouncedTrack, announcedTrack } from '../media/announced-track.js';

/** What a publish path does with its players when the publisher leaves. */
export type PublishEnd = 'wait' | 'end';

export interface PublishPathOptions {
  /**
   * When the publisher leaves (TEARDOWN, disconnect, session timeout): 'wait' (default) keeps the
   * players' sessions, which get the next publisher's media if its tracks are alike; 'end' ends
   * them (RTCP BYE).
   */
  publishEnd?: PublishEnd;
  /**
   * A publisher announcing while another holds the path: false (default) refuses it with 409; true
   * ends the holder's session (reason `replaced`) and lets the newcomer in, players kept.
   */
  takeover?: boolean;
  /** Stream title (SDP s=). */
  title?: string;
  /** Offer the players multicast on this group (see StreamOptions.multicast). */
  multicast?: MulticastOptions;
}

/** What was dropped of a publisher's RTP, by reason. */
export interface IngestStats {
  packets: number;
  accessUnits: number;
  wrongPayloadType: number;
  wrongSsrc: number;
  malformed: number;
  oversized: number;
}

/** Largest RTP packet taken from a publisher (a UDP datagram or an interleaved frame). */
export const MAX_PUBLISHED_PACKET = 0xffff;

/** What an RTCP sender report says about a published track (RFC 3550 6.4.1). */
export interface PublishedSenderReport {
  ssrc: number;
  ntpSeconds: number;
  ntpFraction: number;
  rtpTimestamp: number;
}

/**
 * One published track's receiving end: checks each RTP packet (version, payload type, one SSRC),
 * depacketizes it and pushes whole access units into `track`. The pts come from the RTP timestamp
 * on the publisher's timeline (`timeline`, shared by its tracks): anchored at the track's first
 * packet until the publisher's sender reports say how its tracks line up. Never throws: what it
 * cannot use is counted and dropped.
 */
export class TrackIngest {
  private readonly unpack: (packet: Buffer) => Unpacked | null;
  private ssrc: number | undefined;
  private readonly mediaTime: RtpMediaTime;
  private readonly senderClock: SenderReportClock;
  /** Latest pts pushed (a next publisher's media starts after it). */
  lastPtsUs: number | undefined;

  constructor(
    readonly track: Track,
    private readonly announced: AnnouncedTrack,
    readonly stats: IngestStats,
    private readonly timeline: SenderTrackTimeline = new SenderTimeline().track(),
  ) {
    this.unpack = announced.depacketizer();
    this.mediaTime = new RtpMediaTime(announced.clockRate);
    this.senderClock = new SenderReportClock(announced.clockRate);
  }

  /** The publisher's RTCP SR for this track; one from another SSRC than its RTP is ignored. */
  senderReport(report: PublishedSenderReport): void {
    if (this.ssrc !== undefined && report.ssrc !== this.ssrc) return;
    this.senderClock.report(report.ntpSeconds, report.ntpFraction, report.rtpTimestamp, report.ssrc);
  }

  /** SSRC of the track's RTP, once a packet came. */
  get sourceSsrc(): number | undefined {
    return this.ssrc;
  }

  receive(packet: Buffer): void {
    const stats = this.stats;
    if (packet.length > MAX_PUBLISHED_PACKET) {
      stats.oversized++;
      return;
    }
    if (packet.length < 12 || packet[0] >> 6 !== 2) {
      stats.malformed++;
      return;
    }
    if ((packet[1] & 0x7f) !== this.announced.payloadType) {
      stats.wrongPayloadType++;
      return;
    }
    const ssrc = packet.readUInt32BE(8);
    this.ssrc ??= ssrc;
    if (ssrc !== this.ssrc) {
      stats.wrongSsrc++;
      return;
    }
    stats.packets++;
    let au: Unpacked | null;
    try {
      au = this.unpack(packet);
    } catch {
      stats.malformed++;
      return;
    }
    if (!au || au.units.length === 0) return;
    try {
      const pts = this.ptsUs(au.timestamp);
      this.lastPtsUs = Math.max(this.lastPtsUs ?? pts, pts);
      this.track.pushUnits(au.units, { pts });
      stats.accessUnits++;
    } catch {
      stats.malformed++;
    }
  }

  /** Microseconds on the wall clock, by the publisher's timeline. */
  private ptsUs(timestamp: number): number {
    const fromSsrc = this.senderClock.ssrc === undefined || this.senderClock.ssrc === this.ssrc;
    return this.timeline.ptsUs(
      this.mediaTime.usAt(timestamp),
      wallClockMs() * 1000,
      fromSsrc ? this.senderClock.senderUsAt(timestamp) : undefined,
    );
  }
}

export function emptyIngestStats(): IngestStats {
  return { packets: 0, accessUnits: 0, wrongPayloadType: 0, wrongSsrc: 0, malformed: 0, oversized: 0 };
}

/** True when the tracks a new publisher announces can carry on the old ones (parked players keep them). */
export function sameTrackShape(old: readonly Track[], announced: readonly AnnouncedTrack[]): boolean {
  return (
    old.length === announced.length &&
    old.every(
      (t, i) =>
        t.codec.encoding.toUpperCase() === announced[i].codec.encoding.toUpperCase() &&
        t.codec.clockRate === announced[i].codec.clockRate,
    )
  );
}

/**
 * A path that takes a publisher: who holds it (the connection that announced, then its session),
 * the announced tracks and their receiving ends. One publisher at a time.
 */
export class PublishPoint {
  /** The connection that announced and has not left; undefined when the path is free. */
  owner: unknown;
  announced: AnnouncedTrack[] = [];
  session: { id: string } | undefined;
  readonly ingests = new Map<number, TrackIngest>();
  readonly stats = emptyIngestStats();
  readonly publishEnd: PublishEnd;
  readonly takeover: boolean;
  /** The current publisher's tracks on one timeline (its sender reports line them up). */
  private timeline = new SenderTimeline();
  /** Where the last publisher's media ended per track: the next one's pts start after it. */
  private readonly endedAt = new WeakMap<Track, number>();

  constructor(options: PublishPathOptions = {}) {
    this.publishEnd = options.publishEnd ?? 'wait';
    this.takeover = options.takeover ?? false;
  }

  /** The announced track a SETUP URL's control names (the publisher's own control, or ours). */
  indexOf(control: string | undefined): number {
    if (control === undefined) return this.announced.length === 1 ? 0 : -1;
    const i = this.announced.findIndex((a) => a.control === control || a.control.endsWith(`/${control}`));
    if (i >= 0) return i;
    const m = /^trackID=(\d+)$/.exec(control);
    return m && Number(m[1]) < this.announced.length ? Number(m[1]) : -1;
  }

  /** The receiving end of announced track `index`, pushing into `track` (SETUP with mode=record). */
  ingest(track: Track, index: number): TrackIngest {
    const ended = this.endedAt.get(track);
    // 1 ms after the last publisher's last unit at the earliest: its timeline may have run ahead of arrival.
    const ingest = new TrackIngest(
      track,
      this.announced[index],
      this.stats,
      this.timeline.track(ended === undefined ? undefined : ended + 1000),
    );
    this.ingests.set(track.id, ingest);
    return ingest;
  }

  /**
   * A publisher's RTCP SR: for the track whose RTCP port or channel it came on (`trackId`), or
   * else for the track whose RTP has its SSRC.
   */
  senderReport(trackId: number | undefined, report: PublishedSenderReport): void {
    if (trackId !== undefined) {
      this.ingests.get(trackId)?.senderReport(report);
      return;
    }
    for (const ingest of this.ingests.values()) {
      if (ingest.sourceSsrc === report.ssrc) ingest.senderReport(report);
    }
  }

  /** Frees the path for the next publisher. */
  release(): void {
    for (const ingest of this.ingests.values()) {
      if (ingest.lastPtsUs !== undefined) this.endedAt.set(ingest.track, ingest.lastPtsUs);
    }
    this.timeline = new SenderTimeline();
    this.owner = undefined;
    this.session = undefined;
    this.announced = [];
    this.ingests.clear();
  }
}
