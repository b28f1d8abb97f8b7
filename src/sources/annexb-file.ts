import { EventEmitter } from 'node:events';
import { closeSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { MediaFormatError, PictureOrderError } from '../codecs/errors.js';
import { AnnexBReader, nalType } from '../codecs/h264/annexb.js';
import { H264PocCounter, type PictureOrder } from '../codecs/h264/poc.js';
import { parseSps } from '../codecs/h264/sps.js';
import { H265AnnexBReader } from '../codecs/h265/annexb.js';
import { H265PocCounter } from '../codecs/h265/poc.js';
import { h265FrameRate } from '../codecs/h265/sps.js';
import { PresentationOrder } from '../codecs/presentation-order.js';
import { H264TrackCodec } from '../media/formats/h264.js';
import { H265TrackCodec } from '../media/formats/h265.js';
import type { Stream } from '../media/stream.js';
import { Track, type TrackCodec } from '../media/track.js';
import type { Source, SourceEvents } from './source.js';

/**
 * What the source needs to know of a codec: how to cut access units, where the frame rate is, and
 * the picture order count of each access unit.
 */
interface AnnexBFormat {
  createReader(): { push(chunk: Buffer): Buffer[][]; flush(): Buffer[][] };
  createPocCounter(): { next(au: readonly Buffer[]): PictureOrder | null };
  /** The frame rate from a parameter set in this access unit; undefined: none here; null: none known. */
  frameRate(au: Buffer[]): number | null | undefined;
}

const FORMATS: Record<'H264' | 'H265', AnnexBFormat> = {
  H264: {
    createReader: () => new AnnexBReader(),
    createPocCounter: () => new H264PocCounter(),
    frameRate(au) {
      const sps = au.find((nal) => nalType(nal) === 7);
      return sps ? parseSps(sps).frameRate : undefined;
    },
  },
  H265: {
    createReader: () => new H265AnnexBReader(),
    createPocCounter: () => new H265PocCounter(),
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
 * the option), and keeps the presentation clock running across loops.
 *
 * Access units go out in decode order, one per frame interval; their presentation times come from
 * the picture order counts in the slice headers, so B-frames are shown in order. A stream whose
 * order cannot be derived (H.264 POC type 1, field pictures) is refused with an error event.
 *
 * Made with a track (`new AnnexBFileSource(stream.video!, options)`) it pushes there from `start()`.
 * Made without one it is a `Source`: `open()` reads ahead (so a missing or unplayable file rejects
 * it) and gives the codec, and `start(stream)` pushes into that stream's first track.
 */
export class AnnexBFileSource extends EventEmitter<SourceEvents & { loop: [] }> implements Source {
  readonly kind = 'file';
  private readonly options: AnnexBFileSourceOptions;
  private track: Track | undefined;
  private fd: number | undefined;
  private readonly format: AnnexBFormat;
  private reader: { push(chunk: Buffer): Buffer[][]; flush(): Buffer[][] };
  /** Access units read ahead, with their decode index for `order`. */
  private readonly queue: Array<{ au: Buffer[]; index: number }> = [];
  /** Presentation places of all passes: one timeline across loops. */
  private readonly order = new PresentationOrder();
  private pocCounter: { next(au: readonly Buffer[]): PictureOrder | null };
  private eof = false;
  private timer: NodeJS.Timeout | undefined;
  private frameIntervalUs: number;
  private rateFixed: boolean;
  private framesSent = 0;
  private startedAtMs = 0;
  private running = false;
  private readonly chunk = Buffer.allocUnsafe(CHUNK_BYTES);

  constructor(options: AnnexBFileSourceOptions);
  constructor(track: Track, options: AnnexBFileSourceOptions);
  constructor(trackOrOptions: Track | AnnexBFileSourceOptions, maybeOptions?: AnnexBFileSourceOptions) {
    super();
    const track = trackOrOptions instanceof Track ? trackOrOptions : undefined;
    const options = track ? maybeOptions! : (trackOrOptions as AnnexBFileSourceOptions);
    this.track = track;
    this.options = options;
    this.format = FORMATS[options.codec ?? 'H264'];
    this.reader = this.format.createReader();
    this.pocCounter = this.format.createPocCounter();
    this.frameIntervalUs = 1_000_000 / (options.fps ?? 25);
    this.rateFixed = options.forceFps === true;
    options.signal?.addEventListener('abort', () => this.stop(), { once: true });
  }

  get frames(): number {
    return this.framesSent;
  }

  get description(): string {
    return `file ${this.options.file}`;
  }

  /**
   * Opens the file and reads ahead: rejects when it cannot be played (missing, unreadable, an order it
   * cannot derive). Resolves with the codec to build the stream with (made with a track, that track's).
   */
  async open(): Promise<TrackCodec[]> {
    if (this.fd === undefined) {
      this.fd = openSync(this.options.file, 'r');
      try {
        this.fill();
      } catch (err) {
        this.stop();
        throw err;
      }
    }
    if (this.track) return [this.track.codec];
    return [this.options.codec === 'H265' ? new H265TrackCodec({}) : new H264TrackCodec({})];
  }

  /**
   * Opens the file (unless `open()` did) and starts pushing; made without a track, into the first
   * track of `stream`. Errors (file gone, unreadable) are emitted, not thrown.
   */
  start(stream?: Stream): void {
    // An already aborted signal never fires 'abort': check it here.
    if (this.running || this.options.signal?.aborted) return;
    if (!this.track) {
      if (!stream?.tracks[0]) throw new TypeError('a file source made without a track needs a stream');
      this.track = stream.tracks[0];
    }
    if (this.fd === undefined) {
      try {
        this.fd = openSync(this.options.file, 'r');
      } catch (err) {
        this.emit('error', err as Error);
        return;
      }
    }
    this.running = true;
    try {
      // Read ahead before anchoring the clock, so the first frame is not late by the reading.
      this.fill();
    } catch (err) {
      this.stop();
      this.emit('error', err as Error);
      return;
    }
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
      const next = this.queue.shift();
      if (!next) {
        this.stop();
        this.emit('end');
        return;
      }
      const { au, index } = next;
      this.learnRate(au);
      // fill() read on until the place was known (the end of the file ends a period).
      const place = this.order.take(index) ?? index;
      this.track!.pushUnits(au, { pts: place * this.frameIntervalUs });
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
    // Read ahead, and on until the next access unit's presentation place is known.
    while (
      (this.queue.length < READ_AHEAD || (this.queue.length > 0 && !this.order.known(this.queue[0].index))) &&
      this.fd !== undefined
    ) {
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
        this.pocCounter = this.format.createPocCounter();
        this.emit('loop');
      }
      const n = readSync(this.fd, this.chunk, 0, CHUNK_BYTES, this.position);
      this.position += n;
      if (n === 0) {
        this.eof = true;
        for (const au of this.reader.flush()) this.enqueue(au);
        // The file's end ends its last POC period; a loop starts the next one.
        this.order.endPeriod();
        if (this.options.loop === false) return;
        if (this.position === 0) throw new Error(`${this.options.file} is empty`);
        continue;
      }
      // The reader may hand out views of its input, so give it a copy of the reused chunk.
      for (const au of this.reader.push(Buffer.from(this.chunk.subarray(0, n)))) this.enqueue(au);
    }
  }

  private enqueue(au: Buffer[]): void {
    let order: PictureOrder | null;
    try {
      order = this.pocCounter.next(au);
    } catch (err) {
      throw this.refusal(err);
    }
    this.queue.push({ au, index: this.order.add(order) });
    this.unitsThisPass++;
  }

  /** Why the file cannot be played in presentation order, and what to do instead. */
  private refusal(err: unknown): Error {
    if (!(err instanceof MediaFormatError)) return err as Error;
    const name = basename(this.options.file);
    const what =
      err instanceof PictureOrderError
        ? `${name} ${err.what}, which smolrtsp cannot reorder`
        : `${name}: cannot read the picture order of access unit ${this.unitsThisPass + 1} (${err.message})`;
    const mp4 = name.replace(/\.[^.]*$/, '') + '.mp4';
    return new MediaFormatError(
      `${what}; put it in an MP4 (ffmpeg -i ${name} -c copy ${mp4}) and serve that`,
    );
  }

  private unitsThisPass = 0;

  private position = 0;
}
