#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { parseArgs } from 'node:util';
import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';
import { registerApi } from '../http/api.js';
import { HttpServer } from '../http/http-server.js';
import { registerWebPage } from '../http/web/routes.js';
import { parseMulticastAddress } from '../media/multicast.js';
import type { AuthOptions } from '../server/auth.js';
import { createIpFilter } from '../server/ip-filter.js';
import {
  createServer,
  type RefusalInfo,
  type RtspServer,
  type RtspServerOptions,
  VERSION,
} from '../server/rtsp-server.js';
import { createApiController } from './api-controller.js';
import { loadConfig, type PathSourceConfig, resolveUsers, type ServeConfigFile } from './config.js';
import { hashPassword } from './hash-password.js';
import { routeMetrics } from './metrics.js';
import {
  cliOption,
  optionDefault,
  optionsHelp,
  parseArgsOptions,
  plainServerOptions,
  readFlagValue,
  SERVER_DEFAULTS,
  type ServeValues,
  VALUE_OPTIONS,
} from './options.js';
import { PathTable, readPattern, sourceSpecOf } from './paths.js';
import { type CommandLinePaths, ConfigReloader, servedPaths } from './reload.js';

const HELP = `smolrtsp ${VERSION} — a small, fast RTSP server

Usage:
  smolrtsp serve [options]
  smolrtsp hash-password NAME [--realm REALM] [--sha256]
                      print a user's Digest HA1 for the config's "ha1Md5" (password on stdin)

${optionsHelp()}

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

/** A command-line value read by the options table; a value out of its range is a startup failure. */
function flagValue(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return readFlagValue(cliOption(flag), text) as number;
  } catch (err) {
    fail((err as Error).message);
  }
}

/** readPattern for the command line: a bad pattern is a startup failure. */
export function parsePattern(text: string): { width: number; height: number; fps: number } {
  try {
    return readPattern(text);
  } catch (err) {
    fail((err as Error).message);
  }
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

function parseServeArgs(argv: string[]): Values {
  return parseArgs({
    args: joinOptionValues(argv, VALUE_OPTIONS),
    strict: true,
    allowPositionals: false,
    options: parseArgsOptions(),
  }).values as Values;
}

/** The parsed command line, typed for the flags this file reads by name. */
type Values = ServeValues & {
  config?: string;
  file?: string;
  pattern?: string;
  gop?: string;
  ffmpeg?: string;
  audio?: boolean;
  path?: string;
  fps?: string;
  publish?: string[];
  relay?: string;
  'relay-on-demand'?: boolean;
  multicast?: string;
  user?: string[];
  allow?: string[];
  deny?: string[];
  'tls-cert'?: string;
  'tls-key'?: string;
  'tls-port'?: string;
  'tls-allow-udp'?: boolean;
  'http-port'?: string;
  'http-host'?: string;
  'http-tls'?: boolean;
  'log-level'?: string;
  'log-json'?: boolean;
  help?: boolean;
  version?: boolean;
};

function splitUser(text: string, where: string): { name: string; password: string } {
  const i = text.indexOf(':');
  if (i <= 0 || i === text.length - 1) fail(`${where} must look like NAME:PASSWORD`);
  return { name: text.slice(0, i), password: text.slice(i + 1) };
}

/** Server options from the config file, overridden by the command line. */
function serverOptions(v: Values, c: ServeConfigFile): RtspServerOptions {
  // One flag, one config key, one server option: straight from the table.
  const plain = plainServerOptions(v, c);
  const tlsCert = v['tls-cert'] ?? c.tls?.cert;
  const tlsKey = v['tls-key'] ?? c.tls?.key;
  let tls: RtspServerOptions['tls'];
  if (tlsCert !== undefined || tlsKey !== undefined) {
    if (tlsCert === undefined || tlsKey === undefined) fail('--tls-cert and --tls-key go together');
    try {
      tls = {
        cert: readFileSync(tlsCert),
        key: readFileSync(tlsKey),
        port: flagValue('tls-port', v['tls-port']) ?? c.tls?.port ?? Number(optionDefault('tls-port')),
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
    ...plain,
    tls,
    auth,
    ipFilter: allow.length > 0 || deny.length > 0 ? { allow, deny } : undefined,
  };
}

/**
 * The paths the command line names (they win over the config file's, at start and on reload), and
 * the default test pattern served when nothing names a path.
 */
function commandLinePaths(v: Values): CommandLinePaths {
  const paths = new Map<string, PathSourceConfig>();
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
  for (const p of v.publish ?? []) {
    if (!p.startsWith('/')) fail('--publish must name a path starting with /');
    paths.set(p, { source: 'publish', publishEnd: 'wait', takeover: false });
  }
  const gop = flagValue('gop', v.gop) ?? Number(optionDefault('gop'));
  const path = v.path ?? String(optionDefault('path'));
  if (!path.startsWith('/')) fail('--path must start with /');
  if (v.relay !== undefined && [v.file, v.ffmpeg, v.pattern].some((x) => x !== undefined))
    fail('one source for --path: --relay, or --pattern, --file, --ffmpeg');
  if (v['relay-on-demand'] && v.relay === undefined) fail('--relay-on-demand applies to --relay');
  const commandLinePath =
    v.relay !== undefined ||
    v.file !== undefined ||
    v.ffmpeg !== undefined ||
    v.pattern !== undefined ||
    paths.size === 0 ||
    v.path !== undefined;
  if (v.relay !== undefined) {
    if (!/^rtsp:\/\//i.test(v.relay)) fail('--relay takes an rtsp:// URL');
    paths.set(path, {
      source: 'relay',
      url: v.relay,
      sourceOnDemand: v['relay-on-demand'] === true,
      sourceOnDemandLingerMs: 10_000,
      sourceTransport: 'tcp',
    });
  } else if (v.file !== undefined) {
    paths.set(path, { source: 'file', file: v.file, fps: flagValue('fps', v.fps) });
  } else if (v.ffmpeg !== undefined) {
    paths.set(path, { source: 'ffmpeg', ffmpeg: v.ffmpeg, gop });
  }
  const pattern: PathSourceConfig = {
    source: 'pattern',
    pattern: v.pattern ?? String(optionDefault('pattern')),
    gop,
    audio: v.audio === true,
  };
  // Checked before any path starts (the config file's patterns are checked by its schema).
  parsePattern(pattern.pattern);
  const otherSource = v.relay !== undefined || v.file !== undefined || v.ffmpeg !== undefined;
  if (!otherSource && (v.pattern !== undefined || v.path !== undefined)) paths.set(path, pattern);
  if (v.multicast !== undefined) {
    let multicast: ReturnType<typeof parseMulticastAddress>;
    try {
      multicast = parseMulticastAddress(v.multicast);
    } catch (err) {
      fail(`--multicast: ${(err as Error).message}`);
    }
    const cli = paths.get(path);
    if (cli && cli.source !== 'publish' && commandLinePath) cli.multicast = multicast;
    // Nothing else named: the default pattern (served unless the config file names paths).
    else if (!cli && !otherSource) pattern.multicast = multicast;
    else fail('--multicast applies to the --path the command line serves');
  }
  return { given: paths, fallback: [path, pattern] };
}

async function serve(argv: string[]): Promise<void> {
  let v: Values;
  try {
    v = parseServeArgs(argv);
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
  const commandLine = commandLinePaths(v);
  const paths = servedPaths(config.paths, commandLine);

  const level = v['log-level'] ?? String(optionDefault('log-level'));
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

  const host = options.host ?? SERVER_DEFAULTS.host;
  const shownHost =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const table = new PathTable(server, sourceSpecOf, log);
  const reloader = new ConfigReloader({ file: v.config, table, commandLine, started: config, log });
  // Before any path: an HTTP port that cannot be bound fails the start like the RTSP port does.
  let http: HttpServer | undefined;
  try {
    http = await startHttp(v, config, options, server, table, log, reloader);
  } catch (err) {
    await server.close();
    fail((err as Error).message);
  }
  const lines: string[] = [];
  for (const [path, cfg] of paths) {
    const url = `rtsp://${shownHost}:${server.port}${path}`;
    try {
      const served = await table.add(path, cfg);
      if (cfg.source === 'publish') {
        log.info({ url, source: 'publish', publishEnd: cfg.publishEnd }, 'serving');
        lines.push(`  ${url}  (publish to it: ffmpeg -re -i IN -c copy -f rtsp ${url})`);
      } else {
        const description = served.source?.description ?? cfg.source;
        log.info({ url, source: description }, 'serving');
        lines.push(`  ${url}  (${description})`);
      }
    } catch (err) {
      // All or nothing: a server missing one of its configured paths would look healthy while it is not.
      table.stopAll();
      await Promise.all([server.close(), http?.close()]);
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
      (http ? `  HTTP:     ${http.url}/\n` : '') +
      (options.auth
        ? `  users:    ${options.auth.users.map((u) => u.name).join(', ')} (${authMethodNames(options.auth.methods)})\n`
        : '') +
      `  stop:     Ctrl+C\n\n`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    table.stopAll();
    await Promise.all([server.close(), http?.close()]);
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  reloader.started();
  process.on('SIGHUP', () => {
    if (stopping) return;
    log.info({ signal: 'SIGHUP' }, 'reloading the config');
    void reloader.reload('SIGHUP');
  });
}

/**
 * The HTTP server when `--http-port` (or `http.port`) is given: the API, metrics and web page on
 * one port, with the RTSP server's users and rules (action `api`; `read` for playing a path).
 */
async function startHttp(
  v: Values,
  c: ServeConfigFile,
  options: RtspServerOptions,
  server: RtspServer,
  table: PathTable,
  log: Logger,
  reloader: ConfigReloader,
): Promise<HttpServer | undefined> {
  const port = flagValue('http-port', v['http-port']) ?? c.http?.port;
  if (port === undefined) {
    if (v['http-tls'] || v['http-host'] !== undefined) fail('--http-host and --http-tls need --http-port');
    return undefined;
  }
  const tls = v['http-tls'] === true || c.http?.tls === true;
  if (tls && !options.tls) fail('--http-tls uses the RTSPS certificate: give --tls-cert and --tls-key');
  const httpHost = v['http-host'] ?? c.http?.host ?? String(optionDefault('http-host'));
  const http = new HttpServer({
    host: httpHost,
    port,
    tls: tls && options.tls ? { cert: options.tls.cert, key: options.tls.key } : undefined,
    authenticator: server.authenticator,
    serverName: `smolrtsp/${VERSION}`,
  });
  http.on('request', (r) =>
    log[r.status >= 500 ? 'warn' : r.status >= 400 && r.status !== 401 ? 'info' : 'debug'](
      {
        client: r.remoteAddress,
        method: r.method,
        path: r.path,
        status: r.status,
        user: r.user,
        error: r.error,
      },
      'http request',
    ),
  );
  http.on('error', (err) => log.error({ err: err.message, stack: err.stack }, 'http handler failed'));
  routeMetrics(http, server, table);
  // The JSON API (/api/v1/...); with a config file, POST /api/v1/config/reload reloads it.
  const controller = createApiController(table, log);
  if (v.config !== undefined) controller.reload = () => reloader.reload('http');
  // The page at / with WebRTC previews (WHEP); its path list is the API's. Media uses the HTTP
  // address: on loopback, nothing leaves the machine; on a wildcard, every interface (LAN viewers).
  const web = registerWebPage(http, {
    server,
    whep: { iceAddress: httpHost === '0.0.0.0' || httpHost === '::' ? undefined : httpHost },
  });
  registerApi(http, { server, controller, webrtcReaders: (path) => web.whep.countOn(path) });
  web.whep.onSessionStart = (s) => log.info({ whep: s.id, path: s.path }, 'webrtc preview started');
  web.whep.onSessionEnd = (s, reason) =>
    log.info(
      { whep: s.id, path: s.path, reason, packets: s.packets, bytes: s.bytes },
      'webrtc preview ended',
    );
  // RTSP over HTTP and over WebSocket on the HTTP port too (proxies that allow only that port).
  http.divert((socket, head, rest) => server.takeHttpSocket(socket, head, rest));
  try {
    await http.listen();
  } catch (err) {
    throw new Error(`cannot listen for HTTP on port ${port}: ${(err as Error).message}`);
  }
  log.info({ url: http.url }, 'http serving');
  // WebRTC loaded now, not when the first viewer's preview is waiting for it.
  web.whep.warmUp();
  return http;
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

/** The banner's names of the auth methods in force (Digest alone unless the config says otherwise). */
function authMethodNames(methods: ReadonlyArray<'digest' | 'basic'> | undefined): string {
  return [...new Set(methods ?? ['digest'])].map((m) => (m === 'digest' ? 'Digest' : 'Basic')).join(', ');
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
