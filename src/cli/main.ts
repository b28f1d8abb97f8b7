#!/usr/bin/env node
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import pretty from 'pino-pretty';
import { createServer, type RtspsOptions, VERSION } from '../server/rtsp-server.js';
import { AnnexBFileSource } from '../sources/annexb-file.js';
import { createTestPattern } from '../sources/testpattern/source.js';

const HELP = `smolrtsp ${VERSION} — a small, fast RTSP server

Usage:
  smolrtsp serve [options]

Options:
  --file F            Annex-B H.264 file (.264) to serve, looped in real time
  --pattern WxH@FPS   the built-in live test pattern at this size and rate
                      (the default source: 640x480@25)
  --gop S             test pattern keyframe interval in seconds (default 2)
  --path /P           stream path (default /test)
  --fps N             frame rate of --file when its SPS has no timing info (default 25)
  --port N            RTSP port (default 8554)
  --host ADDR         address to listen on (default 0.0.0.0)
  --rtp-ports A-B     UDP port range for RTP/RTCP (default 20000-29999)
  --session-timeout S session timeout advertised to clients, seconds (default 60)
  --max-sessions N    most sessions at once (default 1000)
  --max-sessions-per-path N           (default 1000)
  --max-connections N                 most RTSP connections at once (default 2000)
  --max-connections-per-address N     (default 200)
  --request-timeout S a request must arrive whole within S seconds (default 10)
  --idle-timeout S    close a connection without a session after S idle seconds (default 60)
  --max-buffered B    bytes a TCP client may lag behind before it skips to the next keyframe
                      (default 2097152)
  --max-lag S         seconds a TCP client may stay behind before it is dropped (default 10)

RTSPS (RTSP over TLS):
  --tls-cert FILE     certificate (PEM); with --tls-key enables RTSPS
  --tls-key FILE      private key (PEM)
  --tls-port N        RTSPS port (default 322)
  --tls-allow-udp     let TLS clients take plain UDP media (default: TCP interleaved only)
  --log-level L       trace|debug|info|warn|error (default info)
  --log-json          log JSON lines (default: readable lines when on a terminal)
  -h, --help          this text
  -v, --version       the version
`;

function fail(message: string): never {
  process.stderr.write(`smolrtsp: ${message}\n\n${HELP}`);
  process.exit(2);
}

function intOption(
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

/** `1280x720@30` → size and rate of the test pattern. */
function parsePattern(text: string): { width: number; height: number; fps: number } {
  const m = /^(\d+)x(\d+)(?:@(\d+))?$/.exec(text);
  const width = Number(m?.[1]);
  const height = Number(m?.[2]);
  const fps = Number(m?.[3] ?? 25);
  if (!m || width < 128 || height < 160 || width > 4096 || height > 2304 || fps < 1 || fps > 120) {
    fail('--pattern must look like 1280x720@30 (128x160 to 4096x2304, 1 to 120 fps)');
  }
  return { width, height, fps };
}

async function serve(argv: string[]): Promise<void> {
  let parsed: ReturnType<typeof parseServeArgs>;
  try {
    parsed = parseServeArgs(argv);
  } catch (err) {
    fail((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(HELP);
    return;
  }
  const port = intOption('port', v.port, 8554, 0, 65535);
  const host = v.host ?? '0.0.0.0';
  const path = v.path ?? '/test';
  const fps = intOption('fps', v.fps, 0, 0, 1000) || undefined;
  let rtpPortRange: [number, number] = [20000, 29999];
  if (v['rtp-ports'] !== undefined) {
    const m = /^(\d+)-(\d+)$/.exec(v['rtp-ports']);
    if (!m || Number(m[1]) >= Number(m[2]) || Number(m[2]) > 65535)
      fail('--rtp-ports must look like 20000-29999');
    rtpPortRange = [Number(m[1]), Number(m[2])];
  }
  const file = v.file;
  if (file !== undefined && !existsSync(file)) fail(`no such file: ${file}`);
  if (file !== undefined && v.pattern !== undefined) fail('--file and --pattern are exclusive');
  const pattern = parsePattern(v.pattern ?? '640x480@25');
  const gopSeconds = v.gop === undefined ? 2 : Number(v.gop);
  if (!(gopSeconds > 0 && gopSeconds <= 60)) fail('--gop must be a number of seconds from 0 to 60');

  let tls: RtspsOptions | undefined;
  if (v['tls-cert'] !== undefined || v['tls-key'] !== undefined) {
    if (v['tls-cert'] === undefined || v['tls-key'] === undefined)
      fail('--tls-cert and --tls-key go together');
    try {
      tls = {
        cert: readFileSync(v['tls-cert']),
        key: readFileSync(v['tls-key']),
        port: intOption('tls-port', v['tls-port'], 322, 0, 65535),
        allowUdp: v['tls-allow-udp'] === true,
      };
    } catch (err) {
      fail(`cannot read the TLS certificate or key: ${(err as Error).message}`);
    }
  }

  const level = v['log-level'] ?? 'info';
  const log =
    v['log-json'] || !process.stdout.isTTY
      ? pino({ level, base: undefined })
      : pino(
          { level, base: undefined },
          pretty({ sync: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' }),
        );

  const server = await createServer({
    port,
    host,
    rtpPortRange,
    sessionTimeoutSec: intOption('session-timeout', v['session-timeout'], 60, 5, 3600),
    maxSessions: intOption('max-sessions', v['max-sessions'], 1000, 1, 100000),
    maxSessionsPerPath: intOption('max-sessions-per-path', v['max-sessions-per-path'], 1000, 1, 100000),
    maxConnections: intOption('max-connections', v['max-connections'], 2000, 1, 100000),
    maxConnectionsPerAddress: intOption(
      'max-connections-per-address',
      v['max-connections-per-address'],
      200,
      1,
      100000,
    ),
    requestTimeoutMs: intOption('request-timeout', v['request-timeout'], 10, 1, 3600) * 1000,
    idleTimeoutMs: intOption('idle-timeout', v['idle-timeout'], 60, 1, 86400) * 1000,
    maxBufferedBytes: intOption('max-buffered', v['max-buffered'], 2 * 1024 * 1024, 65536, 1 << 30),
    maxLagMs: intOption('max-lag', v['max-lag'], 10, 1, 3600) * 1000,
    tls,
  }).catch((err: Error) => fail(`cannot listen on ${host}:${port}: ${err.message}`));

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
  server.on('clientError', (err, c) =>
    log.warn({ client: `${c.remoteAddress}:${c.remotePort}`, err: err.message }, 'client error'),
  );

  const stream = server.addStream(path, { video: { codec: 'H264' } });
  let source: { stop(): void; on(event: 'error', fn: (err: Error) => void): unknown };
  let describeSource: string;
  if (file !== undefined) {
    const fileSource = new AnnexBFileSource(stream.video!, { file, fps, loop: true });
    source = fileSource;
    fileSource.start();
    describeSource = `file ${file}`;
  } else {
    source = createTestPattern(stream.video!, {
      ...pattern,
      gopFrames: Math.max(1, Math.round(gopSeconds * pattern.fps)),
      label: path,
    });
    describeSource = `test pattern ${pattern.width}x${pattern.height}@${pattern.fps}`;
  }
  source.on('error', (err: Error) => log.error({ err: err.message }, 'source error'));

  const shownHost =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `rtsp://${shownHost}:${server.port}${stream.path}`;
  log.info({ url, source: describeSource }, 'serving');
  process.stdout.write(
    `\nsmolrtsp ${VERSION} is serving ${url} (${describeSource})\n` +
      `  play it:  ffplay -rtsp_transport tcp ${url}\n` +
      `            vlc ${url}\n` +
      `            gst-launch-1.0 playbin uri=${url}\n` +
      (server.tlsPort !== undefined
        ? `  RTSPS:    rtsps://${shownHost}:${server.tlsPort}${stream.path}\n`
        : '') +
      `  stop:     Ctrl+C\n\n`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    source.stop();
    await server.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

function parseServeArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      file: { type: 'string' },
      pattern: { type: 'string' },
      gop: { type: 'string' },
      path: { type: 'string' },
      fps: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'rtp-ports': { type: 'string' },
      'session-timeout': { type: 'string' },
      'max-sessions': { type: 'string' },
      'max-sessions-per-path': { type: 'string' },
      'max-connections': { type: 'string' },
      'max-connections-per-address': { type: 'string' },
      'request-timeout': { type: 'string' },
      'idle-timeout': { type: 'string' },
      'max-buffered': { type: 'string' },
      'max-lag': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-port': { type: 'string' },
      'tls-allow-udp': { type: 'boolean' },
      'log-level': { type: 'string' },
      'log-json': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
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
  if (command !== 'serve') fail(`unknown command ${command}`);
  await serve(rest);
}

main().catch((err: unknown) => {
  process.stderr.write(`smolrtsp: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
