import { EventEmitter } from 'node:events';
import { type Track, wallClockMs } from '../../media/track.js';
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
 */
export class TestPatternSource extends EventEmitter<{ error: [Error] }> {
  readonly encoder: TestPatternEncoder;
  readonly stats: TestPatternStats = { frames: 0, videoSeconds: 0, encodeMs: 0 };
  private timer: NodeJS.Timeout | undefined;
  private startedAtMs = 0;
  private running = false;
  private readonly frameIntervalMs: number;
  private readonly audioTrack: Track | undefined;
  private readonly tone: ToneGenerator | undefined;
  private audioSamples = 0;

  constructor(
    private readonly track: Track,
    options: TestPatternSourceOptions = {},
  ) {
    super();
    this.encoder = new TestPatternEncoder(options);
    this.frameIntervalMs = 1000 / this.encoder.fps;
    this.audioTrack = options.audioTrack;
    if (this.audioTrack) this.tone = new ToneGenerator(this.audioTrack.codec.clockRate);
    if (options.keyframeOnJoin !== false) {
      // Track.requestKeyframe coalesces and bounds the requests; the encoder makes the next frame an IDR.
      track.onKeyframeRequest = () => this.encoder.requestKeyframe();
    }
    this.signal = options.signal;
    options.signal?.addEventListener('abort', () => this.stop(), { once: true });
  }

  private readonly signal: AbortSignal | undefined;

  get width(): number {
    return this.encoder.width;
  }

  get height(): number {
    return this.encoder.height;
  }

  get fps(): number {
    return this.encoder.fps;
  }

  start(): this {
    // An already aborted signal never fires 'abort': check it here.
    if (this.running || this.signal?.aborted) return this;
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
      this.track.pushUnits(frame.nalus, { pts: Math.round(index * this.frameIntervalMs * 1000) });
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
