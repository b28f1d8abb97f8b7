import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { SdpSessionDescription } from '../protocol/sdp.js';
import { StreamClock } from './clock.js';
import { H264TrackCodec, type H264TrackOptions } from './formats/h264.js';
import { H265TrackCodec, type H265TrackOptions } from './formats/h265.js';
import { type MulticastOptions, type ResolvedMulticast, resolveMulticast } from './multicast.js';
import { Track, type TrackCodec } from './track.js';

export type VideoTrackOptions =
  | ({ codec: 'H264' } & H264TrackOptions)
  | ({ codec: 'H265' } & H265TrackOptions);

export interface StreamOptions {
  video?: VideoTrackOptions;
  /** Any format: the application supplies the codec object (see TrackCodec). */
  tracks?: TrackCodec[];
  /** Session name in the SDP (`s=`). */
  title?: string;
  /**
   * Offer multicast on this group (SETUP with `multicast` in Transport); without it a multicast
   * SETUP gets 461. Every multicast reader of a track shares one send per packet.
   */
  multicast?: MulticastOptions;
}

/** Source of random numbers for RTP state. */
export interface RtpRandomSource {
  uint32(): number;
  uint16(): number;
}

/** Random numbers for RTP state (SSRC, first sequence number, first timestamp): RFC 3550 wants them unpredictable. */
export const rtpRandom: RtpRandomSource = {
  uint32: (): number => randomBytes(4).readUInt32BE(0),
  uint16: (): number => randomBytes(2).readUInt16BE(0),
};

/** What a Stream tells: a track added, its source down or back, the stream closed. */
export interface StreamEvents {
  track: [track: Track];
  unavailable: [reason: string];
  available: [];
  close: [];
  /** Someone wants to play: a DESCRIBE, or the first session. An on-demand source starts on it. */
  demand: [];
  /** The last session ended. An on-demand source stops on it (after its linger). */
  idle: [];
}

/**
 * A path on the server (e.g. `/cam`) with its tracks. Sources push into the tracks; the server's
 * sessions subscribe to them.
 */
export class Stream extends EventEmitter<StreamEvents> {
  readonly path: string;
  readonly tracks: Track[] = [];
  readonly title: string;
  /** The multicast group readers may join, when offered. */
  readonly multicast: ResolvedMulticast | undefined;
  /** The timeline all tracks share (see StreamClock). */
  readonly clock = new StreamClock();
  private closed = false;
  private unavailable: string | undefined;
  private sessionCount = 0;

  constructor(path: string, options: StreamOptions) {
    super();
    this.path = path;
    this.title = options.title ?? path;
    this.multicast = options.multicast && resolveMulticast(options.multicast);
    if (options.video) {
      const v = options.video;
      if (v.codec === 'H264') this.addTrack(new H264TrackCodec(v));
      else if (v.codec === 'H265') this.addTrack(new H265TrackCodec(v));
      else throw new TypeError(`unsupported video codec ${String((v as { codec: unknown }).codec)}`);
    }
    for (const codec of options.tracks ?? []) this.addTrack(codec);
  }

  /** The first video track, if any: `stream.video.push(annexB, { pts })`. */
  get video(): Track | undefined {
    return this.tracks.find((t) => t.kind === 'video');
  }

  /**
   * Why the stream cannot be played now (its source is down or not yet started), or undefined when
   * it can. While set, DESCRIBE and SETUP answer 503 with Retry-After; sessions already playing go on
   * (they see a gap in the media).
   */
  get unavailableReason(): string | undefined {
    return this.unavailable;
  }

  /** Marks the stream as not playable for now, with a reason shown to clients and in logs. */
  setUnavailable(reason: string): void {
    const was = this.unavailable;
    this.unavailable = reason;
    if (was === undefined) this.emit('unavailable', reason);
  }

  /** Marks the stream as playable again. */
  setAvailable(): void {
    if (this.unavailable === undefined) return;
    this.unavailable = undefined;
    this.emit('available');
  }

  /** Sessions the server holds on this stream. */
  get sessions(): number {
    return this.sessionCount;
  }

  /** A source listens for `demand`: it starts when a client asks, so DESCRIBE may wait for it. */
  get onDemand(): boolean {
    return this.listenerCount('demand') > 0;
  }

  /** A client asks for the stream (DESCRIBE). */
  want(): void {
    this.emit('demand');
  }

  /** The server opened a session on this stream. */
  sessionOpened(): void {
    if (++this.sessionCount === 1) this.emit('demand');
  }

  /** The server ended a session on this stream. */
  sessionClosed(): void {
    if (this.sessionCount === 0) return;
    if (--this.sessionCount === 0) this.emit('idle');
  }

  /** Resolves true once the stream is available, false after `timeoutMs` without. */
  whenAvailable(timeoutMs: number): Promise<boolean> {
    if (this.unavailable === undefined) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.off('available', onAvailable);
        resolve(ok);
      };
      const onAvailable = (): void => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.on('available', onAvailable);
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  addTrack(codec: TrackCodec): Track {
    const track = new Track(this.tracks.length, codec, rtpRandom.uint32, this.clock);
    this.tracks.push(track);
    // A stream created empty may learn its tracks later (a source that starts after the path exists).
    this.emit('track', track);
    return track;
  }

  /**
   * Replaces every track with new ones (a publisher announcing other formats): the old tracks lose
   * their subscribers, whose sessions the caller ends first.
   */
  replaceTracks(codecs: readonly TrackCodec[]): Track[] {
    for (const t of this.tracks.splice(0)) t.close();
    return codecs.map((c) => this.addTrack(c));
  }

  trackByControl(control: string): Track | undefined {
    return this.tracks.find((t) => t.control === control);
  }

  /** The track a new client's first picture comes from: the first video track, else the first track. */
  get leadTrack(): Track | undefined {
    return this.video ?? this.tracks[0];
  }

  /** SDP for DESCRIBE. `originAddress` is the server address the client connected to. */
  sessionDescription(originAddress: string, sessionId: string): SdpSessionDescription {
    return {
      sessionName: this.title,
      origin: { username: '-', sessionId, sessionVersion: '1', address: originAddress },
      connectionAddress: originAddress.includes(':') ? '::' : '0.0.0.0',
      tool: 'smolrtsp',
      control: '*',
      range: 'npt=now-',
      media: this.tracks.map((t) => t.describe()),
    };
  }

  /** Detaches every subscriber; the server ends their sessions. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.tracks) t.close();
    this.emit('close');
  }
}
