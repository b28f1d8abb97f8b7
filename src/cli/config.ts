// The config file of `smolrtsp serve --config FILE` (JSON, or YAML for .yaml/.yml), validated with
// zod. CLI-only: the library takes plain options objects.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { parseMulticastAddress, resolveMulticast } from '../media/multicast.js';
import { ConfigError, configFormatOf, readConfigText } from './config-source.js';
import { cliOption, configSchemaOf, optionDefault, serverConfigShape } from './options.js';
import { readPattern } from './paths.js';

export { ConfigError } from './config-source.js';

const pattern = z
  .string()
  .regex(/^\d+x\d+(@\d+)?$/, 'like 1280x720@30')
  // Sizes and rates the pattern cannot draw are the file's error too (with its line), not a failed start.
  .superRefine((text, ctx) => {
    if (!/^\d+x\d+(@\d+)?$/.test(text)) return;
    try {
      readPattern(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  })
  .default(String(optionDefault('pattern')));

/** A password given inline, or read from an environment variable so it stays out of the file. */
const userSchema = z
  .object({
    name: z.string().min(1),
    password: z.string().optional(),
    passwordEnv: z.string().optional(),
    ha1Md5: z
      .string()
      .regex(/^[0-9a-f]{32}$/i)
      .optional(),
    ha1Sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/i)
      .optional(),
  })
  .strict()
  .refine(
    (u) => u.password || u.passwordEnv || u.ha1Md5 || u.ha1Sha256,
    'a user needs a password, passwordEnv or ha1',
  );

/**
 * `"239.1.2.3:5000"`, `"239.1.2.3"` or `{ "group": "239.1.2.3", "port": 5000, "ttl": 4 }`: the
 * path is also offered by UDP multicast there.
 */
const multicast = z
  .union([
    z.string(),
    z.object({ group: z.string(), port: z.number().optional(), ttl: z.number().optional() }).strict(),
  ])
  .transform((value, ctx) => {
    try {
      return typeof value === 'string' ? parseMulticastAddress(value) : resolveMulticast(value);
    } catch (err) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message });
      return z.NEVER;
    }
  })
  .optional();

const relaySource = z
  .object({
    source: z.literal('relay'),
    // rtsp://[user:pass@]host[:port]/path of the upstream.
    url: z.string().regex(/^rtsp:\/\//i, 'a relay URL starts with rtsp://'),
    // Pull only while someone plays (plus the linger), or always.
    sourceOnDemand: z.boolean().default(false),
    sourceOnDemandLingerMs: z.number().int().min(0).max(3_600_000).default(10_000),
    sourceTransport: z.enum(['tcp', 'udp', 'auto']).default('tcp'),
    multicast,
  })
  .strict();

const pathSourceKinds = z.discriminatedUnion('source', [
  relaySource,
  z
    .object({
      source: z.literal('pattern'),
      pattern,
      gop: (configSchemaOf(cliOption('gop')) as z.ZodNumber).default(Number(optionDefault('gop'))),
      audio: z.boolean().default(false),
      multicast,
    })
    .strict(),
  z
    .object({
      source: z.literal('file'),
      file: z.string().min(1),
      fps: z.number().positive().max(1000).optional(),
      multicast,
    })
    .strict(),
  z
    .object({
      source: z.literal('ffmpeg'),
      ffmpeg: z.string().min(1),
      // Keyframe interval of video that ffmpeg has to encode (raw or unsupported input).
      gop: (configSchemaOf(cliOption('gop')) as z.ZodNumber).default(Number(optionDefault('gop'))),
      multicast,
    })
    .strict(),
  z
    .object({
      source: z.literal('publish'),
      // When the publisher leaves: players wait for the next one, or end (RTCP BYE).
      publishEnd: z.enum(['wait', 'end']).default('wait'),
      // A second publisher replaces the first instead of being refused (409).
      takeover: z.boolean().default(false),
      multicast,
    })
    .strict(),
]);

/** `"source": "rtsp://..."` is a relay of that URL. */
export const pathSource = z.preprocess(
  (p) =>
    typeof p === 'object' &&
    p !== null &&
    typeof (p as { source?: unknown }).source === 'string' &&
    /^rtsp:\/\//i.test((p as { source: string }).source)
      ? { ...p, source: 'relay', url: (p as { source: string }).source }
      : p,
  pathSourceKinds,
);

/** JSON Schema of one `paths` entry as written (defaults optional), for the HTTP API's OpenAPI document. */
export function pathSourceJsonSchema(): Record<string, unknown> {
  const { $schema: _, ...kinds } = z.toJSONSchema(pathSourceKinds, { io: 'input' });
  const shorthand = {
    type: 'object',
    description: 'a relay of that URL',
    properties: { source: { type: 'string', pattern: '^rtsp://' } },
    required: ['source'],
  };
  return {
    description: 'source: pattern, file, ffmpeg, relay, publish or an rtsp:// URL',
    anyOf: [kinds, shorthand],
  };
}

export const configSchema = z
  .object({
    // port, host, rtpPorts, the limits and timeouts: from the options table (see options.ts).
    ...serverConfigShape(),
    tls: z
      .object({
        cert: z.string(),
        key: z.string(),
        port: (configSchemaOf(cliOption('tls-port')) as z.ZodNumber).default(
          Number(optionDefault('tls-port')),
        ),
        allowUdp: z.boolean().default(false),
      })
      .strict()
      .optional(),
    auth: z
      .object({
        realm: z.string().default('smolrtsp'),
        methods: z
          .array(z.enum(['digest', 'basic']))
          .nonempty()
          .default(['digest']),
        users: z.array(userSchema).default([]),
        rules: z
          .array(
            z
              .object({
                path: z.string(),
                action: z.enum(['read', 'publish', 'api']).default('read'),
                users: z.array(z.string()).nonempty(),
              })
              .strict(),
          )
          .optional(),
      })
      .strict()
      .optional(),
    http: z
      .object({
        port: (configSchemaOf(cliOption('http-port')) as z.ZodNumber).optional(),
        host: (configSchemaOf(cliOption('http-host')) as z.ZodString).optional(),
        tls: (configSchemaOf(cliOption('http-tls')) as z.ZodBoolean).optional(),
      })
      .strict()
      .optional(),
    ipAllow: z.array(z.string()).optional(),
    ipDeny: z.array(z.string()).optional(),
    // (every option's config key is checked against this schema in test/unit/cli/options.test.ts)
    paths: z.record(z.string().regex(/^\//, 'paths start with /'), pathSource).default({}),
  })
  .strict();

/** The validated config; the server settings made from the options table are read by their keys. */
export type ServeConfigFile = z.infer<typeof configSchema> & { [key: string]: unknown };
export type PathSourceConfig = z.infer<typeof pathSource>;

/**
 * Reads and validates a config file (ConfigError naming each bad key and its line); relative file
 * paths inside it are relative to the file.
 */
export function loadConfig(file: string): ServeConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config ${file}: ${(err as Error).message}`);
  }
  return parseConfig(text, file);
}

/** Validates a config file's text; `file` gives the format (by extension) and the base of relative paths. */
export function parseConfig(text: string, file: string): ServeConfigFile {
  let source: ReturnType<typeof readConfigText>;
  try {
    source = readConfigText(text, configFormatOf(file));
  } catch (err) {
    throw new ConfigError(`cannot read config ${file}: ${(err as Error).message}`);
  }
  const parsed = configSchema.safeParse(source.value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      // An unknown key is named itself; a bad record key says what is wrong with it.
      const path =
        issue.code === 'unrecognized_keys' && issue.keys.length === 1
          ? [...issue.path, issue.keys[0]]
          : issue.path;
      const message =
        issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
      const line = source.lineOf(path);
      return `  ${path.map(String).join('.') || '(top)'}${line === undefined ? '' : ` (line ${line})`}: ${message}`;
    });
    throw new ConfigError(`config ${file} is not valid:\n${problems.join('\n')}`);
  }
  const config = parsed.data;
  const base = dirname(resolve(file));
  for (const p of Object.values(config.paths)) if (p.source === 'file') p.file = resolve(base, p.file);
  if (config.tls) {
    config.tls.cert = resolve(base, config.tls.cert);
    config.tls.key = resolve(base, config.tls.key);
  }
  return config;
}

/** Resolves `passwordEnv` from the environment; a missing variable is an error, never an empty password. */
export function resolveUsers(
  users: NonNullable<ServeConfigFile['auth']>['users'],
  env: NodeJS.ProcessEnv = process.env,
): Array<{ name: string; password?: string; ha1Md5?: string; ha1Sha256?: string }> {
  return users.map((u) => {
    if (u.passwordEnv !== undefined) {
      const value = env[u.passwordEnv];
      if (value === undefined || value === '')
        throw new Error(`user ${u.name}: $${u.passwordEnv} is not set`);
      return { name: u.name, password: value, ha1Md5: u.ha1Md5, ha1Sha256: u.ha1Sha256 };
    }
    return { name: u.name, password: u.password, ha1Md5: u.ha1Md5, ha1Sha256: u.ha1Sha256 };
  });
}
