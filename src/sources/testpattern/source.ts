import { EventEmitter } from 'node:events';
import { G711TrackCodec } from '../../media/formats/g711.js';
import { H264TrackCodec } from '../../media/formats/h264.js';
import type { Stream } from '../../media/stream.js';
import { Track, type TrackCodec, wallClockMs } from '../../media/track.js';
import type { Source, SourceEvents } from '../source.js';
import { TestPatternEncoder, type TestPatternOptions } from './test-pattern-encoder.js';
import { ToneGenerator } from './tone.js';

export interface TestPatternSourceOptions extends TestPatternOptions {
  /** Stops the source when aborted. */
  signal?: AbortSignal;
  /**
   * Answer a client waiting for a keyframe with an IDR at the next frame instead of at the GOP end
   * (default true). The track coalesces joins into one IDR and forces at most one in
   * FORCED_KEYFRAME_MIN_FRAMES frames, so a crowd of joiners cannot flood the stream.
   */
  keyframeOnJoin?: boolean;
  /**
   * A track to carry the pattern's sound (a tone with a beep each second), fed 16-bit PCM at its
   * clock rate: e.g. a `G711TrackCodec({ law: 'mulaw', input: 's16le' })` track of the same stream.
   */
  audioTrack?: Track;
  /**
   * As a `Source` (made without a track): give the stream a sound track too, a G.711 µ-law track
   * that `open()` lists after the video (default false).
   */
  audio?: boolean;
}

/** CPU the generator has used, for the status view and the benchmark. */
export interface TestPatternStats {
  frames: number;
  /** Seconds of video generated. */
  videoSeconds: number;
  /** CPU milliseconds spent drawing and encoding (wall time of the synchronous work). */
  encodeMs: number;
}

/**
 * The built-in live source: draws and encodes the test pattern in real time (see TestPatternEncoder)
 * and pushes each frame into a track. Needs nothing outside Node.
 *
 * Made with a track (`new TestPatternSource(stream.video!, options)`) it pushes there from `start()`.
 * Made without one it is a `Source`: `open()` gives the codecs (H.264, and G.711 with `audio`) and
 * `start(stream)` pushes into that stream's tracks.
 */
export class TestPatternSource extends EventEmitter<SourceEvents> implements Source {
  readonly kind = 'pattern';
  readonly encoder: TestPatternEncoder;
  readonly stats: TestPatternStats = { frames: 0, videoSeconds: 0, encodeMs: 0 };
  private timer: NodeJS.Timeout | undefined;
  private startedAtMs = 0;
  private running = false;
  private readonly frameIntervalMs: number;
  private track: Track | undefined;
  private audioTrack: Track | undefined;
  private tone: ToneGenerator | undefined;
  private audioSamples = 0;
  private readonly options: TestPatternSourceOptions;

  constructor(options?: TestPatternSourceOptions);
  constructor(track: Track, options?: TestPatternSourceOptions);
  constructor(trackOrOptions?: Track | TestPatternSourceOptions, maybeOptions?: TestPatternSourceOptions) {
    super();
    const track = trackOrOptions instanceof Track ? trackOrOptions : undefined;
    const options = (track ? maybeOptions : (trackOrOptions as TestPatternSourceOptions)) ?? {};
    this.options = options;
    this.encoder = new TestPatternEncoder(options);
    this.frameIntervalMs = 1000 / this.encoder.fps;
    if (track) this.attach(track, options.audioTrack);
    this.signal = options.signal;
    options.signal?.addEventListener('abort', () => this.stop(), { once: true });
  }

  private readonly signal: AbortSignal | undefined;

  /** Binds the tracks the frames (and the tone) go to. */
  private attach(track: Track, audioTrack: Track | undefined): void {
    this.track = track;
    this.audioTrack = audioTrack;
    if (this.audioTrack) this.tone = new ToneGenerator(this.audioTrack.codec.clockRate);
    if (this.options.keyframeOnJoin !== false) {
      // Track.requestKeyframe coalesces and bounds the requests; the encoder makes the next frame an IDR.
      track.onKeyframeRequest = () => this.encoder.requestKeyframe();
    }
  }

  get description(): string {
    const { width, height, fps } = this.encoder;
    const tone = this.options.audio || this.options.audioTrack ? ' with a tone' : '';
    return `test pattern ${width}x${height}@${fps}${tone}`;
  }

  /**
   * The codecs to build the stream with: H.264, then G.711 µ-law fed 16-bit PCM with `audio`. Made
   * with a track, the codecs of the tracks it already feeds.
   */
  async open(): Promise<TrackCodec[]> {
    if (this.track) return [this.track.codec, ...(this.audioTrack ? [this.audioTrack.codec] : [])];
    const video = new H264TrackCodec({});
    if (!this.options.audio) return [video];
    return [video, new G711TrackCodec({ law: 'mulaw', input: 's16le' })];
  }

  get width(): number {
    return this.encoder.width;
  }

  get height(): number {
    return this.encoder.height;
  }

  get fps(): number {
    return this.encoder.fps;
  }

  /**
   * Starts pushing. Made without a track, into `stream`, built with the codecs of `open()`: video
   * first, then the sound track with `audio`.
   */
  start(stream?: Stream): this {
    // An already aborted signal never fires 'abort': check it here.
    if (this.running || this.signal?.aborted) return this;
    if (!this.track) {
      if (!stream?.tracks[0]) throw new TypeError('a test pattern made without a track needs a stream');
      this.attach(stream.tracks[0], this.options.audio ? stream.tracks[1] : undefined);
    }
    this.running = true;
    // Anchored so that the next frame is due now, also when starting again after stop().
    this.startedAtMs = performance.now() - this.stats.frames * this.frameIntervalMs;
    this.tick();
    return this;
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The sound up to the end of frame `framesDone`, on the same timeline as the pictures. */
  private pushAudio(framesDone: number): void {
    const rate = this.tone!.sampleRate;
    const due = Math.round((framesDone * rate) / this.encoder.fps);
    const count = due - this.audioSamples;
    if (count <= 0) return;
    const pcm = this.tone!.render(this.audioSamples, count);
    const pts = Math.round((this.audioSamples * 1_000_000) / rate);
    this.audioTrack!.push(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength), { pts });
    this.audioSamples = due;
  }

  private tick(): void {
    if (!this.running) return;
    const index = this.stats.frames;
    try {
      const t0 = performance.now();
      const frame = this.encoder.encodeFrame(index, wallClockMs());
      this.stats.encodeMs += performance.now() - t0;
      this.track!.pushUnits(frame.nalus, { pts: Math.round(index * this.frameIntervalMs * 1000) });
      if (this.audioTrack && this.tone) this.pushAudio(index + 1);
    } catch (err) {
      this.stop();
      this.emit('error', err as Error);
      return;
    }
    this.stats.frames = index + 1;
    this.stats.videoSeconds = this.stats.frames / this.encoder.fps;
    // Scheduled against the start, so timer lateness never accumulates into drift.
    const dueMs = this.startedAtMs + this.stats.frames * this.frameIntervalMs;
    this.timer = setTimeout(() => this.tick(), Math.max(0, dueMs - performance.now()));
  }
}

/**
 * Starts a test pattern feeding `track`: colour bars, a moving box, a burned-in clock and frame
 * counter, and an SEI with each picture's generation time in every frame.
 */
export function createTestPattern(track: Track, options: TestPatternSourceOptions = {}): TestPatternSource {
  return new TestPatternSource(track, options).start();
}
