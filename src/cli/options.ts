// Every option of `smolrtsp serve`, once: its flag, value, help text, range, config-file key and
// where it goes. The help's option lines, the parseArgs schema, the config file's server settings
// and the mapping to RtspServerOptions are all made from this table, so an option cannot be
// half-added (test/unit/cli/options.test.ts checks each one end to end).
import { z } from 'zod';
import { DEFAULT_TLS_PORT, SERVER_DEFAULTS as SERVER_OPTION_DEFAULTS } from '../server/options.js';
import type { RtspServerOptions } from '../server/rtsp-server.js';

/** The server's defaults, as the help shows them: the server's own table, plus the RTSPS port. */
export const SERVER_DEFAULTS = { ...SERVER_OPTION_DEFAULTS, tlsPort: DEFAULT_TLS_PORT } as const;

/**
 * How a value is read: `int` an integer in [min, max]; `seconds` a number of seconds above 0 and at
 * most max, given to the server in milliseconds; `portRange` `A-B`; `string`; `list` a repeatable
 * string; `flag` no value.
 */
export type OptionKind = 'int' | 'seconds' | 'portRange' | 'string' | 'list' | 'flag';

export type OptionGroup = 'source' | 'server' | 'security' | 'http' | 'logging';

/** Where a value goes: a server option, the path the command line serves, or the CLI itself. */
export type OptionTarget =
  | { server: keyof RtspServerOptions; field?: string }
  | {
      path:
        | 'pattern'
        | 'gop'
        | 'audio'
        | 'file'
        | 'fps'
        | 'ffmpeg'
        | 'path'
        | 'publish'
        | 'relay'
        | 'relay-on-demand'
        | 'multicast';
    }
  | { cli: 'config' | 'log-level' | 'log-json' | 'help' | 'version' }
  /** The HTTP server (API, metrics, web page): `http.*` in the config file. */
  | { http: 'port' | 'host' | 'tls' };

export interface CliOption {
  flag: string;
  short?: string;
  kind: OptionKind;
  /** The value's name in the help (`N`, `S`, `FILE`). */
  arg?: string;
  min?: number;
  max?: number;
  /** The default in the option's own unit (seconds for `seconds`), shown where the help says `{default}`. */
  default?: string | number;
  group: OptionGroup;
  /** The help text; `\n` starts a continuation line. */
  help: string;
  /** Key in the config file (dotted for nested: `tls.port`); absent: command line only. */
  config?: string;
  to: OptionTarget;
}

const D = SERVER_DEFAULTS;

export const SERVE_OPTIONS_TABLE: readonly CliOption[] = [
  // What to serve.
  {
    flag: 'pattern',
    kind: 'string',
    arg: 'WxH@FPS',
    default: '640x480@25',
    group: 'source',
    help: 'the built-in live test pattern (the default: {default})',
    to: { path: 'pattern' },
  },
  {
    flag: 'gop',
    kind: 'seconds',
    arg: 'S',
    max: 60,
    default: 2,
    group: 'source',
    help: 'keyframe interval in seconds of the test pattern, or of video the\nffmpeg source encodes (default {default})',
    to: { path: 'gop' },
  },
  {
    flag: 'audio',
    kind: 'flag',
    group: 'source',
    help: 'give the test pattern a sound track (G.711: a tone, a beep each second)',
    to: { path: 'audio' },
  },
  {
    flag: 'file',
    kind: 'string',
    arg: 'F',
    group: 'source',
    help: 'a file, looped in real time: .264/.h264 (Annex-B H.264), .265/.hevc\n(Annex-B H.265), .mp4/.mov/.mkv',
    to: { path: 'file' },
  },
  {
    flag: 'fps',
    kind: 'int',
    arg: 'N',
    min: 1,
    max: 1000,
    default: 25,
    group: 'source',
    help: 'frame rate of a .264 file whose SPS has no timing info (default {default})',
    to: { path: 'fps' },
  },
  {
    flag: 'ffmpeg',
    kind: 'string',
    arg: '"ARGS"',
    group: 'source',
    help:
      'ffmpeg\'s input arguments, e.g. "-f v4l2 -i /dev/video0" or "-re -i clip.mp4"\n' +
      '(or --ffmpeg="ARGS"). H.264/H.265 video and AAC audio are copied; other\n' +
      'video (raw, MJPEG, ...) is encoded to H.264 (low latency, a keyframe every\n' +
      '--gop seconds), other audio to AAC, unless the arguments name a codec.\n' +
      'While ffmpeg fails (at start or later) the path answers 503 and ffmpeg is\n' +
      'retried with backoff (0.5 s doubling to 10 s)',
    to: { path: 'ffmpeg' },
  },
  {
    flag: 'path',
    kind: 'string',
    arg: '/P',
    default: '/test',
    group: 'source',
    help: 'the stream path (default {default})',
    to: { path: 'path' },
  },
  {
    flag: 'publish',
    kind: 'list',
    arg: '/P',
    group: 'source',
    help:
      'a path publishers push to (ANNOUNCE/RECORD, e.g. ffmpeg -f rtsp URL),\n' +
      'one at a time; repeatable. Players wait while nobody publishes',
    to: { path: 'publish' },
  },
  {
    flag: 'relay',
    kind: 'string',
    arg: 'URL',
    group: 'source',
    help:
      'relay an upstream RTSP server or camera: rtsp://[user:pass@]host[:port]/path\n' +
      '(at --path). One upstream session feeds every player; while the upstream\n' +
      'is down the path answers 503, players keep their sessions, and it is\n' +
      'retried with backoff (0.5 s doubling to 10 s)',
    to: { path: 'relay' },
  },
  {
    flag: 'relay-on-demand',
    kind: 'flag',
    group: 'source',
    help: 'pull the --relay upstream only while someone plays (stopped 10 s after\nthe last player leaves)',
    to: { path: 'relay-on-demand' },
  },
  {
    flag: 'multicast',
    kind: 'string',
    arg: 'GROUP[:PORT]',
    group: 'source',
    help:
      'also offer --path by UDP multicast on this group, e.g. 239.1.2.3:5000 (port\n' +
      'default 5004, +2 per track; TTL 1). Every reader of a track shares one send',
    to: { path: 'multicast' },
  },
  {
    flag: 'config',
    kind: 'string',
    arg: 'FILE',
    group: 'source',
    help: 'a config file, YAML (.yaml/.yml) or JSON (see README): server options, users, paths; SIGHUP reloads its paths',
    to: { cli: 'config' },
  },
  // Server.
  {
    flag: 'port',
    kind: 'int',
    arg: 'N',
    min: 0,
    max: 65535,
    default: D.port,
    group: 'server',
    help: 'RTSP port (default {default})',
    config: 'port',
    to: { server: 'port' },
  },
  {
    flag: 'host',
    kind: 'string',
    arg: 'ADDR',
    default: D.host,
    group: 'server',
    help: 'address to listen on (default {default})',
    config: 'host',
    to: { server: 'host' },
  },
  {
    flag: 'rtp-ports',
    kind: 'portRange',
    arg: 'A-B',
    default: D.rtpPortRange.join('-'),
    group: 'server',
    help: 'UDP port range for RTP/RTCP (default {default})',
    config: 'rtpPorts',
    to: { server: 'rtpPortRange' },
  },
  {
    flag: 'session-timeout',
    kind: 'int',
    arg: 'S',
    min: 5,
    max: 3600,
    default: D.sessionTimeoutSec,
    group: 'server',
    help: 'session timeout advertised to clients, seconds (default {default})',
    config: 'sessionTimeout',
    to: { server: 'sessionTimeoutSec' },
  },
  {
    flag: 'max-sessions',
    kind: 'int',
    arg: 'N',
    min: 1,
    max: 100000,
    default: D.maxSessions,
    group: 'server',
    help: 'most sessions at once (default {default})',
    config: 'maxSessions',
    to: { server: 'maxSessions' },
  },
  {
    flag: 'max-sessions-per-path',
    kind: 'int',
    arg: 'N',
    min: 1,
    max: 100000,
    default: D.maxSessionsPerPath,
    group: 'server',
    help: '(default {default})',
    config: 'maxSessionsPerPath',
    to: { server: 'maxSessionsPerPath' },
  },
  {
    flag: 'max-sessions-per-connection',
    kind: 'int',
    arg: 'N',
    min: 1,
    max: 128,
    default: D.maxSessionsPerConnection,
    group: 'server',
    help: '(default {default})',
    config: 'maxSessionsPerConnection',
    to: { server: 'maxSessionsPerConnection' },
  },
  {
    flag: 'max-sessions-per-address',
    kind: 'int',
    arg: 'N',
    min: 1,
    max: 100000,
    default: D.maxSessionsPerAddress,
    group: 'server',
    help: '(default {default})',
    config: 'maxSessionsPerAddress',
    to: { server: 'maxSessionsPerAddress' },
  },
  {
    flag: 'max-connections',
    kind: 'int',
    arg: 'N',
    min: 1,
    max: 100000,
    default: D.maxConnections,
    group: 'server',
    help: 'most RTSP connections at once (default {default})',
    config: 'maxConnections',
    to: { server: 'maxConnections' },
  },
  {
    flag: 'max-connections-per-address',
    kind: 'int',
    arg: 'N',
    min: 1,
    max: 100000,
    default: D.maxConnectionsPerAddress,
    group: 'server',
    help: '(default {default})',
    config: 'maxConnectionsPerAddress',
    to: { server: 'maxConnectionsPerAddress' },
  },
  {
    flag: 'request-timeout',
    kind: 'seconds',
    arg: 'S',
    max: 3600,
    default: D.requestTimeoutMs / 1000,
    group: 'server',
    help: 'a request must arrive whole within S seconds (default {default})',
    config: 'requestTimeout',
    to: { server: 'requestTimeoutMs' },
  },
  {
    flag: 'idle-timeout',
    kind: 'seconds',
    arg: 'S',
    max: 86400,
    default: D.idleTimeoutMs / 1000,
    group: 'server',
    help: 'close a connection without a session after S idle seconds (default {default})',
    config: 'idleTimeout',
    to: { server: 'idleTimeoutMs' },
  },
  {
    flag: 'max-buffered',
    kind: 'int',
    arg: 'B',
    min: 65536,
    max: 1 << 30,
    default: D.maxBufferedBytes,
    group: 'server',
    help: 'bytes a TCP client may lag behind before it skips to the next keyframe\n(default {default})',
    config: 'maxBufferedBytes',
    to: { server: 'maxBufferedBytes' },
  },
  {
    flag: 'max-lag',
    kind: 'seconds',
    arg: 'S',
    max: 3600,
    default: D.maxLagMs / 1000,
    group: 'server',
    help: 'seconds a TCP client may stay behind before it is dropped (default {default})',
    config: 'maxLag',
    to: { server: 'maxLagMs' },
  },
  // Security.
  {
    flag: 'user',
    kind: 'list',
    arg: 'NAME:PASSWORD',
    group: 'security',
    help:
      'require this user (repeatable; Digest on every path unless the config\n' +
      'has rules). SMOLRTSP_USERS="name:password,..." in the environment adds users.',
    config: 'auth.users',
    to: { server: 'auth', field: 'users' },
  },
  {
    flag: 'allow',
    kind: 'list',
    arg: 'CIDR',
    group: 'security',
    help: 'only these addresses may connect (repeatable)',
    config: 'ipAllow',
    to: { server: 'ipFilter', field: 'allow' },
  },
  {
    flag: 'deny',
    kind: 'list',
    arg: 'CIDR',
    group: 'security',
    help: 'these addresses may not connect (repeatable; wins over --allow)',
    config: 'ipDeny',
    to: { server: 'ipFilter', field: 'deny' },
  },
  {
    flag: 'tls-cert',
    kind: 'string',
    arg: 'FILE',
    group: 'security',
    help: 'certificate (PEM); with --tls-key enables RTSPS',
    config: 'tls.cert',
    to: { server: 'tls', field: 'cert' },
  },
  {
    flag: 'tls-key',
    kind: 'string',
    arg: 'FILE',
    group: 'security',
    help: 'private key (PEM)',
    config: 'tls.key',
    to: { server: 'tls', field: 'key' },
  },
  {
    flag: 'tls-port',
    kind: 'int',
    arg: 'N',
    min: 0,
    max: 65535,
    default: D.tlsPort,
    group: 'security',
    help: 'RTSPS port (default {default})',
    config: 'tls.port',
    to: { server: 'tls', field: 'port' },
  },
  {
    flag: 'tls-allow-udp',
    kind: 'flag',
    group: 'security',
    help: 'let TLS clients take plain UDP media (default: TCP interleaved only)',
    config: 'tls.allowUdp',
    to: { server: 'tls', field: 'allowUdp' },
  },
  // HTTP: API, metrics, web page.
  {
    flag: 'http-port',
    kind: 'int',
    arg: 'N',
    min: 0,
    max: 65535,
    group: 'http',
    help: 'serve the HTTP API, /metrics and the web page on this port (off\nunless given)',
    config: 'http.port',
    to: { http: 'port' },
  },
  {
    flag: 'http-host',
    kind: 'string',
    arg: 'ADDR',
    default: '127.0.0.1',
    group: 'http',
    help: 'address of the HTTP server (default {default}: this machine only)',
    config: 'http.host',
    to: { http: 'host' },
  },
  {
    flag: 'http-tls',
    kind: 'flag',
    group: 'http',
    help: 'HTTPS on --http-port, with the --tls-cert and --tls-key of RTSPS',
    config: 'http.tls',
    to: { http: 'tls' },
  },
  // Logging.
  {
    flag: 'log-level',
    kind: 'string',
    arg: 'L',
    default: 'info',
    group: 'logging',
    help: 'trace|debug|info|warn|error (default {default})',
    to: { cli: 'log-level' },
  },
  {
    flag: 'log-json',
    kind: 'flag',
    group: 'logging',
    help: 'log JSON lines (default: readable lines when on a terminal)',
    to: { cli: 'log-json' },
  },
  { flag: 'help', short: 'h', kind: 'flag', group: 'logging', help: 'this text', to: { cli: 'help' } },
  {
    flag: 'version',
    short: 'v',
    kind: 'flag',
    group: 'logging',
    help: 'the version',
    to: { cli: 'version' },
  },
];

/** The table's entry for `flag` (throws for an unknown one: a typo in the code, not in the input). */
export function cliOption(flag: string): CliOption {
  const o = SERVE_OPTIONS_TABLE.find((x) => x.flag === flag);
  if (!o) throw new Error(`no option --${flag} in the table`);
  return o;
}

/** The default of `flag` in its own unit. */
export function optionDefault(flag: string): string | number | undefined {
  return cliOption(flag).default;
}

// ---- parseArgs ----

type ParseArgsOption = { type: 'string' | 'boolean'; multiple?: boolean; short?: string };

/** The `util.parseArgs` options for `serve`. */
export function parseArgsOptions(): Record<string, ParseArgsOption> {
  return Object.fromEntries(
    SERVE_OPTIONS_TABLE.map((o) => {
      const spec: ParseArgsOption = { type: o.kind === 'flag' ? 'boolean' : 'string' };
      if (o.kind === 'list') spec.multiple = true;
      if (o.short) spec.short = o.short;
      return [o.flag, spec];
    }),
  );
}

/** Options of `serve` that take a value (the rest are flags), for `joinOptionValues`. */
export const VALUE_OPTIONS: ReadonlySet<string> = new Set(
  SERVE_OPTIONS_TABLE.filter((o) => o.kind !== 'flag').map((o) => o.flag),
);

/** What parseArgs gives for the table's options. */
export interface ServeValues {
  [flag: string]: string | boolean | string[] | undefined;
}

// ---- help ----

const HELP_COLUMN = 22;
const GROUP_TITLES: Record<OptionGroup, string> = {
  source: 'What to serve (one path from the command line; any number from --config):',
  server: 'Server:',
  security: 'Security:',
  http: 'HTTP (API, metrics, web page):',
  logging: 'Logging:',
};

/** The option lines of the help, one section per group, each option with its text and default. */
export function optionsHelp(): string {
  const sections: string[] = [];
  for (const group of Object.keys(GROUP_TITLES) as OptionGroup[]) {
    const lines = [GROUP_TITLES[group]];
    for (const o of SERVE_OPTIONS_TABLE.filter((x) => x.group === group)) {
      const label = `${o.short ? `-${o.short}, ` : ''}--${o.flag}${o.arg ? ` ${o.arg}` : ''}`;
      const text = o.help.replace('{default}', String(o.default)).split('\n');
      // A label too long for the text column puts its text in a second one (the limits line up there).
      const gap =
        label.length < HELP_COLUMN - 2
          ? HELP_COLUMN - 2 - label.length
          : label.length <= 20
            ? 2
            : 36 - label.length;
      lines.push(`  ${label}${' '.repeat(Math.max(1, gap))}${text[0]}`);
      for (const more of text.slice(1)) lines.push(`${' '.repeat(HELP_COLUMN)}${more}`);
    }
    sections.push(lines.join('\n'));
  }
  return sections.join('\n\n');
}

// ---- values ----

/** A value the table's range refuses, with the one-line reason the CLI prints. */
export class OptionValueError extends Error {}

function rangeText(o: CliOption): string {
  if (o.kind === 'int') return `an integer from ${o.min} to ${o.max}`;
  if (o.kind === 'seconds') return `a number of seconds above 0 and at most ${o.max}`;
  return 'like 20000-29999';
}

/** Reads a command-line value by the table: the option's range, its unit (seconds stay seconds). */
export function readFlagValue(o: CliOption, text: string): number | [number, number] | string {
  if (o.kind === 'int' || o.kind === 'seconds') {
    const n = Number(text);
    const ok =
      o.kind === 'int'
        ? Number.isInteger(n) && n >= (o.min ?? 0) && n <= (o.max ?? Number.MAX_SAFE_INTEGER)
        : text.trim() !== '' && n > 0 && n <= (o.max ?? Number.MAX_SAFE_INTEGER);
    if (!ok) throw new OptionValueError(`--${o.flag} must be ${rangeText(o)} (got ${text})`);
    return n;
  }
  if (o.kind === 'portRange') {
    const m = /^(\d+)-(\d+)$/.exec(text);
    if (!m || Number(m[1]) >= Number(m[2]) || Number(m[2]) > 65535)
      throw new OptionValueError(`--${o.flag} must look like 20000-29999`);
    return [Number(m[1]), Number(m[2])];
  }
  return text;
}

/** The config file's schema for one option's value, from the same range. */
export function configSchemaOf(o: CliOption): z.ZodType {
  switch (o.kind) {
    case 'int':
      return z
        .number()
        .int()
        .min(o.min ?? 0)
        .max(o.max ?? Number.MAX_SAFE_INTEGER);
    case 'seconds':
      // Bounded: a timer past 2^31 ms would fire at once.
      return z
        .number()
        .positive()
        .max(o.max ?? 86400);
    case 'portRange':
      return z
        .string()
        .regex(/^\d+-\d+$/, 'like 20000-29999')
        .transform((s) => s.split('-').map(Number) as [number, number])
        .refine(([a, b]) => a < b && b <= 65535, 'first port below second, both up to 65535');
    case 'string':
      return z.string();
    case 'list':
      return z.array(z.string());
    case 'flag':
      return z.boolean();
  }
}

/**
 * The server settings of the config file (top-level keys that map one to one to a server option or
 * a list), optional each. Nested ones (`tls.*`, `auth.users`) are in config.ts's objects, whose
 * fields take their schemas from `configSchemaOf` too.
 */
export function serverConfigShape(): Record<string, z.ZodOptional<z.ZodType>> {
  const shape: Record<string, z.ZodOptional<z.ZodType>> = {};
  for (const o of SERVE_OPTIONS_TABLE) {
    if (o.config === undefined || o.config.includes('.') || !('server' in o.to)) continue;
    shape[o.config] = configSchemaOf(o).optional();
  }
  return shape;
}

/**
 * The plain server options (one flag, one config key, one RtspServerOptions field): the command line
 * wins over the config file; seconds become milliseconds. TLS, users and address filters are built
 * by the CLI from their several options; they are left out here.
 */
export function plainServerOptions(values: ServeValues, config: Record<string, unknown>): RtspServerOptions {
  const out: Record<string, unknown> = {};
  for (const o of SERVE_OPTIONS_TABLE) {
    if (!('server' in o.to) || o.to.field !== undefined || o.kind === 'list' || o.kind === 'flag') continue;
    const given = values[o.flag];
    const value = typeof given === 'string' ? readFlagValue(o, given) : config[o.config ?? ''];
    if (value === undefined) continue;
    out[o.to.server] = o.kind === 'seconds' ? (value as number) * 1000 : value;
  }
  return out as RtspServerOptions;
}
