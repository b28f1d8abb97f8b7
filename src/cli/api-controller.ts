// What the HTTP API's path routes do in `smolrtsp serve`: bodies validated with the config file's
// schema (zod), applied through the PathTable. Errors become HttpErrors naming the field at fault.
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { ApiController, ApiReloadResult } from '../http/api.js';
import { HttpError } from '../http/http-server.js';
import { type PathSourceConfig, pathSource, pathSourceJsonSchema } from './config.js';
import { PathConfigError, type PathTable, readPattern } from './paths.js';

/** The controller; `reload` is set by whoever can reload the config (src/cli/reload.ts). */
export type CliApiController = ApiController & { reload?: () => Promise<ApiReloadResult> };

/**
 * Relative file names in a body are taken from the server's working directory (`cwd`), as on its
 * command line; they are stored resolved, so a later change of directory does not move them.
 */
export function createApiController(table: PathTable, log: Logger, cwd = process.cwd()): CliApiController {
  const validate = (body: unknown): PathSourceConfig => {
    const parsed = pathSource.safeParse(body);
    if (!parsed.success) throw badInput(parsed.error.issues[0]);
    const config = parsed.data;
    if (config.source === 'file') config.file = resolve(cwd, config.file);
    if (config.source === 'pattern') {
      try {
        readPattern(config.pattern);
      } catch (err) {
        throw new HttpError(400, `pattern: ${(err as Error).message}`, 'pattern');
      }
    }
    return config;
  };
  const applying = async <T>(name: string, change: () => Promise<T>): Promise<T> => {
    try {
      return await change();
    } catch (err) {
      if (err instanceof PathConfigError && / exists$/.test(err.message))
        throw new HttpError(409, err.message);
      throw new HttpError(400, `cannot serve ${name}: ${(err as Error).message}`);
    }
  };
  return {
    list: () =>
      table.list().map((p) => ({
        name: p.path,
        kind: p.config.source,
        description:
          p.source?.description ?? (p.config.source === 'publish' ? 'RTSP publishers' : p.config.source),
      })),
    add: async (name, body) => {
      const config = validate(body);
      const served = await applying(name, () => table.add(name, config));
      log.info({ path: name, source: served.source?.description ?? config.source }, 'path added (API)');
    },
    replace: async (name, body) => {
      const config = validate(body);
      const outcome = await applying(name, () => table.replace(name, config));
      log.info({ path: name, outcome }, 'path replaced (API)');
      return outcome === 'kept' ? 'kept' : 'restarted';
    },
    remove: (name) => {
      const removed = table.remove(name);
      if (removed) log.info({ path: name }, 'path removed (API)');
      return removed;
    },
    pathBodySchema: pathSourceJsonSchema(),
  };
}

/** A zod issue as a 400: `pattern: like 1280x720@30`, field `pattern`. */
function badInput(issue: z.core.$ZodIssue | undefined): HttpError {
  if (!issue) return new HttpError(400, 'the body is not a path config');
  const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
  const field = [...issue.path.map(String), ...keys.slice(0, 1)].join('.') || 'source';
  const message = issue.code === 'unrecognized_keys' ? `unknown key ${keys.join(', ')}` : issue.message;
  return new HttpError(400, `${field}: ${message}`, field);
}
