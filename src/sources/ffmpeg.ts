import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import type { Stream } from '../media/stream.js';
import type { TrackCodec } from '../media/track.js';
import { EncodedPacketSink, Input, MPEG_TS, ReadableStreamSource } from '../vendor/mediabunny.js';
import { type MappedTrack, type MediaInputOptions, mapInputTrack } from './media-input.js';

export interface FfmpegSourceOptions extends MediaInputOptions {
  /**
   * ffmpeg's input arguments, as an array or one string split like a shell would: e.g.
   * `-f v4l2 -i /dev/video0 -c:v libx264 -preset ultrafast -tune zerolatency` or `-re -i clip.mp4`.
   * Without any codec option (`-c`, `-c:v`, `-vcodec`, ...) the codecs are copied (`-c copy`).
   */
  args: string[] | string;
  /** The ffmpeg executable (default `ffmpeg` on the PATH). */
  ffmpegPath?: string;
  /** First restart delay after ffmpeg dies (default 500 ms), doubling up to `maxRestartDelayMs` (10 s). */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
  /** How long to wait for ffmpeg's first output to find the tracks (default 15 s). */
  probeTimeoutMs?: number;
  signal?: AbortSignal;
}

/** Splits a command line into arguments: whitespace separates, quotes group, backslash escapes. */
export function splitArgs(line: string): string[] {
  const args: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let has = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) args.push(cur);
      cur = '';
      has = false;
    } else cur += c;
  }
  if (quote) throw new Error('unterminated quote in ffmpeg arguments');
  if (has || cur) args.push(cur);
  return args;
}

const CODEC_OPTION = /^-(c|codec|vcodec|acodec)(:|$)/;

/** The whole ffmpeg command line: the user's input side, then MPEG-TS on stdout with low delay. */
export function ffmpegCommand(userArgs: string[]): string[] {
  const copy = userArgs.some((a) => CODEC_OPTION.test(a)) ? [] : ['-c', 'copy'];
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    ...userArgs,
    ...copy,
    '-f',
    'mpegts',
    '-muxdelay',
    '0',
    '-muxpreload',
    '0',
    '-flush_packets',
    '1',
    'pipe:1',
  ];
}

type InputTrack = Awaited<ReturnType<Input['getTracks']>>[number];

interface Run {
  child: ChildProcess;
  input: Input;
  inputTracks: InputTrack[];
  /** Per served track (the order of `codecs`), the input track that feeds it in this run. */
  lanes: Array<InputTrack | undefined>;
}

/**
 * Pairs the served tracks with a new run's input tracks by kind and codec, in order: a restarted
 * ffmpeg may list its streams in another order, or come back without one (a camera's audio).
 */
async function matchLanes(
  inputTracks: InputTrack[],
  served: readonly MappedTrack[],
): Promise<{ lanes: Array<InputTrack | undefined>; missing: string[] }> {
  const described = await Promise.all(
    inputTracks.map(async (t) => ({
      track: t,
      kind: t.isVideoTrack() ? 'video' : t.isAudioTrack() ? 'audio' : 'other',
      name: (await t.getCodec()) ?? 'unknown',
    })),
  );
  const taken = new Set<InputTrack>();
  const lanes = served.map((m) => {
    const hit = described.find((d) => !taken.has(d.track) && d.kind === m.kind && d.name === m.name);
    if (hit) taken.add(hit.track);
    return hit?.track;
  });
  const missing = served.filter((_, i) => lanes[i] === undefined).map((m) => `${m.name} ${m.kind}`);
  return { lanes, missing };
}

/**
 * Serves whatever ffmpeg can read — a V4L2 camera, a file, a network stream, a test source — by
 * running it as a child process that writes MPEG-TS to a pipe, demuxing that here, and pushing
 * each track's packets as they arrive. When ffmpeg dies it is restarted with backoff; the tracks,
 * their RTP state and the presentation timeline carry on, so clients see a gap, not an end.
 */
export class FfmpegSource extends EventEmitter<{
  error: [Error];
  restart: [attempt: number, delayMs: number];
  exit: [code: number | null, stderr: string];
}> {
  readonly args: string[];
  private tracksMapped: MappedTrack[] = [];
  private run: Run | undefined;
  private stream: Stream | undefined;
  private running = false;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  /** Where the current run's timestamps land on the stream's timeline (µs). */
  private ptsOffsetUs = 0;
  private runFirstPtsSec: number | undefined;
  private lastPtsUs = 0;
  private lastPushWallMs = 0;
  private runStartedMs = 0;

  constructor(private readonly options: FfmpegSourceOptions) {
    super();
    this.args = typeof options.args === 'string' ? splitArgs(options.args) : options.args;
    options.signal?.addEventListener('abort', () => this.stop(), { once: true });
  }

  /** Starts ffmpeg and finds its tracks: resolves once the codecs are known. */
  async open(): Promise<TrackCodec[]> {
    this.stopped = false;
    if (this.options.signal?.aborted) throw abortError();
    const run = await this.spawnRun();
    const mapped: MappedTrack[] = [];
    const used: Run['inputTracks'] = [];
    try {
      for (const t of run.inputTracks) {
        const m = await mapInputTrack(t, this.options);
        if (m) {
          mapped.push(m);
          used.push(t);
        }
      }
      // stop() or an abort while ffmpeg was probed: nobody will stop this child later.
      if (this.stopped) throw abortError();
      if (mapped.length === 0) throw new Error('ffmpeg produced no track in a format smolrtsp can send');
    } catch (err) {
      run.child.kill('SIGKILL');
      run.input.dispose();
      throw err;
    }
    this.tracksMapped = mapped;
    this.run = { ...run, lanes: used };
    return this.codecs;
  }

  get codecs(): TrackCodec[] {
    return this.tracksMapped.map((t) => t.codec);
  }

  get tracks(): readonly MappedTrack[] {
    return this.tracksMapped;
  }

  /** Starts pushing into `stream` (built with `codecs`, in order), restarting ffmpeg when it dies. */
  start(stream: Stream): void {
    if (this.running || !this.run) return;
    this.running = true;
    this.stream = stream;
    this.pump(this.run);
  }

  stop(): void {
    this.stopped = true;
    this.running = false;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const run = this.run;
    this.run = undefined;
    if (run) {
      run.child.kill('SIGTERM');
      setTimeout(() => run.child.kill('SIGKILL'), 2000).unref();
      run.input.dispose();
    }
  }

  /** The ffmpeg process of the current run (for operators and tests). */
  get pid(): number | undefined {
    return this.run?.child.pid;
  }

  private spawnRun(): Promise<Run> {
    const child = spawn(this.options.ffmpegPath ?? 'ffmpeg', ffmpegCommand(this.args), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.on('exit', (code) => this.emit('exit', code, stderr.trim()));
    const input = new Input({
      formats: [MPEG_TS],
      source: new ReadableStreamSource(Readable.toWeb(child.stdout!) as ReadableStream<Uint8Array>),
    });
    return new Promise((resolve, reject) => {
      const fail = (err: Error) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        input.dispose();
        reject(err);
      };
      const timer = setTimeout(
        () =>
          fail(
            new Error(
              `ffmpeg gave no media within ${this.options.probeTimeoutMs ?? 15000} ms: ${stderr.trim()}`,
            ),
          ),
        this.options.probeTimeoutMs ?? 15000,
      );
      child.once('error', (err) => fail(err));
      const onEarlyExit = (code: number | null) =>
        fail(new Error(`ffmpeg exited (${code}) before any media: ${stderr.trim()}`));
      child.once('exit', onEarlyExit);
      input.getTracks().then(
        (inputTracks) => {
          clearTimeout(timer);
          // From here on an exit is the end of a run (pump lets the demuxer drain), not a failed probe.
          child.off('exit', onEarlyExit);
          child.removeAllListeners('error');
          child.on('error', () => {});
          resolve({ child, input, inputTracks, lanes: [] });
        },
        (err: Error) => fail(err),
      );
    });
  }

  private pump(run: Run): void {
    this.runStartedMs = performance.now();
    this.runFirstPtsSec = undefined;
    const stream = this.stream!;
    let ended = 0;
    const feeding = run.lanes.filter((l) => l !== undefined).length;
    const onEnd = () => {
      if (++ended < feeding) return;
      if (this.run === run) this.scheduleRestart();
    };
    run.child.once('exit', () => {
      // Let the demuxer drain what ffmpeg wrote; then the packet loops end.
      setTimeout(() => run.input.dispose(), 200);
    });
    run.lanes.forEach((inputTrack, index) => {
      if (inputTrack === undefined) return;
      const track = stream.tracks[index];
      const mapped = this.tracksMapped[index];
      (async () => {
        for await (const packet of new EncodedPacketSink(inputTrack).packets()) {
          if (this.run !== run) return;
          this.runFirstPtsSec ??= packet.timestamp;
          const ptsUs = this.ptsOffsetUs + Math.round((packet.timestamp - this.runFirstPtsSec) * 1_000_000);
          this.lastPtsUs = Math.max(this.lastPtsUs, ptsUs);
          this.lastPushWallMs = performance.now();
          track.pushUnits(mapped.toUnits(packet.data), { pts: ptsUs });
        }
      })()
        .catch((err: Error) => {
          if (this.run === run && !run.input.disposed) this.emit('error', err);
        })
        .finally(onEnd);
    });
  }

  private scheduleRestart(): void {
    if (!this.running) return;
    const old = this.run;
    this.run = undefined;
    old?.child.kill('SIGKILL');
    // A run that lasted a while resets the backoff.
    if (performance.now() - this.runStartedMs > 30_000) this.attempt = 0;
    const base = this.options.restartDelayMs ?? 500;
    const delay = Math.min(this.options.maxRestartDelayMs ?? 10_000, base * 2 ** this.attempt);
    this.attempt++;
    this.emit('restart', this.attempt, delay);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.restartRun().catch((err: Error) => {
        this.emit('error', err);
        this.scheduleRestart();
      });
    }, delay);
  }

  private async restartRun(): Promise<void> {
    if (!this.running) return;
    const run = await this.spawnRun();
    let matched: Awaited<ReturnType<typeof matchLanes>>;
    try {
      matched = await matchLanes(run.inputTracks, this.tracksMapped);
    } catch (err) {
      run.child.kill('SIGKILL');
      run.input.dispose();
      throw err;
    }
    if (!this.running) {
      run.child.kill('SIGKILL');
      run.input.dispose();
      return;
    }
    // The new run continues the timeline where the old one stopped, plus the time it was gone.
    this.ptsOffsetUs = this.lastPtsUs + Math.round((performance.now() - this.lastPushWallMs) * 1000);
    if (matched.missing.length === matched.lanes.length) {
      run.child.kill('SIGKILL');
      run.input.dispose();
      throw new Error(`ffmpeg came back without any of its tracks (${matched.missing.join(', ')})`);
    }
    this.run = { ...run, lanes: matched.lanes };
    if (matched.missing.length > 0) {
      this.emit(
        'error',
        new Error(
          `ffmpeg came back without its ${matched.missing.join(', ')} track: it stays silent until a restart brings it back`,
        ),
      );
    }
    this.pump(this.run);
  }
}

function abortError(): Error {
  return new DOMException('ffmpeg source stopped before it opened', 'AbortError');
}
