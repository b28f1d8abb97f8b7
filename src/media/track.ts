import type { SdpMediaDescription } from '../protocol/sdp.js';
import type { RtpBatchWriter, RtpPacketBatch } from '../rtp/batch.js';
import { RtpSender } from '../rtp/sender.js';
import { StreamClock } from './clock.js';

/**
 * What a track needs from a payload format: turn one access unit into one RTP batch, and describe
 * itself in SDP. One codec instance per track. The RTP state (SSRC, sequence numbers, timestamp
 * base, counts) is the track's `sender`: `packetize` lays payloads out with the writer it is given.
 */
export interface TrackCodec {
  readonly encoding: string;
  readonly clockRate: number;
  /** Read once, when the track is created: the payload type its packets carry. */
  readonly payloadType: number;
  readonly kind: 'video' | 'audio' | 'application';
  /** True once the codec knows enough to describe itself (e.g. H.264 has seen SPS and PPS). */
  readonly ready: boolean;
  /** Turns what an application pushes (e.g. Annex-B bytes) into the units `packetize` takes. */
  toUnits(data: Buffer | Buffer[]): Buffer[];
  /**
   * Packetizes one access unit into a batch built with `writer` (`begin`, `startPacket` per
   * packet, `finish`; `packetizePayloads` for ready payloads); returns null when there is nothing
   * to send.
   */
  packetize(units: Buffer[], rtpTimestamp: number, writer: RtpBatchWriter): RtpPacketBatch | null;
  /** The SDP media section, minus the control attribute which the track adds. */
  describe(): Omit<SdpMediaDescription, 'control'>;
  /**
   * Audio: the RTP timestamp right after the last packetized sample, where continuous audio goes
   * on. Lets pushes without a pts follow the sample count rather than arrival jitter.
   */
  readonly continuesAt?: number | undefined;
}

/** Receives every batch of a track it subscribed to. Implemented by the server's transports. */
export interface TrackSink {
  deliver(batch: RtpPacketBatch, track: Track): void;
}

export interface PushOptions {
  /** Presentation time in microseconds, on any monotonic timeline of the source's choosing. */
  pts?: number;
}

/** What a track has sent, for the status view. */
export interface TrackStats {
  readonly packets: number;
  readonly octets: number;
  readonly accessUnits: number;
}

/**
 * Fewest access units between two keyframes forced for joining clients. An IDR of the test
 * pattern is about 19 times a P frame (640x480), so one in 10 frames caps a flood of joins at about
 * twice the stream's usual bit rate, while a client that joins right after a keyframe waits at most
 * 10 frames (0.4 s at 25 fps) for the next.
 */
export const FORCED_KEYFRAME_MIN_FRAMES = 10;

/** Wall-clock (ms since Unix epoch, sub-ms) now: the clock sender reports use for all tracks. */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * One media track of a stream. A source pushes access units into it; it packetizes each one once
 * and hands the same batch to every sink (fan-out). Sinks that joined mid-GOP are not special-cased
 * here: the transport drops batches until it sees a keyframe.
 */
export class Track {
  readonly id: number;
  readonly control: string;
  readonly codec: TrackCodec;
  /** The track's RTP state (SSRC, sequence numbers, timestamp base, counts) and its RTCP SR and BYE. */
  readonly sender: RtpSender;

  private readonly sinks = new Set<TrackSink>();
  /** Access units since the last keyframe went out (video): what bounds forced keyframes. */
  private framesSinceKeyframe = Number.POSITIVE_INFINITY;
  /** A keyframe was asked of the source and has not come yet: later requests wait for that one. */
  private keyframeAsked = false;
  /** A request came too soon after the last keyframe: asked once the bound allows. */
  private keyframeDeferred = false;
  private readonly readyWaiters: Array<() => void> = [];
  private accessUnits = 0;

  constructor(
    id: number,
    codec: TrackCodec,
    randomUint32: () => number,
    /** The stream's shared timeline: one per stream, so all its tracks map to one wall clock. */
    private readonly clock: StreamClock = new StreamClock(),
  ) {
    this.id = id;
    this.control = `trackID=${id}`;
    this.codec = codec;
    this.sender = new RtpSender({
      payloadType: codec.payloadType,
      ssrc: randomUint32(),
      initialSequence: randomUint32() & 0xffff,
      timestampBase: randomUint32(),
      ticksAt: (wallMs) => this.ticks(this.clock.elapsedUsAtWall(wallMs)),
    });
  }

  get kind(): TrackCodec['kind'] {
    return this.codec.kind;
  }

  get subscriberCount(): number {
    return this.sinks.size;
  }

  /** True once at least one access unit has been packetized (so timing is known). */
  get started(): boolean {
    return this.sender.started;
  }

  get stats(): TrackStats {
    return {
      packets: this.sender.packetCount,
      octets: this.sender.octetCount,
      accessUnits: this.accessUnits,
    };
  }

  subscribe(sink: TrackSink): void {
    this.sinks.add(sink);
  }

  unsubscribe(sink: TrackSink): void {
    this.sinks.delete(sink);
  }

  /**
   * Pushes one access unit: Annex-B bytes or an array of NAL units for video, one frame for audio.
   * Never blocks and never throws for load; throws a MediaFormatError only for bytes it cannot read.
   */
  push(data: Buffer | Buffer[], options: PushOptions = {}): void {
    this.pushUnits(this.codec.toUnits(data), options);
  }

  /** Like push, with the access unit already split into units. */
  pushUnits(units: Buffer[], options: PushOptions = {}): void {
    const now = wallClockMs();
    // Without a pts the arrival time is the presentation time (a live encoder pushing as it encodes).
    const ptsUs = options.pts ?? now * 1000;
    this.clock.observe(ptsUs, now);
    let rtpTimestamp = this.sender.timestamp(this.ticks(this.clock.elapsedUsAtPts(ptsUs)));
    if (options.pts === undefined) rtpTimestamp = this.alignToSamples(rtpTimestamp);
    let batch: RtpPacketBatch | null;
    try {
      batch = this.codec.packetize(units, rtpTimestamp, this.sender.writer);
    } finally {
      // Readiness may come from toUnits (an ADTS header) or from packetize (parameter sets), and
      // packetize may still refuse a unit after learning them: wake DESCRIBEs waiting in any case.
      if (this.readyWaiters.length > 0 && this.codec.ready) this.flushReadyWaiters();
    }
    if (batch === null || batch.packets.length === 0) return;
    this.sender.countSent(batch);
    this.accessUnits++;
    if (batch.keyframe) {
      this.framesSinceKeyframe = 0;
      this.keyframeAsked = false;
    } else this.framesSinceKeyframe++;
    for (const sink of this.sinks) {
      // One failing client must not cost the others this frame, nor the source its push.
      try {
        sink.deliver(batch, this);
      } catch (err) {
        this.sinks.delete(sink);
        this.onSinkError?.(err, sink);
      }
    }
    if (this.keyframeDeferred && this.nextFrameMayBeForced()) {
      this.keyframeDeferred = false;
      this.askForKeyframe();
    }
  }

  /** Told about a sink that threw (it is dropped); the server reports it. */
  onSinkError: ((err: unknown, sink?: TrackSink) => void) | undefined;

  /**
   * Set by a source that can make a keyframe on demand (an encoder): called when a client that
   * joined waits for one. It should only note the request (e.g. make the next frame an IDR); it
   * may be called from within `push`. Sources that cannot (files, relays) leave it unset and
   * clients wait for the next keyframe.
   */
  onKeyframeRequest: (() => void) | undefined;

  /**
   * Asks the source for a keyframe for a client that just joined. Requests are coalesced: all that
   * come before the asked-for keyframe goes out are served by it, so a crowd joining within one
   * frame interval costs one keyframe, at the next frame. And forced keyframes come at least
   * FORCED_KEYFRAME_MIN_FRAMES access units after the last keyframe: a request sooner waits until
   * then, so a stream of joins cannot turn the stream into keyframes only.
   */
  requestKeyframe(): void {
    if (!this.onKeyframeRequest || this.keyframeAsked) return;
    if (!this.nextFrameMayBeForced()) {
      this.keyframeDeferred = true;
      return;
    }
    this.askForKeyframe();
  }

  /** The next access unit would be at least FORCED_KEYFRAME_MIN_FRAMES after the last keyframe. */
  private nextFrameMayBeForced(): boolean {
    return this.framesSinceKeyframe + 1 >= FORCED_KEYFRAME_MIN_FRAMES;
  }

  private askForKeyframe(): void {
    this.keyframeAsked = true;
    try {
      this.onKeyframeRequest?.();
    } catch (err) {
      // A source's hook is not the joining client's fault, nor the push's that may have called it.
      this.onSinkError?.(err);
    }
  }

  /** Resolves once the codec can describe itself (e.g. SPS/PPS seen), or after `timeoutMs`. */
  whenReady(timeoutMs: number): Promise<boolean> {
    if (this.codec.ready) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const i = this.readyWaiters.indexOf(done);
        if (i >= 0) this.readyWaiters.splice(i, 1);
        resolve(this.codec.ready);
      }, timeoutMs);
      this.readyWaiters.push(done);
    });
  }

  /** RTP timestamp that corresponds to wall-clock `wallMs` on the stream's timeline. */
  rtpTimestampAt(wallMs: number): number {
    return this.sender.timestampAt(wallMs);
  }

  describe(): SdpMediaDescription {
    return { ...this.codec.describe(), control: this.control };
  }

  /** Wakes every waiter (used when the stream goes away). */
  close(): void {
    this.sinks.clear();
    this.flushReadyWaiters();
  }

  private flushReadyWaiters(): void {
    for (const w of this.readyWaiters.splice(0)) w();
  }

  /**
   * Audio pushed without a pts, as a live encoder does, arrives with timer jitter: stamped by
   * arrival, every packet would look like a new talkspurt (marker) with uneven steps. Continue from
   * the previous push's last sample unless the push comes more than 40 ms late (a real gap) or
   * the sample count has run more than a second ahead of the clock (a source faster than real time).
   */
  private alignToSamples(byArrival: number): number {
    const next = this.codec.continuesAt;
    if (next === undefined || this.codec.kind !== 'audio') return byArrival;
    const late = (byArrival - next) | 0; // ticks, signed across the 32-bit wrap
    const rate = this.codec.clockRate;
    return late < rate * 0.04 && late > -rate ? next : byArrival;
  }

  /** RTP clock ticks in `elapsedUs` of the stream's timeline. */
  private ticks(elapsedUs: number): number {
    return Math.round((elapsedUs * this.codec.clockRate) / 1_000_000);
  }
}
