// The config file of `smolrtsp serve --config FILE` (JSON), validated with zod. CLI-only: the
// library takes plain options objects.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';

const portRange = z
  .string()
  .regex(/^\d+-\d+$/, 'like 20000-29999')
  .transform((s) => s.split('-').map(Number) as [number, number])
  .refine(([a, b]) => a < b && b <= 65535, 'first port below second, both up to 65535');

const pattern = z
  .string()
  .regex(/^\d+x\d+(@\d+)?$/, 'like 1280x720@30')
  .default('640x480@25');

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

const pathSource = z.discriminatedUnion('source', [
  z
    .object({
      source: z.literal('pattern'),
      pattern,
      gop: z.number().positive().max(60).default(2),
      audio: z.boolean().default(false),
    })
    .strict(),
  z
    .object({
      source: z.literal('file'),
      file: z.string().min(1),
      fps: z.number().positive().max(1000).optional(),
    })
    .strict(),
  z
    .object({
      source: z.literal('ffmpeg'),
      ffmpeg: z.string().min(1),
      // Keyframe interval of video that ffmpeg has to encode (raw or unsupported input).
      gop: z.number().positive().max(60).default(2),
    })
    .strict(),
]);

export const configSchema = z
  .object({
    port: z.number().int().min(0).max(65535).optional(),
    host: z.string().optional(),
    rtpPorts: portRange.optional(),
    sessionTimeout: z.number().int().min(5).max(3600).optional(),
    maxSessions: z.number().int().positive().optional(),
    maxSessionsPerPath: z.number().int().positive().optional(),
    maxSessionsPerConnection: z.number().int().positive().optional(),
    maxSessionsPerAddress: z.number().int().positive().optional(),
    maxConnections: z.number().int().positive().optional(),
    maxConnectionsPerAddress: z.number().int().positive().optional(),
    // Seconds, bounded like the CLI's options (a timer past 2^31 ms would fire at once).
    requestTimeout: z.number().positive().max(3600).optional(),
    idleTimeout: z.number().positive().max(86400).optional(),
    maxBufferedBytes: z.number().int().min(65536).optional(),
    maxLag: z.number().positive().max(3600).optional(),
    tls: z
      .object({
        cert: z.string(),
        key: z.string(),
        port: z.number().int().min(0).max(65535).default(8322),
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
                action: z.enum(['read', 'publish']).default('read'),
                users: z.array(z.string()).nonempty(),
              })
              .strict(),
          )
          .optional(),
      })
      .strict()
      .optional(),
    ipAllow: z.array(z.string()).optional(),
    ipDeny: z.array(z.string()).optional(),
    paths: z.record(z.string().regex(/^\//, 'paths start with /'), pathSource).default({}),
  })
  .strict();

export type ServeConfigFile = z.infer<typeof configSchema>;
export type PathSourceConfig = z.infer<typeof pathSource>;

/** Reads and validates a config file; relative file paths inside it are relative to the file. */
export function loadConfig(file: string): ServeConfigFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read config ${file}: ${(err as Error).message}`);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `  ${i.path.join('.') || '(top)'}: ${i.message}`)
      .join('\n');
    throw new Error(`config ${file} is not valid:\n${problems}`);
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
