import { EventEmitter } from 'node:events';
import type { Stream } from '../media/stream.js';
import type { TrackCodec } from '../media/track.js';
import type { Input } from '../vendor/mediabunny.js';
import { type Demuxer, loadDemuxer } from './demuxer.js';
import { type MappedTrack, type MediaInputOptions, mapInputTrack } from './media-input.js';
import type { Source, SourceEvents } from './source.js';

export interface Mp4FileSourceOptions extends MediaInputOptions {
  file: string;
  /** Start again at the end (default true). */
  loop?: boolean;
  signal?: AbortSignal;
}

/**
 * Plays an MP4 (or MOV, MKV, WebM: whatever the demuxer reads) in real time, looping, without ffmpeg:
 * each track's packets go out at their presentation times on one clock, so audio and video stay
 * together, and every loop continues the timeline.
 *
 * `await Mp4FileSource.open(options)`, or as a `Source`: `new Mp4FileSource(options)`, then `open()`.
 */
export class Mp4FileSource extends EventEmitter<SourceEvents & { loop: [] }> implements Source {
  readonly kind = 'file';
  private running = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private demuxer: Demuxer | undefined;
  private input: Input | undefined;
  private mapped: MappedTrack[] = [];
  private inputTracks: Awaited<ReturnType<Input['getTracks']>> = [];
  private durationSec = 0;
  private opening: Promise<TrackCodec[]> | undefined;

  constructor(private readonly options: Mp4FileSourceOptions) {
    super();
    options.signal?.addEventListener('abort', () => this.stop(), { once: true });
  }

  /** Opens the file and maps its tracks (those with an RTP mapping; others are skipped). */
  static async open(options: Mp4FileSourceOptions): Promise<Mp4FileSource> {
    const source = new Mp4FileSource(options);
    await source.open();
    return source;
  }

  /** Opens the file and maps its tracks: resolves with their codecs (once; later calls get the same). */
  open(): Promise<TrackCodec[]> {
    this.opening ??= this.load();
    return this.opening;
  }

  private async load(): Promise<TrackCodec[]> {
    const demuxer = await loadDemuxer();
    const { ALL_FORMATS, FilePathSource, Input } = demuxer;
    const input = new Input({ formats: ALL_FORMATS, source: new FilePathSource(this.options.file) });
    try {
      const all = await input.getTracks();
      const mapped: MappedTrack[] = [];
      const used: typeof all = [];
      for (const t of all) {
        const m = await mapInputTrack(t, this.options);
        if (m) {
          mapped.push(m);
          used.push(t);
        }
      }
      if (mapped.length === 0)
        throw new Error(`${this.options.file}: no track in a format smolrtsp can send`);
      this.durationSec = await input.computeDuration();
      this.demuxer = demuxer;
      this.input = input;
      this.mapped = mapped;
      this.inputTracks = used;
      return this.codecs;
    } catch (err) {
      input.dispose();
      throw err;
    }
  }

  /** The mapped tracks, in order (none before `open()`). */
  get tracks(): MappedTrack[] {
    return this.mapped;
  }

  get description(): string {
    return `file ${this.options.file} (${this.mapped.map((t) => t.name).join(', ')})`;
  }

  /** The codecs, in track order, to build the stream with: `server.addStream(path, { tracks: src.codecs })`. */
  get codecs(): TrackCodec[] {
    return this.tracks.map((t) => t.codec);
  }

  /** Starts pushing into `stream`, whose tracks must be `codecs` in the same order (after `open()`). */
  start(stream: Stream): void {
    // An already aborted signal never fires 'abort': check it here.
    if (this.running || this.options.signal?.aborted) return;
    const demuxer = this.demuxer;
    if (!demuxer || !this.input) throw new Error('open() the MP4 file source before start()');
    this.running = true;
    const startMs = performance.now();
    let firstPts: number | undefined;
    const loopCount = { value: 0 };
    const play = async (index: number) => {
      const track = stream.tracks[index];
      const mapped = this.mapped[index];
      for (let loop = 0; this.running; loop++) {
        const sink = new demuxer.EncodedPacketSink(this.inputTracks[index]);
        for await (const packet of sink.packets()) {
          if (!this.running) return;
          firstPts ??= packet.timestamp;
          const ptsSec = packet.timestamp - firstPts + loop * this.durationSec;
          const waitMs = startMs + ptsSec * 1000 - performance.now();
          if (waitMs > 1) await this.sleep(waitMs);
          if (!this.running) return;
          track.pushUnits(mapped.toUnits(packet.data), { pts: Math.round(ptsSec * 1_000_000) });
        }
        if (this.options.loop === false) return;
        if (index === 0) {
          loopCount.value++;
          this.emit('loop');
        }
      }
    };
    for (let i = 0; i < this.mapped.length; i++) {
      play(i).catch((err: Error) => {
        // A read cut short by stop() freeing the demuxer is no fault.
        if (!this.running) return;
        this.stop();
        this.emit('error', err);
      });
    }
  }

  /** Stops and frees the demuxer: to play again, `open()` then `start()`. */
  stop(): void {
    this.running = false;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.input?.dispose();
    this.input = undefined;
    this.demuxer = undefined;
    this.opening = undefined;
  }

  /** The same as `stop()`. */
  close(): void {
    this.stop();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }
}
