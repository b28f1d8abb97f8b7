import { EventEmitter } from 'node:events';
import type { Stream } from '../media/stream.js';
import type { TrackCodec } from '../media/track.js';
import type { Input } from '../vendor/mediabunny.js';
import { type Demuxer, loadDemuxer } from './demuxer.js';
import { type MappedTrack, type MediaInputOptions, mapInputTrack } from './media-input.js';

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
 */
export class Mp4FileSource extends EventEmitter<{ error: [Error]; loop: [] }> {
  private running = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly demuxer: Demuxer,
    private readonly input: Input,
    readonly tracks: MappedTrack[],
    private readonly inputTracks: Awaited<ReturnType<Input['getTracks']>>,
    private readonly durationSec: number,
    private readonly options: Mp4FileSourceOptions,
  ) {
    super();
    options.signal?.addEventListener('abort', () => this.stop(), { once: true });
  }

  /** Opens the file and maps its tracks (those with an RTP mapping; others are skipped). */
  static async open(options: Mp4FileSourceOptions): Promise<Mp4FileSource> {
    const demuxer = await loadDemuxer();
    const { ALL_FORMATS, FilePathSource, Input } = demuxer;
    const input = new Input({ formats: ALL_FORMATS, source: new FilePathSource(options.file) });
    try {
      const all = await input.getTracks();
      const mapped: MappedTrack[] = [];
      const used: typeof all = [];
      for (const t of all) {
        const m = await mapInputTrack(t, options);
        if (m) {
          mapped.push(m);
          used.push(t);
        }
      }
      if (mapped.length === 0) throw new Error(`${options.file}: no track in a format smolrtsp can send`);
      const duration = await input.computeDuration();
      return new Mp4FileSource(demuxer, input, mapped, used, duration, options);
    } catch (err) {
      input.dispose();
      throw err;
    }
  }

  /** The codecs, in track order, to build the stream with: `server.addStream(path, { tracks: src.codecs })`. */
  get codecs(): TrackCodec[] {
    return this.tracks.map((t) => t.codec);
  }

  /** Starts pushing into `stream`, whose tracks must be `codecs` in the same order. */
  start(stream: Stream): void {
    // An already aborted signal never fires 'abort': check it here.
    if (this.running || this.options.signal?.aborted) return;
    this.running = true;
    const startMs = performance.now();
    let firstPts: number | undefined;
    const loopCount = { value: 0 };
    const play = async (index: number) => {
      const track = stream.tracks[index];
      const mapped = this.tracks[index];
      for (let loop = 0; this.running; loop++) {
        const sink = new this.demuxer.EncodedPacketSink(this.inputTracks[index]);
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
    for (let i = 0; i < this.tracks.length; i++) {
      play(i).catch((err: Error) => {
        this.stop();
        this.emit('error', err);
      });
    }
  }

  stop(): void {
    this.running = false;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Stops and frees the demuxer. */
  close(): void {
    this.stop();
    this.input.dispose();
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
