import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { MediaFormatError } from '../codecs/errors.js';
import type { Stream } from '../media/stream.js';
import type { TrackCodec } from '../media/track.js';
import { RtspError } from '../protocol/errors.js';
import type { Input } from '../vendor/mediabunny.js';
import { type Demuxer, loadDemuxer } from './demuxer.js';
import {
  describePlan,
  type FfmpegTrackPlan,
  ffmpegCommand,
  ffmpegErrorLines,
  ffmpegProbeCommand,
  parseFfmpegStreams,
  planFfmpegTracks,
  redactCredentials,
} from './ffmpeg-plan.js';
import { type MappedTrack, type MediaInputOptions, mapInputTrack } from './media-input.js';
import type { Source, SourceEvents } from './source.js';

export {
  describePlan,
  type FfmpegTrackPlan,
  ffmpegCommand,
  parseFfmpegStreams,
  planFfmpegTracks,
} from './ffmpeg-plan.js';

// node:child_process loads with the first ffmpeg run, not with every `import 'smolrtsp'`.
// createRequire starts Node's CommonJS loader: that too waits for the first run.
let requireBuiltin: NodeJS.Require | undefined;
function childProcess(): typeof import('node:child_process') {
  requireBuiltin ??= createRequire(import.meta.url);
  return requireBuiltin('node:child_process') as typeof import('node:child_process');
}

/** ffmpeg failed: it could not open its input, exited, or sent nothing usable. The message has its reason. */
export class FfmpegError extends RtspError {
  constructor(message: string) {
    super(503, 'ERR_FFMPEG', message);
  }
}

export interface FfmpegSourceOptions extends MediaInputOptions {
  /**
   * ffmpeg's input arguments, as an array or one string split like a shell would: e.g.
   * `-f v4l2 -i /dev/video0 -c:v libx264 -preset ultrafast -tune zerolatency` or `-re -i clip.mp4`.
   * A kind (video, audio) with a codec option (`-c:v`, `-vcodec`, `-c`, ...) is left as the options say;
   * otherwise H.264/H.265 video and AAC audio are copied, other video is encoded to H.264 (libx264,
   * low latency) and other audio to AAC. A short probe run before each run finds the input codecs.
   */
  args: string[] | string;
  /** Keyframe interval, in seconds, of video encoded here (default 2). */
  gopSeconds?: number;
  /** The ffmpeg executable (default `ffmpeg` on the PATH). */
  ffmpegPath?: string;
  /** First restart delay after ffmpeg dies (default 500 ms), doubling up to `maxRestartDelayMs` (10 s). */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
  /** How long to wait for the probe, and then for ffmpeg's first output, to find the tracks (default 15 s each). */
  probeTimeoutMs?: number;
  /**
   * Serve before ffmpeg is up (the CLI's way): `open()` resolves at once with no codecs, and
   * `start(stream)` with an empty stream does what `feed(stream)` does — 503 while ffmpeg is down,
   * the tracks added (a `tracks` event) when it first delivers. Default false: `open()` waits for
   * ffmpeg and rejects with its reason.
   */
  lateTracks?: boolean;
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

type InputTrack = Awaited<ReturnType<Input['getTracks']>>[number];

interface Run {
  child: ChildProcess;
  input: Input;
  /** The loaded demuxer module (mediabunny), for the packet sinks. */
  demuxer: Demuxer;
  inputTracks: InputTrack[];
  /** Per served track (the order of `codecs`), the input track that feeds it in this run. */
  lanes: Array<InputTrack | undefined>;
  /** Settles when the child has exited: why it ended, from its exit status and stderr. */
  exited: Promise<string>;
  /** The exit status once known (an object: runs are copied with spread). */
  status: { exitCode?: number | null };
}

/** Why a child ended, as one line: `ffmpeg exited (1): rtsp://...: Connection refused`. */
function exitReason(code: number | null, signal: NodeJS.Signals | null, stderr: string): string {
  const lines = ffmpegErrorLines(stderr);
  const status = code === null ? `ffmpeg was killed (${signal ?? 'signal'})` : `ffmpeg exited (${code})`;
  return lines ? `${status}: ${lines}` : status;
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
 *
 * Two ways to start: `open()` then `start(stream)` (open rejects if ffmpeg fails), or `feed(stream)`
 * with an empty stream, which keeps trying until ffmpeg delivers and then gives the stream its tracks.
 * Either way the stream is marked unavailable (DESCRIBE/SETUP answer 503) while ffmpeg is down.
 * As a `Source`, `open()` then `start(stream)`; with `lateTracks`, the `feed()` way.
 *
 * Events: `error`, a fault that needs no restart (a track a restarted ffmpeg no longer has, a packet
 * it could not read); `restart` when ffmpeg failed to start, died or ended and is started again after
 * `delayMs` (`reason` is ffmpeg's own: `ffmpeg exited (1): rtsp://...: Connection refused`); `tracks`
 * when `feed()` has added the tracks; `exit` per child; `plan`, each run's decision per track (copied,
 * encoded, or as the arguments say), also told as an `info` line.
 */
export class FfmpegSource
  extends EventEmitter<
    SourceEvents & {
      exit: [code: number | null, stderr: string];
      plan: [plan: FfmpegTrackPlan[]];
    }
  >
  implements Source
{
  readonly kind = 'ffmpeg';
  readonly args: string[];
  private tracksMapped: MappedTrack[] = [];
  private run: Run | undefined;
  private stream: Stream | undefined;
  private running = false;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Wakes a feed() waiting between tries when stop() is called. */
  private wake: (() => void) | undefined;
  /** Children being probed or started, not yet a run: stop() must reach them too. */
  private readonly starting = new Set<ChildProcess>();
  private currentPlan: FfmpegTrackPlan[] = [];
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

  /** The arguments as given, credentials in URLs hidden. */
  get description(): string {
    const args = this.options.args;
    return `ffmpeg ${redactCredentials(typeof args === 'string' ? args : args.join(' '))}`;
  }

  /**
   * Starts ffmpeg and finds its tracks: resolves once the codecs are known; rejects with ffmpeg's reason.
   * With `lateTracks`, resolves at once with none (`start()` finds them).
   */
  async open(): Promise<TrackCodec[]> {
    if (this.options.lateTracks) return [];
    return this.openRun();
  }

  private async openRun(): Promise<TrackCodec[]> {
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
      if (mapped.length === 0)
        throw new FfmpegError('ffmpeg produced no track in a format smolrtsp can send');
    } catch (err) {
      run.child.kill('SIGKILL');
      run.input.dispose();
      throw err;
    }
    this.tracksMapped = mapped;
    this.run = { ...run, lanes: used };
    return this.codecs;
  }

  /**
   * Feeds `stream`, a stream with no tracks yet (e.g. `server.addStream(path, {})`): marks it
   * unavailable, tries to start ffmpeg until it delivers (the restart backoff between tries, each
   * failure a `restart` event with ffmpeg's reason), then adds the tracks to the stream, marks it available
   * and keeps it fed as `start()` does. Resolves with the codecs once the tracks are known; rejects
   * only when stopped first.
   */
  async feed(stream: Stream): Promise<TrackCodec[]> {
    if (stream.tracks.length > 0)
      throw new TypeError('feed() takes a stream without tracks: ffmpeg brings them');
    if (this.running) throw new Error('this ffmpeg source is already feeding a stream');
    this.stopped = false;
    this.stream = stream;
    stream.setUnavailable('ffmpeg is starting');
    for (;;) {
      if (this.stopped || this.options.signal?.aborted) throw abortError();
      try {
        await this.openRun();
        break;
      } catch (err) {
        if (this.stopped || (err as Error).name === 'AbortError') throw abortError();
        const reason = (err as Error).message;
        stream.setUnavailable(reason);
        const delay = this.nextDelay();
        this.emit('restart', this.attempt, delay, reason);
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.restartTimer = setTimeout(resolve, delay);
        });
        this.wake = undefined;
        this.restartTimer = undefined;
      }
    }
    for (const codec of this.codecs) stream.addTrack(codec);
    this.start(stream);
    this.emit('tracks', this.codecs);
    return this.codecs;
  }

  get codecs(): TrackCodec[] {
    return this.tracksMapped.map((t) => t.codec);
  }

  get tracks(): readonly MappedTrack[] {
    return this.tracksMapped;
  }

  /** The last run's decision per track (copied, encoded, as the arguments say). */
  get plan(): readonly FfmpegTrackPlan[] {
    return this.currentPlan;
  }

  /**
   * Starts pushing into `stream` (built with `codecs`, in order), restarting ffmpeg when it dies.
   * With `lateTracks` and before ffmpeg has delivered, feeds `stream` (empty) as `feed()` does.
   */
  start(stream: Stream): void {
    if (this.options.lateTracks && !this.run && !this.running && this.stream === undefined) {
      this.feed(stream).catch((err: Error) => {
        if (err.name !== 'AbortError') this.emit('error', err);
      });
      return;
    }
    if (this.running || !this.run) return;
    this.running = true;
    this.stream = stream;
    stream.setAvailable();
    this.pump(this.run);
  }

  stop(): void {
    this.stopped = true;
    this.running = false;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.wake?.();
    for (const child of this.starting) child.kill('SIGKILL');
    this.starting.clear();
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

  /** The next restart delay: doubling from restartDelayMs up to maxRestartDelayMs. */
  private nextDelay(): number {
    const base = this.options.restartDelayMs ?? 500;
    const delay = Math.min(this.options.maxRestartDelayMs ?? 10_000, base * 2 ** this.attempt);
    this.attempt++;
    return delay;
  }

  /** Runs a child to its end, collecting stderr (stop() kills it). */
  private runToEnd(args: string[], timeoutMs: number): Promise<{ code: number | null; stderr: string }> {
    const child = childProcess().spawn(this.options.ffmpegPath ?? 'ffmpeg', args, {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.starting.add(child);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      // The stream listings come first; a long metadata dump must not push them out.
      if (stderr.length < 256_000) stderr += d.toString();
    });
    return new Promise((resolve, reject) => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      child.once('error', (err) => {
        clearTimeout(timer);
        this.starting.delete(child);
        reject(new FfmpegError(`cannot run ffmpeg: ${err.message}`));
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        this.starting.delete(child);
        if (this.stopped) reject(abortError());
        else if (timedOut) {
          const lines = ffmpegErrorLines(stderr);
          reject(
            new FfmpegError(
              `ffmpeg did not open its input within ${timeoutMs} ms${lines ? `: ${lines}` : ''}`,
            ),
          );
        } else if (code !== 0) reject(new FfmpegError(exitReason(code, signal, stderr)));
        else resolve({ code, stderr });
      });
    });
  }

  /** Probes the inputs, decides per track what to copy and what to encode, then starts the real run. */
  private async spawnRun(): Promise<Run> {
    const timeoutMs = this.options.probeTimeoutMs ?? 15000;
    const probe = await this.runToEnd(ffmpegProbeCommand(this.args), timeoutMs);
    const plan = planFfmpegTracks(this.args, parseFfmpegStreams(probe.stderr));
    if (plan.length === 0) {
      const lines = ffmpegErrorLines(probe.stderr);
      throw new FfmpegError(`ffmpeg's input has no video or audio stream${lines ? `: ${lines}` : ''}`);
    }
    if (this.stopped) throw abortError();
    this.currentPlan = plan;
    this.emit('plan', plan);
    this.emit('info', `ffmpeg ${plan.map(describePlan).join(', ')}`);
    const demuxer = await loadDemuxer();
    return this.spawnMedia(ffmpegCommand(this.args, plan, { gopSeconds: this.options.gopSeconds }), demuxer);
  }

  private spawnMedia(args: string[], demuxer: Demuxer): Promise<Run> {
    const { Input, MPEG_TS, ReadableStreamSource } = demuxer;
    const timeoutMs = this.options.probeTimeoutMs ?? 15000;
    const child = childProcess().spawn(this.options.ffmpegPath ?? 'ffmpeg', args, {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.starting.add(child);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const status: Run['status'] = {};
    const exited = new Promise<string>((resolve) => {
      child.once('close', (code, signal) => {
        status.exitCode = code;
        resolve(exitReason(code, signal, stderr));
      });
    });
    child.on('exit', (code) => this.emit('exit', code, stderr.trim()));
    const input = new Input({
      formats: [MPEG_TS],
      source: new ReadableStreamSource(Readable.toWeb(child.stdout!) as ReadableStream<Uint8Array>),
    });
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = async (err: Error, waitForExit: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.starting.delete(child);
        // The demuxer may give up before ffmpeg has said why: ffmpeg's own reason is the useful one.
        const reason = waitForExit
          ? await Promise.race([
              exited,
              new Promise<undefined>((r) => setTimeout(() => r(undefined), 2000).unref()),
            ])
          : undefined;
        child.kill('SIGKILL');
        input.dispose();
        if (this.stopped) reject(abortError());
        else if (reason !== undefined) reject(new FfmpegError(reason));
        else {
          const lines = ffmpegErrorLines(stderr);
          reject(
            err instanceof RtspError || err instanceof MediaFormatError
              ? err
              : new FfmpegError(`${err.message}${lines ? `: ${lines}` : ''}`),
          );
        }
      };
      const timer = setTimeout(
        () => void fail(new FfmpegError(`ffmpeg gave no media within ${timeoutMs} ms`), false),
        timeoutMs,
      );
      child.once('error', (err) => void fail(new FfmpegError(`cannot run ffmpeg: ${err.message}`), false));
      void exited.then((reason) => {
        // A short run may end before the demuxer has read what it wrote: give it a moment.
        setTimeout(() => {
          if (!settled) void fail(new FfmpegError(`${reason} before any media`), false);
        }, 500).unref();
      });
      input.getTracks().then(
        (inputTracks) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          this.starting.delete(child);
          // From here on an exit is the end of a run (pump lets the demuxer drain), not a failed start.
          child.removeAllListeners('error');
          child.on('error', () => {});
          const run: Run = {
            child,
            input,
            demuxer,
            inputTracks,
            lanes: [],
            exited,
            status,
          };
          resolve(run);
        },
        (err: Error) => void fail(err, true),
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
      if (this.run !== run) return;
      // Say why it ended: ffmpeg's exit status and last words (wait briefly if it is still going).
      void Promise.race([
        run.exited,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 1000).unref()),
      ]).then((reason) => {
        if (this.run !== run) return;
        this.scheduleRestart(reason ?? 'ffmpeg stopped sending media');
      });
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
        for await (const packet of new run.demuxer.EncodedPacketSink(inputTrack).packets()) {
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

  private scheduleRestart(reason: string): void {
    if (!this.running) return;
    const old = this.run;
    this.run = undefined;
    old?.child.kill('SIGKILL');
    this.stream?.setUnavailable(reason);
    // A run that lasted a while resets the backoff.
    if (performance.now() - this.runStartedMs > 30_000) this.attempt = 0;
    const delay = this.nextDelay();
    this.emit('restart', this.attempt, delay, reason);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.restartRun().catch((err: Error) => {
        if (!this.running) return;
        this.scheduleRestart(err.message);
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
      throw new FfmpegError(`ffmpeg came back without any of its tracks (${matched.missing.join(', ')})`);
    }
    this.run = { ...run, lanes: matched.lanes };
    this.stream?.setAvailable();
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
