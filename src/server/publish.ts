/**
 * Publishing (RFC 2326 ANNOUNCE / SETUP mode=record / RECORD): the announced SDP becomes track codecs,
 * and each track's incoming RTP is checked, depacketized and pushed into the path's tracks, so
 * players get it through the same fan-out as any other source.
 */

import type { AnnouncedTrack, Unpacked } from '../media/announced-track.js';
import type { MulticastOptions } from '../media/multicast.js';
import { type Track, wallClockMs } from '../media/track.js';

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

/**
 * One published track's receiving end: checks each RTP packet (version, payload type, one SSRC),
 * depacketizes it and pushes whole access units into `track` with a pts from the RTP timestamp,
 * anchored at the track's first packet. Never throws: what it cannot use is counted and dropped.
 */
export class TrackIngest {
  private readonly unpack: (packet: Buffer) => Unpacked | null;
  private ssrc: number | undefined;
  private anchor: { wallUs: number; timestamp: number; extended: number } | undefined;

  constructor(
    readonly track: Track,
    private readonly announced: AnnouncedTrack,
    readonly stats: IngestStats,
  ) {
    this.unpack = announced.depacketizer();
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
      this.track.pushUnits(au.units, { pts: this.ptsUs(au.timestamp) });
      stats.accessUnits++;
    } catch {
      stats.malformed++;
    }
  }

  /** Microseconds on the wall clock: the first access unit at its arrival, the rest by RTP time. */
  private ptsUs(timestamp: number): number {
    if (!this.anchor) {
      this.anchor = { wallUs: wallClockMs() * 1000, timestamp, extended: 0 };
      return this.anchor.wallUs;
    }
    // Signed 32-bit step from the last timestamp: survives the wrap and small reordering.
    const step = (timestamp - this.anchor.timestamp) | 0;
    this.anchor.timestamp = timestamp;
    this.anchor.extended += step;
    return this.anchor.wallUs + (this.anchor.extended * 1_000_000) / this.announced.clockRate;
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

  /** Frees the path for the next publisher. */
  release(): void {
    this.owner = undefined;
    this.session = undefined;
    this.announced = [];
    this.ingests.clear();
  }
}
