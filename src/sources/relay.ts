/**
 * A relay: one RTSP session to an upstream server (a camera, another smolrtsp) feeds a stream that
 * any number of players watch through the server's fan-out.
 */
import { EventEmitter } from 'node:events';
import type { ClientTrack, RtspClientTransport, RtspClientUnit } from '../client/rtsp-client.js';
import { RtspClient } from '../client/rtsp-client.js';
import { announcedTrack } from '../media/announced-track.js';
import type { Stream } from '../media/stream.js';
import { type Track, type TrackCodec, wallClockMs } from '../media/track.js';
import { withoutUserInfo } from '../protocol/url.js';
import { SenderTimeline, type SenderTrackTimeline } from '../rtp/sender-timeline.js';
import type { Source, SourceEvents } from './source.js';

/** Units held from an upstream's PLAY answer until the relay's tracks exist (a GOP or so). */
const MAX_EARLY_UNITS = 300;

/**
 * Lower transport to the upstream: 'auto' tries UDP and falls back to TCP when the UDP SETUP is
 * refused or UDP carries no RTP after PLAY (see `RtspClientTransport`).
 */
export type RelayTransport = RtspClientTransport;

export interface RelaySourceOptions {
  /** `rtsp://[user:password@]host[:port]/path` of the upstream. */
  url: string;
  /** Default 'tcp' (interleaved: passes NATs and firewalls, no loss). */
  transport?: RelayTransport;
  /** 'auto': how long UDP may carry no RTP after PLAY before the relay plays over TCP. Default 3000 ms. */
  udpTimeoutMs?: number;
  /**
   * true: no upstream session until a player asks (DESCRIBE or SETUP); stopped `lingerMs` after the
   * last player leaves. false (default): pulled from `start()` on, always.
   */
  onDemand?: boolean;
  /** How long an on-demand upstream stays after the last player left. Default 10 000 ms. */
  lingerMs?: number;
  /** Delay before retrying an upstream that failed, doubling from `initialDelayMs` (500) to `maxDelayMs` (10 000). */
  retry?: { initialDelayMs?: number; maxDelayMs?: number };
  /** How long a connect or a request to the upstream may take. Default 10 000 ms. */
  requestTimeoutMs?: number;
}

/** Keeps the tracks that the stream can serve (the SDP maps to a track codec). */
function servable(track: ClientTrack): boolean {
  try {
    announcedTrack(track.media);
    return true;
  } catch {
    return false;
  }
}

/** Same formats in the same order: the stream's tracks can take the upstream's media as they are. */
function sameShape(tracks: readonly Track[], codecs: readonly TrackCodec[]): boolean {
  return (
    tracks.length === codecs.length &&
    tracks.every((t, i) => t.codec.describe().encoding === codecs[i].describe().encoding)
  );
}

/**
 * Pulls an upstream RTSP stream with `RtspClient` and pushes its access units into a stream, whose
 * tracks it adds once the upstream's DESCRIBE is known (`open()` resolves with none). While the
 * upstream is down the stream is unavailable (503 to new players); players already in keep their
 * sessions and see a gap. Each failed try is a `restart` event with the reason (`401 Unauthorized`,
 * `404 Not Found`, `ECONNREFUSED`, a timeout).
 */
export class RelaySource extends EventEmitter<SourceEvents> implements Source {
  readonly kind = 'relay';
  readonly description: string;
  private readonly options: RelaySourceOptions;
  private stream: Stream | undefined;
  private client: RtspClient | undefined;
  /** Each upstream run has its own number: a stopped run's late callbacks do nothing. */
  private generation = 0;
  private active = false;
  private stopped = false;
  private attempt = 0;
  /** 'auto' until a client fell back to TCP: later upstream sessions start over TCP. */
  private transport: RelayTransport;
  private lingerTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private wakeRetry: (() => void) | undefined;
  /** Upstream track index → our track, and its place on the upstream's timeline. */
  private readonly routes = new Map<number, { track: Track; timeline: SenderTrackTimeline }>();
  /** The upstream's tracks on one timeline: its RTCP sender reports line them up. */
  private timeline = new SenderTimeline();
  /** Latest pts pushed per track: a new upstream run's media starts after it. */
  private readonly lastPts = new WeakMap<Track, number>();

  constructor(options: RelaySourceOptions) {
    super();
    this.options = options;
    // Throws for a URL that is not rtsp:// (a constructor that checks, like RtspClient's).
    new RtspClient(options.url);
    this.description = `relay ${withoutUserInfo(options.url)}${options.onDemand ? ' (on demand)' : ''}`;
    this.transport = options.transport ?? 'tcp';
  }

  /** The upstream session is up (or being set up). */
  get upstreamActive(): boolean {
    return this.active;
  }

  async open(): Promise<readonly TrackCodec[]> {
    return [];
  }

  start(stream: Stream): void {
    if (this.stream) throw new Error('this relay already feeds a stream');
    this.stream = stream;
    this.stopped = false;
    if (this.options.onDemand) {
      stream.setUnavailable('relay idle: the upstream starts when a player asks');
      stream.on('demand', this.onDemand);
      stream.on('idle', this.onIdle);
    } else {
      this.connect();
    }
  }

  stop(): void {
    this.stopped = true;
    this.clearLinger();
    this.disconnect();
    if (this.stream) {
      this.stream.off('demand', this.onDemand);
      this.stream.off('idle', this.onIdle);
    }
  }

  private readonly onDemand = (): void => {
    this.clearLinger();
    if (!this.active) this.connect();
    // A DESCRIBE that no SETUP follows must not keep the upstream forever.
    if (this.stream && this.stream.sessions === 0) this.armLinger();
  };

  private readonly onIdle = (): void => this.armLinger();

  private armLinger(): void {
    this.clearLinger();
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      if (!this.stream || this.stream.sessions > 0) return;
      this.disconnect();
      this.stream.setUnavailable('relay idle: the upstream starts when a player asks');
      this.emit('info', `upstream stopped: no players for ${this.options.lingerMs ?? 10_000} ms`);
    }, this.options.lingerMs ?? 10_000);
    this.lingerTimer.unref();
  }

  private clearLinger(): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
  }

  private connect(): void {
    this.active = true;
    const gen = ++this.generation;
    this.run(gen).catch((err: Error) => {
      if (gen === this.generation && !this.stopped) this.emit('error', err);
    });
  }

  private disconnect(): void {
    this.active = false;
    this.generation++;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.wakeRetry?.();
    const client = this.client;
    this.client = undefined;
    void client?.close();
  }

  private nextDelay(): number {
    const initial = this.options.retry?.initialDelayMs ?? 500;
    const max = this.options.retry?.maxDelayMs ?? 10_000;
    return Math.min(max, initial * 2 ** Math.min(this.attempt - 1, 30));
  }

  /** Connects until the upstream plays (retrying with backoff), then maps its tracks into the stream. */
  private async run(gen: number): Promise<void> {
    const stream = this.stream;
    if (!stream) return;
    const current = (): boolean => gen === this.generation && !this.stopped;
    if (stream.tracks.length === 0) stream.setUnavailable('relay: connecting to the upstream');
    let tracks: ClientTrack[];
    let client: RtspClient;
    // The upstream's first units can come with its PLAY answer, before start() resolves and the
    // routes exist: held until then (that first keyframe is what the players start from).
    let held: RtspClientUnit[] | undefined;
    for (;;) {
      const attempt = this.newClient(gen);
      client = attempt;
      this.client = attempt;
      held = [];
      attempt.on('unit', (unit) => {
        if (!current() || this.client !== attempt) return;
        if (held === undefined) this.onUnit(unit);
        else if (held.length < MAX_EARLY_UNITS) held.push(unit);
      });
      try {
        tracks = await client.start();
        if (!current()) {
          void client.close();
          return;
        }
        if (tracks.length === 0) throw new Error('the upstream describes no track this server can relay');
        break;
      } catch (err) {
        void client.close();
        if (!current()) return;
        this.attempt++;
        const reason = (err as Error).message;
        stream.setUnavailable(reason);
        const delay = this.nextDelay();
        this.emit('restart', this.attempt, delay, reason);
        await new Promise<void>((resolve) => {
          this.wakeRetry = resolve;
          this.retryTimer = setTimeout(resolve, delay);
        });
        this.wakeRetry = undefined;
        this.retryTimer = undefined;
        if (!current()) return;
      }
    }
    this.attempt = 0;
    const codecs = tracks.map((t) => announcedTrack(t.media).codec);
    let ours: Track[];
    if (stream.tracks.length === 0) {
      ours = codecs.map((c) => stream.addTrack(c));
      this.emit('tracks', codecs);
    } else if (sameShape(stream.tracks, codecs)) {
      ours = stream.tracks;
    } else {
      // The upstream changed formats while no one watched (an on-demand restart).
      ours = stream.replaceTracks(codecs);
      this.emit('tracks', codecs);
    }
    this.routes.clear();
    // A new client: its pts start again at 0, its tracks line up anew.
    this.timeline = new SenderTimeline();
    for (const [i, t] of tracks.entries()) {
      const last = this.lastPts.get(ours[i]);
      this.routes.set(t.index, {
        track: ours[i],
        timeline: this.timeline.track(last === undefined ? undefined : last + 1000),
      });
    }
    client.on('reconnect', (info) => {
      if (!current()) return;
      const reason = info.error.message;
      stream.setUnavailable(reason);
      this.emit('restart', info.attempt, info.delayMs, reason);
    });
    client.on('playing', () => {
      if (!current()) return;
      // The client reconnected: a new upstream session, whose sender reports line the tracks up again.
      this.timeline.restart();
      stream.setAvailable();
    });
    client.on('error', () => {
      // Reported through `reconnect` (with the attempt and delay).
    });
    const early = held ?? [];
    held = undefined;
    for (const unit of early) this.onUnit(unit);
    stream.setAvailable();
    this.emit('info', `upstream playing: ${tracks.map((t) => t.codec).join(', ')}`);
  }

  private newClient(gen: number): RtspClient {
    const client = new RtspClient(this.options.url, {
      transport: this.transport,
      udpTimeoutMs: this.options.udpTimeoutMs,
      tracks: servable,
      requestTimeoutMs: this.options.requestTimeoutMs,
      reconnect: {
        initialDelayMs: this.options.retry?.initialDelayMs,
        maxDelayMs: this.options.retry?.maxDelayMs,
      },
    });
    // The client switches at once (a refused UDP SETUP, or UDP that carries nothing); a path that
    // drops UDP drops it next time too, so the relay's later sessions skip the wait.
    client.on('fallback', ({ reason }) => {
      this.transport = 'tcp';
      if (gen === this.generation && !this.stopped) this.emit('info', `upstream: ${reason}`);
    });
    return client;
  }

  private onUnit(unit: RtspClientUnit): void {
    const route = this.routes.get(unit.track.index);
    if (!route) return;
    // The client's pts start at 0 per track (and go on across its reconnects); the upstream's sender
    // reports (unit.senderTime), not when each track's first unit came, say how the tracks line up.
    const pts = route.timeline.ptsUs(unit.pts, wallClockMs() * 1000, unit.senderTime);
    this.lastPts.set(route.track, Math.max(this.lastPts.get(route.track) ?? pts, pts));
    try {
      route.track.push(unit.data, { pts });
    } catch (err) {
      this.emit('info', `upstream unit dropped: ${(err as Error).message}`);
    }
  }
}
