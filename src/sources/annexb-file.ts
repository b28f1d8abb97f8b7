import { EventEmitter } from 'node:events';
import { closeSync, openSync, readSync } from 'node:fs';
import { AnnexBReader, nalType } from '../codecs/h264/annexb.js';
import { parseSps } from '../codecs/h264/sps.js';
import { H265AnnexBReader } from '../codecs/h265/annexb.js';
import { h265FrameRate } from '../codecs/h265/sps.js';
import type { Track } from '../media/track.js';
import { MediaFormatError } from '../protocol/errors.js';

/** What the source needs to know of a codec: how to cut access units, where the frame rate is. */
interface AnnexBFormat {
  createReader(): { push(chunk: Buffer): Buffer[][]; flush(): Buffer[][] };
  /** The frame rate from a parameter set in this access unit; undefined: none here; null: none known. */
  frameRate(au: Buffer[]): number | null | undefined;
}

const FORMATS: Record<'H264' | 'H265', AnnexBFormat> = {
  H264: {
    createReader: () => new AnnexBReader(),
    frameRate(au) {
      const sps = au.find((nal) => nalType(nal) === 7);
      return sps ? parseSps(sps).frameRate : undefined;
    },
  },
  H265: {
    createReader: () => new H265AnnexBReader(),
    frameRate(au) {
      // VPS/SPS types 32/33: only an access unit carrying them can tell.
      if (!au.some((nal) => ((nal[0] >> 1) & 0x3f) === 33)) return undefined;
      return h265FrameRate(au);
    },
  },
};

export interface AnnexBFileSourceOptions {
  file: string;
  /** The elementary stream's codec (default H264). */
  codec?: 'H264' | 'H265';
  /** Frames per second when the SPS carries no timing info (default 25). An SPS rate wins unless `forceFps`. */
  fps?: number;
  forceFps?: boolean;
  /** Start again from the top at the end (default true). */
  loop?: boolean;
  signal?: AbortSignal;
}

const CHUNK_BYTES = 256 * 1024;
/** Access units read ahead of the clock: enough to never wait on the disk, little enough to stay small. */
const READ_AHEAD = 16;

/**
 * Plays an Annex-B H.264 or H.265 elementary stream file into a track in real time, looping. It reads the file in
 * chunks as it goes (any size works), paces access units by the frame rate from the SPS timing info (or
 * the option), and keeps the presentation clock running across loops. Assumes decode order equals
 * presentation order (no B-frames), as live encoders produce.
 */
export class AnnexBFileSource extends EventEmitter<{ error: [Error]; end: []; loop: [] }> {
  private readonly options: AnnexBFileSourceOptions;
  private fd: number | undefined;
  private readonly format: AnnexBFormat;
  private reader: { push(chunk: Buffer): Buffer[][]; flush(): Buffer[][] };
  private readonly queue: Buffer[][] = [];
  private eof = false;
  private timer: NodeJS.Timeout | undefined;
  private frameIntervalUs: number;
  private rateFixed: boolean;
  private framesSent = 0;
  private startedAtMs = 0;
  private running = false;
  private readonly chunk = Buffer.allocUnsafe(CHUNK_BYTES);

  constructor(
    private readonly track: Track,
    options: AnnexBFileSourceOptions,
  ) {
    super();
    this.options = options;
    this.format = FORMATS[options.codec ?? 'H264'];
    this.reader = this.format.createReader();
    this.frameIntervalUs = 1_000_000 / (options.fps ?? 25);
    this.rateFixed = options.forceFps === true;
    options.signal?.addEventListener('abort', () => this.stop(), { once: true });
  }

  get frames(): number {
    return this.framesSent;
  }

  /** Opens the file and starts pushing. Errors (file gone, unreadable) are emitted, not thrown. */
  start(): void {
    // An already aborted signal never fires 'abort': check it here.
    if (this.running || this.options.signal?.aborted) return;
    try {
      this.fd = openSync(this.options.file, 'r');
    } catch (err) {
      this.emit('error', err as Error);
      return;
    }
    this.running = true;
    // Anchored so that the next frame is due now, also when starting again after stop().
    this.startedAtMs = performance.now() - (this.framesSent * this.frameIntervalUs) / 1000;
    this.tick();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private tick(): void {
    if (!this.running) return;
    try {
      this.fill();
      const au = this.queue.shift();
      if (!au) {
        this.stop();
        this.emit('end');
        return;
      }
      this.learnRate(au);
      this.track.pushUnits(au, { pts: this.framesSent * this.frameIntervalUs });
      this.framesSent++;
    } catch (err) {
      this.stop();
      this.emit('error', err as Error);
      return;
    }
    // Schedule against the start time, not the last tick, so timer lateness does not accumulate.
    const dueMs = this.startedAtMs + (this.framesSent * this.frameIntervalUs) / 1000;
    this.timer = setTimeout(() => this.tick(), Math.max(0, dueMs - performance.now()));
  }

  private learnRate(au: Buffer[]): void {
    if (this.rateFixed) return;
    let fps: number | null | undefined;
    try {
      fps = this.format.frameRate(au);
    } catch {
      fps = null; // unreadable parameter set: keep the configured rate
    }
    if (fps === undefined) return;
    this.rateFixed = true;
    if (fps && fps > 0 && fps <= 240) {
      // Re-anchor so the frames already sent keep their times.
      const sentUs = this.framesSent * this.frameIntervalUs;
      this.frameIntervalUs = 1_000_000 / fps;
      this.startedAtMs += (sentUs - this.framesSent * this.frameIntervalUs) / 1000;
    }
  }

  private fill(): void {
    while (this.queue.length < READ_AHEAD && this.fd !== undefined) {
      if (this.eof) {
        if (this.options.loop === false) return;
        // A whole pass without one access unit would loop here forever.
        if (this.unitsThisPass === 0) {
          throw new MediaFormatError(
            `${this.options.file} holds no ${this.options.codec ?? 'H264'} access unit`,
          );
        }
        this.unitsThisPass = 0;
        this.eof = false;
        this.position = 0;
        this.reader = this.format.createReader();
        this.emit('loop');
      }
      const n = readSync(this.fd, this.chunk, 0, CHUNK_BYTES, this.position);
      this.position += n;
      if (n === 0) {
        this.eof = true;
        for (const au of this.reader.flush()) this.enqueue(au);
        if (this.options.loop === false) return;
        if (this.position === 0) throw new Error(`${this.options.file} is empty`);
        continue;
      }
      // The reader may hand out views of its input, so give it a copy of the reused chunk.
      for (const au of this.reader.push(Buffer.from(this.chunk.subarray(0, n)))) this.enqueue(au);
    }
  }

  private enqueue(au: Buffer[]): void {
    this.queue.push(au);
    this.unitsThisPass++;
  }

  private unitsThisPass = 0;

  private position = 0;
}
