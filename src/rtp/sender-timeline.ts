/**
 * Puts the tracks of one remote sender (a publisher, a relay's upstream) on one timeline, the way
 * RFC 3550 section 6.4.1 means: each track's RTCP sender reports pair an RTP timestamp with the
 * sender's wall clock (NTP), and that, not when a track's first packet happened to arrive, says
 * which audio goes with which picture. Pure: every time is passed in.
 *
 * A track is anchored at its first packet's arrival until its first sender report. Then it joins
 * its session: pts follow the sender's clock plus one offset shared by every joined track, so they
 * line up. Changes of pts never go backwards by more than a slew step (1 ms), because players drop
 * or garble media whose timestamps run back:
 * - Joining keeps the joining track where it is and steps the others forward when it arrived late
 *   relative to its sender time (the shared offset only ever grows), or steps the joining track
 *   forward when it arrived early. That one-time step is at most MAX_ALIGN_STEP_US; a track whose
 *   sender time would need more is not believed (a sender with unrelated clocks per track) and
 *   stays anchored by arrival.
 * - Later reports that move a track's sender time by little (RTP clock drift against the sender's
 *   wall clock) are followed at most MAX_SLEW_PER_UNIT_US per unit, below any frame's duration.
 * - A report that moves it by more than CLOCK_JUMP_US is the sender's clock stepping (NTP set at
 *   boot, a daylight bug): absorbed, pts go on as before; the sender's other tracks see the same
 *   step in their next reports and absorb it alike, so they stay lined up.
 */
import { ntpToMs } from './ntp.js';

/** Largest one-time step (µs) that lines a track up with its session at its first sender report. */
export const MAX_ALIGN_STEP_US = 5_000_000;
/** A change of a track's sender time against its RTP time beyond this (µs) is the sender's clock jumping. */
export const CLOCK_JUMP_US = 100_000;
/** Drift is followed at most this much (µs) per unit: less than any frame lasts, so pts keep their order. */
export const MAX_SLEW_PER_UNIT_US = 1_000;

/**
 * A track's latest RTCP sender report: maps its RTP timestamps to the sender's wall clock. Valid
 * within ±2^31 clock ticks of the report (6.6 hours at 90 kHz), which the 32-bit wrap allows.
 */
export class SenderReportClock {
  private ntpUs: number | undefined;
  private rtpTimestamp = 0;
  /** SSRC the report came from. */
  ssrc: number | undefined;

  constructor(readonly clockRate: number) {}

  /** An SR's NTP time and RTP timestamp (the sender info block). */
  report(ntpSeconds: number, ntpFraction: number, rtpTimestamp: number, ssrc?: number): void {
    this.ntpUs = ntpToMs(ntpSeconds, ntpFraction) * 1000;
    this.rtpTimestamp = rtpTimestamp >>> 0;
    this.ssrc = ssrc;
  }

  /** Forgets the report (a new session of the sender: new SSRC, new timestamp base). */
  reset(): void {
    this.ntpUs = undefined;
    this.ssrc = undefined;
  }

  /** Microseconds since the Unix epoch on the sender's clock at `rtpTimestamp`; undefined before any SR. */
  senderUsAt(rtpTimestamp: number): number | undefined {
    if (this.ntpUs === undefined) return undefined;
    const ticks = ((rtpTimestamp >>> 0) - this.rtpTimestamp) | 0; // signed across the wrap
    return this.ntpUs + (ticks * 1_000_000) / this.clockRate;
  }
}

/** Unwraps 32-bit RTP timestamps into microseconds of media time, 0 at the first one. */
export class RtpMediaTime {
  private last: number | undefined;
  private ticks = 0;

  constructor(readonly clockRate: number) {}

  /** Media time of `rtpTimestamp`: signed steps from the previous one, so the wrap and B-frames pass. */
  usAt(rtpTimestamp: number): number {
    const ts = rtpTimestamp >>> 0;
    if (this.last !== undefined) this.ticks += (ts - this.last) | 0;
    this.last = ts;
    return (this.ticks * 1_000_000) / this.clockRate;
  }
}

/** The tracks of one sender session and the offset (our pts − sender time) their joined tracks share. */
export class SenderTimeline {
  private offsetUs: number | undefined;
  private readonly tracks: SenderTrackTimeline[] = [];

  /**
   * A track of this sender. `notBeforeUs`: the pts its arrival anchor may not precede (where an
   * earlier sender's media on the same track ended), so a new sender never runs the track back.
   */
  track(notBeforeUs?: number): SenderTrackTimeline {
    const t = new SenderTrackTimeline(this, notBeforeUs);
    this.tracks.push(t);
    return t;
  }

  /**
   * The sender started a new session (a reconnect: new SSRCs, timestamp bases, maybe clock): every
   * track keeps its pts where they are and lines up again with the new session's reports.
   */
  restart(): void {
    for (const t of this.tracks) t.leave();
    this.offsetUs = undefined;
  }

  /** The shared offset; undefined before any track joined. */
  get sharedOffsetUs(): number | undefined {
    return this.offsetUs;
  }

  /**
   * A track asks to join with the offset that would keep it where it is. Refused (false) when that
   * is more than MAX_ALIGN_STEP_US from the shared one. A larger offset becomes the shared one (the
   * joined tracks step forward), a smaller one means the joining track steps forward.
   */
  admit(candidateUs: number): boolean {
    if (this.offsetUs === undefined) {
      this.offsetUs = candidateUs;
      return true;
    }
    const step = candidateUs - this.offsetUs;
    if (Math.abs(step) > MAX_ALIGN_STEP_US) return false;
    if (step > 0) this.offsetUs = candidateUs;
    return true;
  }
}

/** One track's map from media time (and arrival, and sender time when known) to pts on our wall clock. */
export class SenderTrackTimeline {
  /** pts − media time while anchored by arrival. */
  private arrivalBaseUs: number | undefined;
  private joined = false;
  /** Sender time − media time as followed (slewed). */
  private followedUs = 0;
  /** Sender time − media time as last seen (to tell a jump from drift). */
  private observedUs = 0;
  /** Sender clock jumps absorbed since joining. */
  private jumpsUs = 0;

  constructor(
    private readonly session: SenderTimeline,
    private readonly notBeforeUs?: number,
  ) {}

  /** True once the track follows its sender reports. */
  get senderAligned(): boolean {
    return this.joined;
  }

  /**
   * The pts (µs, our wall clock) of a unit at `mediaUs` (unwrapped RTP time, any origin) that
   * arrived at `arrivalUs` (our wall clock, µs); `senderUs` is its sender time from the latest
   * sender report (SenderReportClock), undefined before one.
   */
  ptsUs(mediaUs: number, arrivalUs: number, senderUs?: number): number {
    if (!this.joined && this.arrivalBaseUs === undefined) {
      const anchor = this.notBeforeUs === undefined ? arrivalUs : Math.max(arrivalUs, this.notBeforeUs);
      this.arrivalBaseUs = anchor - mediaUs;
    }
    if (senderUs !== undefined) this.follow(senderUs - mediaUs);
    return mediaUs + this.baseUs();
  }

  /** Back to arrival anchoring, at the pts the track has now (see SenderTimeline.restart). */
  leave(): void {
    if (this.joined) this.arrivalBaseUs = this.baseUs();
    this.joined = false;
  }

  /** pts − media time now. */
  private baseUs(): number {
    if (this.joined) return this.followedUs + (this.session.sharedOffsetUs ?? 0);
    return this.arrivalBaseUs ?? 0;
  }

  private follow(relationUs: number): void {
    if (!this.joined) {
      // The offset that keeps this track's pts where they are.
      if (!this.session.admit((this.arrivalBaseUs ?? 0) - relationUs)) return;
      this.joined = true;
      this.followedUs = relationUs;
      this.observedUs = relationUs;
      this.jumpsUs = 0;
      return;
    }
    const change = relationUs - this.observedUs;
    this.observedUs = relationUs;
    if (Math.abs(change) > CLOCK_JUMP_US) this.jumpsUs += change;
    const error = relationUs - this.jumpsUs - this.followedUs;
    this.followedUs += Math.max(-MAX_SLEW_PER_UNIT_US, Math.min(MAX_SLEW_PER_UNIT_US, error));
  }
}
