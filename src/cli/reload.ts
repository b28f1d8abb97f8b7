// Config reload (SIGHUP, POST /api/v1/config/reload): the config file is read again and its paths
// applied to the running server. A reload serves what a restart with the same command line would,
// without a restart: unchanged paths keep their players, changed ones restart their source, removed
// ones end their sessions (RTCP BYE), new ones start. Paths given on the command line (`--pattern`,
// `--file`, `--ffmpeg`, `--relay`, `--publish`) stay as they are, since the command line has not
// changed; where one names the same path as the file, it still wins. Server-level settings (port,
// host, TLS, users and rules, limits, HTTP) are read by the server once at start: a reload that
// changes them says so in `restartNeeded` and the log, and applies the rest.
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { ApiReloadResult } from '../http/api.js';
import { loadConfig, type PathSourceConfig, type ServeConfigFile } from './config.js';
import type { PathTable } from './paths.js';

/**
 * What a reload did: the API's answer (paths added, restarted, removed, kept; errors by path), with
 * `ok` and `restartNeeded` always given.
 */
export interface ReloadResult extends ApiReloadResult {
  /** False when the file could not be read or is not valid (`error` says where): nothing changed. */
  ok: boolean;
  /** Config keys whose change only a restart applies (the running server keeps the old values). */
  restartNeeded: string[];
}

/** The paths the command line gives: they win over the file's, and the fallback serves when nothing else does. */
export interface CommandLinePaths {
  given: ReadonlyMap<string, PathSourceConfig>;
  /** The default test pattern, served when neither the file nor the command line names a path. */
  fallback: readonly [string, PathSourceConfig];
}

/** The paths to serve: the config's, plus (or replaced at the same path by) the command line's. */
export function servedPaths(
  configPaths: ServeConfigFile['paths'],
  commandLine: CommandLinePaths,
): Map<string, PathSourceConfig> {
  const paths = new Map<string, PathSourceConfig>(Object.entries(configPaths));
  for (const [path, config] of commandLine.given) paths.set(path, config);
  if (paths.size === 0) paths.set(...commandLine.fallback);
  return paths;
}

/** Top-level config keys other than `paths` whose values differ. */
export function changedServerKeys(before: ServeConfigFile, after: ServeConfigFile): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  keys.delete('paths');
  return [...keys].filter((k) => !isDeepStrictEqual(before[k], after[k])).sort();
}

export interface ConfigReloaderOptions {
  /** The `--config` file; without one a reload changes nothing and says so. */
  file: string | undefined;
  table: PathTable;
  commandLine: CommandLinePaths;
  /** The config the server started with: server-level keys are compared against it. */
  started: ServeConfigFile;
  log: Logger;
}

/**
 * Runs reloads one at a time: one asked for while another runs is queued (any number of asks
 * during a run make one more run, which reads the file as it is by then).
 */
export class ConfigReloader {
  private running: Promise<ReloadResult> | undefined;
  private queued: Promise<ReloadResult> | undefined;
  private markReady!: () => void;
  /** Resolves once the startup paths are served: a reload asked for earlier waits for it. */
  private readonly ready = new Promise<void>((resolve) => {
    this.markReady = resolve;
  });

  constructor(private readonly options: ConfigReloaderOptions) {}

  /** Called once the paths of the start are served. */
  started(): void {
    this.markReady();
  }

  reload(trigger: string): Promise<ReloadResult> {
    if (!this.running) {
      this.running = this.run(trigger).finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    this.queued ??= this.running.then(() => {
      this.queued = undefined;
      return this.reload(trigger);
    });
    return this.queued;
  }

  private async run(trigger: string): Promise<ReloadResult> {
    await this.ready;
    const { file, table, log } = this.options;
    const result: ReloadResult = {
      ok: false,
      added: [],
      restarted: [],
      removed: [],
      kept: [],
      errors: {},
      restartNeeded: [],
    };
    if (file === undefined) {
      result.error = 'no config file to reload (start with --config FILE)';
      log.warn({ trigger }, `reload: ${result.error}`);
      return result;
    }
    let config: ServeConfigFile;
    try {
      config = loadConfig(file);
    } catch (err) {
      // The server goes on as it was: a typo in the file must not take paths down.
      result.error = (err as Error).message;
      log.error({ trigger, file, err: result.error }, 'reload failed: nothing changed');
      return result;
    }
    const applied = await table.apply(servedPaths(config.paths, this.options.commandLine));
    Object.assign(result, applied, { ok: true });
    result.restartNeeded = changedServerKeys(this.options.started, config);
    for (const [path, reason] of Object.entries(result.errors))
      log.error({ path, err: reason }, 'reload: path not (re)started');
    if (result.restartNeeded.length > 0)
      log.warn(
        { keys: result.restartNeeded },
        `reload: ${result.restartNeeded.join(', ')} changed; only a restart applies ${result.restartNeeded.length === 1 ? 'it' : 'them'}`,
      );
    log.info(
      {
        trigger,
        file,
        added: result.added,
        restarted: result.restarted,
        removed: result.removed,
        kept: result.kept,
        errors: result.errors,
        restartNeeded: result.restartNeeded,
      },
      'config reloaded',
    );
    return result;
  }
}
