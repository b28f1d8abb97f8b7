#!/usr/bin/env node
import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { createSecureContext } from 'node:tls';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';
import { G711TrackCodec } from '../media/formats/g711.js';
import type { Stream } from '../media/stream.js';
import type { AuthOptions } from '../server/auth.js';
import { createIpFilter } from '../server/ip-filter.js';
import {
  createServer,
  type RefusalInfo,
  type RtspServer,
  type RtspServerOptions,
  VERSION,
} from '../server/rtsp-server.js';
import { AnnexBFileSource } from '../sources/annexb-file.js';
import { describePlan, FfmpegSource } from '../sources/ffmpeg.js';
import { redactCredentials } from '../sources/ffmpeg-plan.js';
import { Mp4FileSource } from '../sources/mp4-file.js';
import { MIN_PATTERN_HEIGHT, MIN_PATTERN_WIDTH } from '../sources/testpattern/draw.js';
import { createTestPattern } from '../sources/testpattern/source.js';
import { loadConfig, type PathSourceConfig, resolveUsers, type ServeConfigFile } from './config.js';
import { hashPassword } from './hash-password.js';

const HELP = `smolrtsp ${VERSION} — a small, fast RTSP server

Usage:
  smolrtsp serve [options]
  smolrtsp hash-password NAME [--realm REALM] [--sha256]
                      print a user's Digest HA1 for the config's "ha1Md5" (password on stdin)

What to serve (one path from the command line; any number from --config):
  --pattern WxH@FPS   the built-in live test pattern (the default: 640x480@25)
  --gop S             keyframe interval in seconds of the test pattern, or of video the
                      ffmpeg source encodes (default 2)
  --audio             give the test pattern a sound track (G.711: a tone, a beep each second)
  --file F            a file, looped in real time: .264/.h264 (Annex-B H.264), .265/.hevc
                      (Annex-B H.265), .mp4/.mov/.mkv
  --fps N             frame rate of a .264 file whose SPS has no timing info (default 25)
  --ffmpeg "ARGS"     ffmpeg's input arguments, e.g. "-f v4l2 -i /dev/video0" or "-re -i clip.mp4"
                      (or --ffmpeg="ARGS"). H.264/H.265 video and AAC audio are copied; other
                      video (raw, MJPEG, ...) is encoded to H.264 (low latency, a keyframe every
                      --gop seconds), other audio to AAC, unless the arguments name a codec.
                      While ffmpeg fails (at start or later) the path answers 503 and ffmpeg is
                      retried with backoff (0.5 s doubling to 10 s)
  --path /P           the stream path (default /test)
  --config FILE       a JSON config file (see README): server options, users, paths

Server:
  --port N            RTSP port (default 8554)
  --host ADDR         address to listen on (default 0.0.0.0)
  --rtp-ports A-B     UDP port range for RTP/RTCP (default 20000-29999)
  --session-timeout S session timeout advertised to clients, seconds (default 60)
  --max-sessions N    most sessions at once (default 1000)
  --max-sessions-per-path N           (default 1000)
  --max-sessions-per-connection N     (default 16)
  --max-sessions-per-address N        (default 200)
  --max-connections N                 most RTSP connections at once (default 2000)
  --max-connections-per-address N     (default 200)
  --request-timeout S a request must arrive whole within S seconds (default 10)
  --idle-timeout S    close a connection without a session after S idle seconds (default 60)
  --max-buffered B    bytes a TCP client may lag behind before it skips to the next keyframe
                      (default 2097152)
  --max-lag S         seconds a TCP client may stay behind before it is dropped (default 10)

Security:
  --user NAME:PASSWORD  require this user (repeatable; Digest on every path unless the config
                      has rules). SMOLRTSP_USERS="name:password,..." in the environment adds users.
  --allow CIDR        only these addresses may connect (repeatable)
  --deny CIDR         these addresses may not connect (repeatable; wins over --allow)
  --tls-cert FILE     certificate (PEM); with --tls-key enables RTSPS
  --tls-key FILE      private key (PEM)
  --tls-port N        RTSPS port (default 8322)
  --tls-allow-udp     let TLS clients take plain UDP media (default: TCP interleaved only)

Logging:
  --log-level L       trace|debug|info|warn|error (default info)
  --log-json          log JSON lines (default: readable lines when on a terminal)
  -h, --help          this text
  -v, --version       the version

Examples:
  smolrtsp serve --pattern 1280x720@30 --audio
  smolrtsp serve --path /clip --file clip.mp4
  smolrtsp serve --path /cam --ffmpeg "-f v4l2 -i /dev/video0"
  smolrtsp serve --path /movie --user viewer:s3cret --ffmpeg "-re -stream_loop -1 -i movie.mp4"
`;

/** Every startup failure: one line on stderr with the reason, exit code 2. */
function fail(message: string): never {
  process.stderr.write(`smolrtsp: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exit(2);
}

function intOption(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

/** `1280x720@30` → size and rate of the test pattern. */
export function parsePattern(text: string): { width: number; height: number; fps: number } {
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
    fail(
      `pattern ${text} must look like 1280x720@30 (${MIN_PATTERN_WIDTH}x${MIN_PATTERN_HEIGHT} to 4096x2304, even sizes, 1 to 120 fps)`,
    );
  }
  return { width, height, fps };
}

/**
 * `--name value` → `--name=value` for every option that takes a value. util.parseArgs refuses a
 * separate value that starts with `-` ("argument is ambiguous"), and ffmpeg's arguments always do:
 * `--ffmpeg "-f v4l2 -i /dev/video0"` must work as the help shows it. A value that starts with `--`
 * is taken as the next option instead (a forgotten value then fails as missing).
 */
export function joinOptionValues(argv: readonly string[], valueOptions: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    if (a.startsWith('--') && valueOptions.has(a.slice(2)) && next !== undefined && !next.startsWith('--')) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

const SERVE_OPTIONS = {
  config: { type: 'string' },
  file: { type: 'string' },
  pattern: { type: 'string' },
  gop: { type: 'string' },
  ffmpeg: { type: 'string' },
  audio: { type: 'boolean' },
  path: { type: 'string' },
  fps: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  'rtp-ports': { type: 'string' },
  'session-timeout': { type: 'string' },
  'max-sessions': { type: 'string' },
  'max-sessions-per-path': { type: 'string' },
  'max-sessions-per-connection': { type: 'string' },
  'max-sessions-per-address': { type: 'string' },
  'max-connections': { type: 'string' },
  'max-connections-per-address': { type: 'string' },
  'request-timeout': { type: 'string' },
  'idle-timeout': { type: 'string' },
  'max-buffered': { type: 'string' },
  'max-lag': { type: 'string' },
  user: { type: 'string', multiple: true },
  allow: { type: 'string', multiple: true },
  deny: { type: 'string', multiple: true },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-port': { type: 'string' },
  'tls-allow-udp': { type: 'boolean' },
  'log-level': { type: 'string' },
  'log-json': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** Options of `serve` that take a value (the rest are flags). */
const VALUE_OPTIONS: ReadonlySet<string> = new Set(
  Object.entries(SERVE_OPTIONS)
    .filter(([, o]) => o.type === 'string')
    .map(([name]) => name),
);

function parseServeArgs(argv: string[]) {
  return parseArgs({
    args: joinOptionValues(argv, VALUE_OPTIONS),
    strict: true,
    allowPositionals: false,
    options: SERVE_OPTIONS,
  });
}

type Values = ReturnType<typeof parseServeArgs>['values'];

function splitUser(text: string, where: string): { name: string; password: string } {
  const i = text.indexOf(':');
  if (i <= 0 || i === text.length - 1) fail(`${where} must look like NAME:PASSWORD`);
  return { name: text.slice(0, i), password: text.slice(i + 1) };
}

/** Server options from the config file, overridden by the command line. */
function serverOptions(v: Values, c: ServeConfigFile): RtspServerOptions {
  const seconds = (name: string, value: string | undefined, fromConfig: number | undefined, max: number) => {
    const s = intOption(name, value, 1, max) ?? fromConfig;
    return s === undefined ? undefined : s * 1000;
  };
  let rtpPortRange = c.rtpPorts;
  if (v['rtp-ports'] !== undefined) {
    const m = /^(\d+)-(\d+)$/.exec(v['rtp-ports']);
    if (!m || Number(m[1]) >= Number(m[2]) || Number(m[2]) > 65535)
      fail('--rtp-ports must look like 20000-29999');
    rtpPortRange = [Number(m[1]), Number(m[2])];
  }
  const tlsCert = v['tls-cert'] ?? c.tls?.cert;
  const tlsKey = v['tls-key'] ?? c.tls?.key;
  let tls: RtspServerOptions['tls'];
  if (tlsCert !== undefined || tlsKey !== undefined) {
    if (tlsCert === undefined || tlsKey === undefined) fail('--tls-cert and --tls-key go together');
    try {
      tls = {
        cert: readFileSync(tlsCert),
        key: readFileSync(tlsKey),
        port: intOption('tls-port', v['tls-port'], 0, 65535) ?? c.tls?.port ?? 8322,
        allowUdp: v['tls-allow-udp'] === true || c.tls?.allowUdp === true,
      };
    } catch (err) {
      fail(`cannot read the TLS certificate or key: ${(err as Error).message}`);
    }
    try {
      createSecureContext({ cert: tls.cert, key: tls.key });
    } catch (err) {
      fail(
        `the TLS certificate and key do not make a usable pair (${tlsCert}, ${tlsKey}): ${(err as Error).message}`,
      );
    }
  }

  const users = [
    ...resolveUsers(c.auth?.users ?? []),
    ...(process.env.SMOLRTSP_USERS ?? '')
      .split(',')
      .filter((s) => s.trim() !== '')
      .map((s) => splitUser(s.trim(), 'each SMOLRTSP_USERS entry')),
    ...(v.user ?? []).map((u) => splitUser(u, '--user')),
  ];
  let auth: AuthOptions | undefined;
  if (users.length > 0 || c.auth) {
    if (users.length === 0) fail('authentication is configured but no user is defined');
    auth = { realm: c.auth?.realm, methods: c.auth?.methods, users, rules: c.auth?.rules };
  }
  const allow = [...(c.ipAllow ?? []), ...(v.allow ?? [])];
  const deny = [...(c.ipDeny ?? []), ...(v.deny ?? [])];
  try {
    createIpFilter({ allow, deny });
  } catch (err) {
    fail(`--allow/--deny: ${(err as Error).message}`);
  }

  return {
    port: intOption('port', v.port, 0, 65535) ?? c.port ?? 8554,
    host: v.host ?? c.host ?? '0.0.0.0',
    rtpPortRange,
    sessionTimeoutSec: intOption('session-timeout', v['session-timeout'], 5, 3600) ?? c.sessionTimeout,
    maxSessions: intOption('max-sessions', v['max-sessions'], 1, 100000) ?? c.maxSessions,
    maxSessionsPerPath:
      intOption('max-sessions-per-path', v['max-sessions-per-path'], 1, 100000) ?? c.maxSessionsPerPath,
    maxSessionsPerConnection:
      intOption('max-sessions-per-connection', v['max-sessions-per-connection'], 1, 128) ??
      c.maxSessionsPerConnection,
    maxSessionsPerAddress:
      intOption('max-sessions-per-address', v['max-sessions-per-address'], 1, 100000) ??
      c.maxSessionsPerAddress,
    maxConnections: intOption('max-connections', v['max-connections'], 1, 100000) ?? c.maxConnections,
    maxConnectionsPerAddress:
      intOption('max-connections-per-address', v['max-connections-per-address'], 1, 100000) ??
      c.maxConnectionsPerAddress,
    requestTimeoutMs: seconds('request-timeout', v['request-timeout'], c.requestTimeout, 3600),
    idleTimeoutMs: seconds('idle-timeout', v['idle-timeout'], c.idleTimeout, 86400),
    maxBufferedBytes: intOption('max-buffered', v['max-buffered'], 65536, 1 << 30) ?? c.maxBufferedBytes,
    maxLagMs: seconds('max-lag', v['max-lag'], c.maxLag, 3600),
    tls,
    auth,
    ipFilter: allow.length > 0 || deny.length > 0 ? { allow, deny } : undefined,
  };
}

/** The paths to serve: the config's, plus (or replaced at the same path by) the command line's one. */
function pathSources(v: Values, c: ServeConfigFile): Map<string, PathSourceConfig> {
  const paths = new Map<string, PathSourceConfig>(Object.entries(c.paths));
  const given = [v.file, v.pattern, v.ffmpeg].filter((x) => x !== undefined).length;
  if (given > 1) fail('--file, --pattern and --ffmpeg are exclusive');
  // Options that only one kind of source reads are refused elsewhere rather than silently ignored.
  const fileKind =
    v.file === undefined ? undefined : /\.(264|h264|265|h265|hevc)$/i.test(v.file) ? 'annexb' : 'media';
  if (v.audio && (v.file !== undefined || v.ffmpeg !== undefined))
    fail('--audio gives the test pattern a sound track; it does not apply to --file or --ffmpeg');
  if (v.gop !== undefined && v.file !== undefined)
    fail(
      '--gop sets the keyframe interval of the test pattern (and of video --ffmpeg encodes); a file keeps its own',
    );
  if (v.fps !== undefined && fileKind !== 'annexb')
    fail(
      '--fps applies to .264/.265 files only (the pattern takes WxH@FPS; MP4 and ffmpeg carry their own timing)',
    );
  const gop = v.gop === undefined ? 2 : Number(v.gop);
  if (!(gop > 0 && gop <= 60))
    fail(`--gop must be a number of seconds above 0 and at most 60 (got ${v.gop})`);
  const path = v.path ?? '/test';
  if (!path.startsWith('/')) fail('--path must start with /');
  if (v.file !== undefined) {
    paths.set(path, { source: 'file', file: v.file, fps: intOption('fps', v.fps, 1, 1000) });
  } else if (v.ffmpeg !== undefined) {
    paths.set(path, { source: 'ffmpeg', ffmpeg: v.ffmpeg, gop });
  } else if (v.pattern !== undefined || paths.size === 0 || v.path !== undefined) {
    paths.set(path, { source: 'pattern', pattern: v.pattern ?? '640x480@25', gop, audio: v.audio === true });
  }
  // Every pattern is checked before any path starts: one bad path must not stop the server halfway.
  for (const cfg of paths.values()) if (cfg.source === 'pattern') parsePattern(cfg.pattern);
  return paths;
}

interface RunningSource {
  stop(): void;
  describe: string;
}

/** Builds the stream at `path` with its source; resolves once the source has started. */
async function startPath(
  server: RtspServer,
  path: string,
  cfg: PathSourceConfig,
  onError: (err: Error) => void,
  log: Logger,
): Promise<RunningSource> {
  if (cfg.source === 'pattern') {
    const p = parsePattern(cfg.pattern);
    const stream = server.addStream(path, {
      video: { codec: 'H264' },
      tracks: cfg.audio ? [new G711TrackCodec({ law: 'mulaw', input: 's16le' })] : [],
    });
    const src = createTestPattern(stream.video!, {
      ...p,
      gopFrames: Math.max(1, Math.round(cfg.gop * p.fps)),
      label: path,
      audioTrack: cfg.audio ? stream.tracks[1] : undefined,
    });
    src.on('error', onError);
    return {
      stop: () => src.stop(),
      describe: `test pattern ${p.width}x${p.height}@${p.fps}${cfg.audio ? ' with a tone' : ''}`,
    };
  }
  if (cfg.source === 'ffmpeg') {
    const src = new FfmpegSource({ args: cfg.ffmpeg, gopSeconds: cfg.gop });
    src.on('error', onError);
    src.on('restart', (attempt, delayMs, reason) =>
      log.warn({ path, attempt, delayMs, reason }, 'ffmpeg is down; retrying'),
    );
    src.on('plan', (plan) => log.info({ path }, `ffmpeg ${plan.map(describePlan).join(', ')}`));
    // The path exists at once (503 while ffmpeg is down); its tracks come when ffmpeg first delivers.
    const stream: Stream = server.addStream(path, {});
    src.feed(stream).then(
      (codecs) => log.info({ path, tracks: codecs.length }, 'ffmpeg is delivering'),
      () => {}, // stopped before ffmpeg first delivered
    );
    return { stop: () => src.stop(), describe: `ffmpeg ${redactCredentials(cfg.ffmpeg)}` };
  }
  if (!existsSync(cfg.file)) throw new Error(`no such file: ${cfg.file}`);
  const ext = extname(cfg.file).toLowerCase();
  if (['.264', '.h264', '.265', '.h265', '.hevc'].includes(ext)) {
    const codec = ext === '.264' || ext === '.h264' ? 'H264' : 'H265';
    const stream = server.addStream(path, { video: { codec } });
    const src = new AnnexBFileSource(stream.video!, { file: cfg.file, fps: cfg.fps, loop: true, codec });
    // What start() finds at once (unreadable file, an order it cannot derive) is a startup failure.
    let refused: Error | undefined;
    const atStart = (err: Error) => {
      refused ??= err;
    };
    src.on('error', atStart);
    src.start();
    src.off('error', atStart);
    if (refused) {
      src.stop();
      throw refused;
    }
    src.on('error', onError);
    return { stop: () => src.stop(), describe: `file ${cfg.file}` };
  }
  const src = await Mp4FileSource.open({ file: cfg.file, loop: true });
  src.on('error', onError);
  const stream = server.addStream(path, { tracks: src.codecs });
  src.start(stream);
  return {
    stop: () => src.close(),
    describe: `file ${cfg.file} (${src.tracks.map((t) => t.name).join(', ')})`,
  };
}

async function serve(argv: string[]): Promise<void> {
  let v: Values;
  try {
    v = parseServeArgs(argv).values;
  } catch (err) {
    fail((err as Error).message);
  }
  if (v.help) {
    process.stdout.write(HELP);
    return;
  }
  if (v.version) {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  let config: ServeConfigFile;
  try {
    config = v.config ? loadConfig(v.config) : loadConfigDefaults();
  } catch (err) {
    fail((err as Error).message);
  }
  let options: RtspServerOptions;
  try {
    options = serverOptions(v, config);
  } catch (err) {
    fail((err as Error).message);
  }
  const paths = pathSources(v, config);

  const level = v['log-level'] ?? 'info';
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(level)) {
    fail(`--log-level must be trace, debug, info, warn, error, fatal or silent (got ${level})`);
  }
  const log =
    v['log-json'] || !process.stdout.isTTY
      ? pino({ level, base: undefined })
      : pino(
          { level, base: undefined },
          pretty({ sync: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' }),
        );

  const server = await createServer(options).catch((err: Error) => fail(err.message));
  server.on('connection', (c) => log.debug({ client: `${c.remoteAddress}:${c.remotePort}` }, 'connected'));
  server.on('disconnect', (c) => log.debug({ client: `${c.remoteAddress}:${c.remotePort}` }, 'disconnected'));
  server.on('session', (s) =>
    log.info({ session: s.id, client: s.remoteAddress, path: s.path }, 'session created'),
  );
  server.on('play', (s) =>
    log.info(
      { session: s.id, client: s.remoteAddress, transport: s.tracks.map((t) => t.transport).join(', ') },
      'playing',
    ),
  );
  server.on('sessionEnd', (s, reason) =>
    log.info(
      { session: s.id, client: s.remoteAddress, reason, packets: s.packetsSent, bytes: s.bytesSent },
      'session ended',
    ),
  );
  server.on('clientError', (err, c) => {
    // A peer resetting or leaving mid-write is routine for RTSP clients; anything else is worth a warning.
    const code = (err as NodeJS.ErrnoException).code;
    const routine = ['ECONNRESET', 'EPIPE'].includes(code ?? '');
    log[routine ? 'debug' : 'warn'](
      { client: `${c.remoteAddress}:${c.remotePort}`, err: err.message, ...(code ? { code } : {}) },
      'client error',
    );
  });

  server.on('refused', (r) => logRefusal(log, r));

  const host = options.host ?? '0.0.0.0';
  const shownHost =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const running: RunningSource[] = [];
  const lines: string[] = [];
  for (const [path, cfg] of paths) {
    try {
      const src = await startPath(
        server,
        path,
        cfg,
        (err) => log.error({ path, err: err.message }, 'source error'),
        log,
      );
      running.push(src);
      const url = `rtsp://${shownHost}:${server.port}${path}`;
      log.info({ url, source: src.describe }, 'serving');
      lines.push(`  ${url}  (${src.describe})`);
    } catch (err) {
      // All or nothing: a server missing one of its configured paths would look healthy while it is not.
      for (const s of running) s.stop();
      await server.close();
      fail(`cannot serve ${path}: ${(err as Error).message}`);
    }
  }
  const first = lines[0].trim().split(/\s+/)[0];
  process.stdout.write(
    `\nsmolrtsp ${VERSION} is serving\n${lines.join('\n')}\n` +
      `  play it:  ffplay -rtsp_transport tcp ${first}\n` +
      `            vlc ${first}\n` +
      `            gst-launch-1.0 playbin uri=${first}\n` +
      (server.tlsPort !== undefined ? `  RTSPS on port ${server.tlsPort} (rtsps://)\n` : '') +
      (options.auth ? `  users:    ${options.auth.users.map((u) => u.name).join(', ')} (Digest)\n` : '') +
      `  stop:     Ctrl+C\n\n`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    for (const s of running) s.stop();
    await server.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // Without a handler SIGHUP would end the process with no cleanup at all.
  process.on('SIGHUP', () =>
    log.info({ signal: 'SIGHUP' }, 'SIGHUP received: reload is not supported yet; ignoring'),
  );
}

/**
 * One line per refusal. A failed login is one stable warn line with the address in the message
 * itself, before the user name (which the client chose), for fail2ban (see SECURITY.md); a 401 that
 * only asks for credentials is routine (debug); 503 and connection limits are warnings.
 */
function logRefusal(log: Logger, r: RefusalInfo): void {
  const fields = {
    client: `${r.remoteAddress}:${r.remotePort}`,
    method: r.method,
    path: r.path,
    status: r.status,
    reason: r.reason,
    code: r.code,
    user: r.user,
  };
  if (r.code === 'ERR_RTSP_AUTH_FAILED') {
    log.warn(
      fields,
      `authentication failed from ${r.remoteAddress} for user ${JSON.stringify(r.user ?? '')}`,
    );
    return;
  }
  if (r.status === undefined) {
    const level =
      r.code === 'ERR_RTSP_SHUTTING_DOWN' ? 'debug' : r.code === 'ERR_RTSP_ADDRESS_DENIED' ? 'info' : 'warn';
    log[level](fields, `refused connection from ${r.remoteAddress}: ${r.reason}`);
    return;
  }
  const level =
    r.status === 503 || r.status === 500 || r.code === 'ERR_RTSP_AUTH_THROTTLED'
      ? 'warn'
      : r.status === 401
        ? 'debug'
        : 'info';
  const request = r.method === undefined ? 'request' : `${r.method} ${r.path ?? '-'}`;
  log[level](fields, `refused ${request} from ${r.remoteAddress}: ${r.status} ${r.reason}`);
}

/** An empty config: every default. */
function loadConfigDefaults(): ServeConfigFile {
  return { paths: {} } as ServeConfigFile;
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === '-v' || command === '--version') {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(HELP);
    return;
  }
  if (command === 'hash-password') {
    try {
      process.stdout.write(await hashPassword(rest));
    } catch (err) {
      fail((err as Error).message);
    }
    return;
  }
  if (command !== 'serve') fail(`unknown command ${command}`);
  await serve(rest);
}

main().catch((err: unknown) => {
  process.stderr.write(`smolrtsp: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
