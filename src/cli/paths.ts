// The paths a running `smolrtsp serve` serves, each with its config and source: started at launch,
// and added, replaced or removed later (HTTP API, config reload) the same way.

import { EventEmitter } from 'node:events';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { MulticastOptions } from '../media/multicast.js';
import type { TrackCodec } from '../media/track.js';
import type { RtspServer } from '../server/rtsp-server.js';
import { createSource, type SourceSpec } from '../sources/create-source.js';
import type { Source } from '../sources/source.js';
import { MIN_PATTERN_HEIGHT, MIN_PATTERN_WIDTH } from '../sources/testpattern/draw.js';
import type { PathSourceConfig } from './config.js';

/** A path config the table cannot take (bad pattern, unreadable file, ...): the message says why. */
export class PathConfigError extends Error {
  override readonly name = 'PathConfigError';
}

/** `1280x720@30` → size and rate of the test pattern; PathConfigError for anything else. */
export function readPattern(text: string): { width: number; height: number; fps: number } {
  const m = /^(\d+)x(\d+)(?:@(\d+))?$/.exec(text);
  const width = Number(m?.[1]);
  const height = Number(m?.[2]);
  const fps = Number(m?.[3] ?? 25);
  if (
    !m ||
    width < MIN_PATTERN_WIDTH ||
    height < MIN_PATTERN_HEIGHT ||
    width > 4096 ||
    height > 2304 ||
    width % 2 !== 0 ||
    height % 2 !== 0 ||
    fps < 1 ||
    fps > 120
  ) {
    throw new PathConfigError(
      `pattern ${text} must look like 1280x720@30 (${MIN_PATTERN_WIDTH}x${MIN_PATTERN_HEIGHT} to 4096x2304, even sizes, 1 to 120 fps)`,
    );
  }
  return { width, height, fps };
}

/** The source spec of a path's config (the test pattern's WxH@FPS read here). */
export function sourceSpecOf(
  path: string,
  cfg: Exclude<PathSourceConfig, { source: 'publish' }>,
): SourceSpec {
  return cfg.source === 'pattern'
    ? { source: 'pattern', ...readPattern(cfg.pattern), gop: cfg.gop, audio: cfg.audio, label: path }
    : cfg.source === 'relay'
      ? {
          source: 'relay',
          url: cfg.url,
          transport: cfg.sourceTransport,
          onDemand: cfg.sourceOnDemand,
          lingerMs: cfg.sourceOnDemandLingerMs,
        }
      : cfg;
}

export interface ServedPath {
  path: string;
  config: PathSourceConfig;
  /** The running source; undefined for a publish path (its publishers are the source). */
  source: Source | undefined;
}

export interface ApplyResult {
  added: string[];
  restarted: string[];
  removed: string[];
  kept: string[];
}

/** Turns a path config into a SourceSpec; throws PathConfigError for what cannot be served. */
export type SpecOf = (path: string, config: Exclude<PathSourceConfig, { source: 'publish' }>) => SourceSpec;

interface Opened {
  source: Source;
  codecs: readonly TrackCodec[];
}

export interface PathTableEvents {
  /** A path's source went down and retries (the source's own `restart`), for the metrics. */
  sourceRestart: [path: string, attempt: number, reason: string];
}

export class PathTable extends EventEmitter<PathTableEvents> {
  private readonly paths = new Map<string, ServedPath>();

  constructor(
    private readonly server: RtspServer,
    private readonly specOf: SpecOf,
    private readonly log: Logger,
  ) {
    super();
  }

  get(path: string): ServedPath | undefined {
    return this.paths.get(path);
  }

  list(): ServedPath[] {
    return [...this.paths.values()];
  }

  /** Starts a path; throws PathConfigError if it exists or its source cannot open. */
  async add(path: string, config: PathSourceConfig): Promise<ServedPath> {
    if (this.paths.has(path) || this.server.getStream(path)) throw new PathConfigError(`${path} exists`);
    const served: ServedPath = { path, config, source: undefined };
    if (config.source === 'publish') {
      this.server.addPublishPath(path, {
        publishEnd: config.publishEnd,
        takeover: config.takeover,
        multicast: config.multicast,
      });
    } else {
      served.source = await this.startSource(path, config);
    }
    this.paths.set(path, served);
    return served;
  }

  /**
   * Replaces a path's config. An identical config changes nothing (its players stay); otherwise its
   * sessions end (RTCP BYE) and the new source starts. The new source is opened first: a config that
   * cannot start leaves the old one serving.
   */
  async replace(path: string, config: PathSourceConfig): Promise<'kept' | 'restarted' | 'added'> {
    const old = this.paths.get(path);
    if (!old) {
      await this.add(path, config);
      return 'added';
    }
    if (isDeepStrictEqual(old.config, config)) return 'kept';
    let next: Opened | undefined;
    if (config.source !== 'publish') next = await this.openSource(path, config);
    this.stopPath(old);
    const served: ServedPath = { path, config, source: next?.source };
    if (next) this.attach(path, next, config.multicast);
    else if (config.source === 'publish')
      this.server.addPublishPath(path, {
        publishEnd: config.publishEnd,
        takeover: config.takeover,
        multicast: config.multicast,
      });
    this.paths.set(path, served);
    return 'restarted';
  }

  /** Stops a path: its sessions end with RTCP BYE. False if there is no such path. */
  remove(path: string): boolean {
    const served = this.paths.get(path);
    if (!served) return false;
    this.stopPath(served);
    this.paths.delete(path);
    return true;
  }

  /**
   * Makes the served paths those of `wanted` (a reload): unchanged paths keep their players and lose
   * nothing, changed ones restart, new ones start, missing ones end. A path that fails to start is
   * reported in `errors` and the rest goes on.
   */
  async apply(
    wanted: ReadonlyMap<string, PathSourceConfig>,
  ): Promise<ApplyResult & { errors: Record<string, string> }> {
    const result: ApplyResult & { errors: Record<string, string> } = {
      added: [],
      restarted: [],
      removed: [],
      kept: [],
      errors: {},
    };
    for (const path of [...this.paths.keys()]) {
      if (!wanted.has(path)) {
        this.remove(path);
        result.removed.push(path);
      }
    }
    for (const [path, config] of wanted) {
      try {
        const outcome = await this.replace(path, config);
        result[outcome === 'kept' ? 'kept' : outcome === 'added' ? 'added' : 'restarted'].push(path);
      } catch (err) {
        result.errors[path] = (err as Error).message;
      }
    }
    return result;
  }

  /** Stops every source (server shutdown). */
  stopAll(): void {
    for (const p of this.paths.values()) p.source?.stop();
  }

  private stopPath(served: ServedPath): void {
    served.source?.stop();
    this.server.removeStream(served.path);
  }

  private async openSource(
    path: string,
    config: Exclude<PathSourceConfig, { source: 'publish' }>,
  ): Promise<Opened> {
    const source = createSource(this.specOf(path, config));
    // What open() finds (unreadable file, an order it cannot derive) is this path's failure.
    return { source, codecs: await source.open() };
  }

  private async startSource(
    path: string,
    config: Exclude<PathSourceConfig, { source: 'publish' }>,
  ): Promise<Source> {
    const opened = await this.openSource(path, config);
    this.attach(path, opened, config.multicast);
    return opened.source;
  }

  /** Adds the stream with the codecs open() gave (none for a source whose tracks come later) and starts. */
  private attach(path: string, { source: src, codecs }: Opened, multicast?: MulticastOptions): void {
    const log = this.log;
    src.on('error', (err) => log.error({ path, err: err.message }, 'source error'));
    src.on('restart', (attempt, delayMs, reason) => {
      log.warn({ path, attempt, delayMs, reason }, `${src.kind} is down; retrying`);
      this.emit('sourceRestart', path, attempt, reason);
    });
    src.on('info', (message) => log.info({ path }, message));
    src.on('tracks', (late) => log.info({ path, tracks: late.length }, `${src.kind} is delivering`));
    try {
      src.start(this.server.addStream(path, { tracks: [...codecs], multicast }));
    } catch (err) {
      src.stop();
      throw err;
    }
  }
}
