import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { Stream, type StreamOptions } from '../media/stream.js';
import { type Track, wallClockMs } from '../media/track.js';
import { parseRtspUrl } from '../protocol/url.js';
import { msToNtp } from '../rtp/ntp.js';
import {
  buildByeCompound,
  buildSrSdesCompound,
  parseRtcpCompound,
  type RtcpSenderInfo,
} from '../rtp/rtcp.js';
import { type Authenticator, type AuthOptions, createAuthenticator } from './auth.js';
import { normalizeAddress, type Refusal, RtspConnection } from './connection.js';
import { Dispatcher, type DispatcherHooks, type EndReason } from './dispatcher.js';
import { createIpFilter, type IpFilterOptions } from './ip-filter.js';
import { type Session, type SessionInfo, SessionTable, type SessionTrack } from './session.js';
import { UdpPortPool } from './udp-ports.js';

export const VERSION = '0.1.0';

export interface RtspServerOptions {
  /** TCP port for RTSP (default 8554; 0 picks a free one). */
  port?: number;
  /** Address to listen on (default 0.0.0.0). */
  host?: string;
  /** UDP ports handed out for RTP/RTCP pairs (default 20000-29999). */
  rtpPortRange?: [number, number];
  /** Session timeout advertised to clients, seconds (default 60). */
  sessionTimeoutSec?: number;
  /** Most sessions at once; SETUP beyond it gets 503 (default 1000). */
  maxSessions?: number;
  /** Most RTSP connections at once; beyond it new ones are closed at once (default 2000). */
  maxConnections?: number;
  /** Most connections from one address at once (default 200). */
  maxConnectionsPerAddress?: number;
  /** Most sessions on one stream path; SETUP beyond it gets 503 (default 1000). */
  maxSessionsPerPath?: number;
  /**
   * Most sessions one connection (default 16) and one address (default 200) may hold; SETUP beyond
   * them gets 503. Without them one client could take every session and UDP port pair.
   */
  maxSessionsPerConnection?: number;
  maxSessionsPerAddress?: number;
  /** A request must arrive whole within this long of its first byte, else 408 and close (default 10 s). */
  requestTimeoutMs?: number;
  /** A connection with no session and no request for this long is closed (default 60 s). */
  idleTimeoutMs?: number;
  /**
   * RTSPS: RTSP over TLS on its own port (default 8322) with this certificate and key (PEM). Clients
   * use `rtsps://` and interleaved TCP inside the TLS connection.
   */
  tls?: RtspsOptions;
  /** Built-in authentication (Basic/Digest, per path and action). Runs before `hooks.authorize`. */
  auth?: AuthOptions;
  /** Addresses allowed / denied (CIDRs); a denied client's connection is closed at once. */
  ipFilter?: IpFilterOptions;
  /** Largest header block of a request (default 8 KiB) and body (default 64 KiB). */
  maxHeaderBytes?: number;
  maxBodyBytes?: number;
  /**
   * Bytes a TCP client may have queued in its socket before it skips to the next keyframe
   * (default 2 MiB), and how long it may stay behind before it is dropped (default 10 s).
   */
  maxBufferedBytes?: number;
  maxLagMs?: number;
  /**
   * Longest the other tracks of a session (audio) wait for its video's first keyframe before they
   * start without it (default 5 s). PLAY itself is answered at once.
   */
  playStartTimeoutMs?: number;
  /** Longest DESCRIBE waits for a new source's parameter sets (default 3 s). */
  describeWaitMs?: number;
  /** RTCP sender report interval (default 5 s). */
  rtcpIntervalMs?: number;
  hooks?: DispatcherHooks;
}

export interface RtspsOptions {
  cert: string | Buffer;
  key: string | Buffer;
  /** TLS port (default 8322; 0 picks a free one). */
  port?: number;
  /**
   * Let TLS clients choose plain UDP for the media (default false): the control channel would be
   * private but the video would not, which is rarely what an operator who enabled TLS wants.
   */
  allowUdp?: boolean;
}

export interface ConnectionInfo {
  remoteAddress: string;
  remotePort: number;
}

/**
 * A refusal: a request answered with an error status (4xx, 5xx; an unexpected error's 500 is a
 * `clientError` instead), or a connection closed before any request (IP filter, connection limits).
 */
export interface RefusalInfo {
  /** The status answered; absent for a connection closed before any request. */
  status?: number;
  /** The request's method and stream path; absent when there was no readable request. */
  method?: string;
  path?: string;
  remoteAddress: string;
  remotePort: number;
  /** Why, in words, and as a stable code: e.g. 'stream not found' / 'ERR_RTSP_NOT_FOUND'. */
  reason: string;
  /**
   * 'ERR_RTSP_AUTH_FAILED' marks a failed login (credentials given but wrong); a 401 that only
   * asks for credentials has 'ERR_RTSP_AUTH_REQUIRED' (or 'ERR_RTSP_AUTH_STALE' for an old nonce).
   */
  code: string;
  /** The user name a failed login tried. */
  user?: string;
}

export interface RtspServerEvents {
  connection: [info: ConnectionInfo];
  disconnect: [info: ConnectionInfo];
  session: [info: SessionInfo];
  play: [info: SessionInfo];
  sessionEnd: [info: SessionInfo, reason: EndReason];
  /** A request or connection refused: one event per refusal (see RefusalInfo). */
  refused: [info: RefusalInfo];
  /** A problem with one client (socket error, handler bug). The server goes on serving the others. */
  clientError: [error: Error, info: ConnectionInfo];
}

/**
 * The public entry: an RTSP server that serves the streams added to it.
 * Create one with `createServer()`.
 */
export class RtspServer extends EventEmitter<RtspServerEvents> {
  readonly options: Required<Omit<RtspServerOptions, 'hooks' | 'tls' | 'auth' | 'ipFilter'>> & {
    hooks: DispatcherHooks;
    tls: RtspsOptions | undefined;
  };
  private readonly addressAllowed: ((address: string) => boolean) | undefined;
  private readonly tcp: TcpServer;
  private readonly tlsServer: TlsServer | undefined;
  private readonly perAddress = new Map<string, number>();
  private readonly streams = new Map<string, Stream>();
  private readonly connections = new Set<RtspConnection>();
  /** RTSPS sockets still in their TLS handshake, by `address:port`. */
  private readonly handshaking = new Map<string, Socket>();
  private readonly sessionTable: SessionTable;
  private readonly ports: UdpPortPool;
  private readonly dispatcher: Dispatcher;
  private readonly rtcpTimer: NodeJS.Timeout;
  private readonly cname = `smolrtsp-${randomBytes(4).toString('hex')}`;
  private closing: Promise<void> | undefined;

  constructor(options: RtspServerOptions = {}) {
    super();
    this.options = {
      port: options.port ?? 8554,
      host: options.host ?? '0.0.0.0',
      rtpPortRange: options.rtpPortRange ?? [20000, 29999],
      sessionTimeoutSec: options.sessionTimeoutSec ?? 60,
      maxSessions: options.maxSessions ?? 1000,
      maxConnections: options.maxConnections ?? 2000,
      maxConnectionsPerAddress: options.maxConnectionsPerAddress ?? 200,
      maxSessionsPerPath: options.maxSessionsPerPath ?? 1000,
      maxSessionsPerConnection: options.maxSessionsPerConnection ?? 16,
      maxSessionsPerAddress: options.maxSessionsPerAddress ?? 200,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
      tls: options.tls,
      maxHeaderBytes: options.maxHeaderBytes ?? 8192,
      maxBodyBytes: options.maxBodyBytes ?? 65536,
      maxBufferedBytes: options.maxBufferedBytes ?? 2 * 1024 * 1024,
      maxLagMs: options.maxLagMs ?? 10_000,
      playStartTimeoutMs: options.playStartTimeoutMs ?? 5000,
      describeWaitMs: options.describeWaitMs ?? 3000,
      rtcpIntervalMs: options.rtcpIntervalMs ?? 5000,
      hooks: options.hooks ?? {},
    };
    const o = this.options;
    this.addressAllowed = options.ipFilter ? createIpFilter(options.ipFilter) : undefined;
    const hooks = options.auth ? withAuthentication(createAuthenticator(options.auth), o.hooks) : o.hooks;
    this.ports = new UdpPortPool(o.rtpPortRange, o.host);
    // Advertise the configured timeout and enforce a little more: clients send keepalives late.
    this.sessionTable = new SessionTable(
      {
        timeoutSec: o.sessionTimeoutSec,
        graceSec: Math.max(1, Math.ceil(o.sessionTimeoutSec * 0.1)),
        maxSessions: o.maxSessions,
      },
      (s) => this.endSession(s, 'timeout'),
    );
    this.dispatcher = new Dispatcher({
      findStream: (path) => this.streams.get(path),
      sessions: this.sessionTable,
      ports: this.ports,
      hooks,
      limits: {
        maxSessionsPerPath: o.maxSessionsPerPath,
        maxSessionsPerConnection: o.maxSessionsPerConnection,
        maxSessionsPerAddress: o.maxSessionsPerAddress,
        allowUdpOverTls: o.tls?.allowUdp ?? false,
        maxBufferedBytes: o.maxBufferedBytes,
        maxLagMs: o.maxLagMs,
        playStartTimeoutMs: o.playStartTimeoutMs,
        describeWaitMs: o.describeWaitMs,
      },
      sessionStarted: (s) => this.emit('session', s.info()),
      sessionPlaying: (s) => this.emit('play', s.info()),
      endSession: (s, reason) => this.endSession(s, reason),
      onRtcpFromClient: (s, packet) => this.onClientRtcp(s, packet),
      reportError: (err, conn) =>
        this.emit('clientError', err instanceof Error ? err : new Error(String(err)), infoOf(conn)),
      sendInitialReport: (st) => this.sendReport(st),
    });
    this.tcp = createTcpServer((socket) => this.accept(socket, false));
    this.tcp.on('error', (err) => this.emit('clientError', err, { remoteAddress: '', remotePort: 0 }));
    if (o.tls) {
      this.tlsServer = createTlsServer(
        // A handshake must finish within the request deadline: a silent socket holds nothing long.
        { cert: o.tls.cert, key: o.tls.key, handshakeTimeout: o.requestTimeoutMs },
        (socket) => {
          this.handshaking.delete(socketKey(socket));
          this.accept(socket, true);
        },
      );
      // The address filter and the connection limits apply before the handshake: a denied or
      // surplus client costs no TLS work, and sockets still handshaking count against the limits.
      this.tlsServer.on('connection', (raw: Socket) => {
        if (!this.admitted(raw)) return;
        const key = socketKey(raw);
        this.handshaking.set(key, raw);
        raw.once('close', () => {
          if (this.handshaking.get(key) === raw) this.handshaking.delete(key);
        });
      });
      // Failed handshakes (scanners, plain RTSP on the TLS port) end that socket only.
      this.tlsServer.on('tlsClientError', (err, socket) => {
        this.emit('clientError', err, {
          remoteAddress: socket.remoteAddress ?? '',
          remotePort: socket.remotePort ?? 0,
        });
        socket.destroy();
      });
    }
    this.rtcpTimer = setInterval(() => this.sendSenderReports(), o.rtcpIntervalMs);
    this.rtcpTimer.unref();
  }

  /** Starts listening (RTSP, and RTSPS when configured); resolves with the RTSP port. */
  async listen(): Promise<number> {
    await listenOn(this.tcp, this.options.port, this.options.host, 'RTSP');
    if (this.tlsServer) {
      try {
        await listenOn(this.tlsServer, this.options.tls?.port ?? 8322, this.options.host, 'RTSPS');
      } catch (err) {
        // Half a server is no use to anyone: give the RTSP port back too.
        this.tcp.close();
        throw err;
      }
    }
    return this.port;
  }

  get port(): number {
    const addr = this.tcp.address();
    return typeof addr === 'object' && addr ? addr.port : this.options.port;
  }

  /** The RTSPS port, when TLS is configured. */
  get tlsPort(): number | undefined {
    const addr = this.tlsServer?.address();
    return typeof addr === 'object' && addr ? addr.port : undefined;
  }

  /** Adds a stream at `path` (e.g. `/cam`); push access units into its tracks. */
  addStream(path: string, options: StreamOptions): Stream {
    const normalized = normalizePath(path);
    if (this.streams.has(normalized)) throw new Error(`a stream already exists at ${normalized}`);
    const stream = new Stream(normalized, options);
    this.streams.set(normalized, stream);
    for (const track of stream.tracks) track.onSinkError = (err, sink) => this.onSinkError(err, sink);
    stream.on('track', (track: Track) => {
      track.onSinkError = (err, sink) => this.onSinkError(err, sink);
    });
    // stream.close() called by the application ends the sessions like removeStream().
    stream.once('close', () => {
      if (this.streams.get(normalized) === stream) this.removeStream(normalized);
    });
    return stream;
  }

  getStream(path: string): Stream | undefined {
    return this.streams.get(normalizePath(path));
  }

  /** Removes a stream; its clients' sessions end (RTCP BYE). */
  removeStream(path: string): boolean {
    const stream = this.streams.get(normalizePath(path));
    if (!stream) return false;
    this.streams.delete(stream.path);
    for (const s of [...this.sessionTable.values()])
      if (s.stream === stream) this.endSession(s, 'stream-removed');
    stream.close();
    return true;
  }

  /** The status view: every session with its client, transport, state and counters. */
  sessions(): SessionInfo[] {
    return [...this.sessionTable.values()].map((s) => s.info());
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Ends every session (RTCP BYE), closes every socket. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.rtcpTimer);
    const closed = Promise.all(
      [this.tcp, this.tlsServer].map(
        (srv) => new Promise<void>((resolve) => (srv?.listening ? srv.close(() => resolve()) : resolve())),
      ),
    );
    for (const s of [...this.sessionTable.values()]) this.endSession(s, 'shutdown');
    this.sessionTable.close();
    // Sockets still in their TLS handshake would keep the TLS server from closing.
    for (const raw of this.handshaking.values()) raw.destroy();
    for (const c of this.connections) c.close();
    const drained = Promise.all(
      [...this.connections].map(
        (c) => new Promise<void>((r) => (c.closed ? r() : c.socket.once('close', () => r()))),
      ),
    );
    await Promise.race([drained, new Promise((r) => setTimeout(r, 3000).unref())]);
    for (const c of this.connections) c.socket.destroy();
    for (const stream of this.streams.values()) stream.close();
    await closed;
  }

  /**
   * Why a new connection from `address` may not come in (closing, filter, limits with handshakes
   * included), or undefined when it may.
   */
  private refusalFor(address: string): Pick<RefusalInfo, 'reason' | 'code'> | undefined {
    if (this.closing) return { reason: 'server shutting down', code: 'ERR_RTSP_SHUTTING_DOWN' };
    if (this.addressAllowed !== undefined && !this.addressAllowed(address))
      return { reason: 'address not allowed', code: 'ERR_RTSP_ADDRESS_DENIED' };
    if (this.connections.size + this.handshaking.size >= this.options.maxConnections)
      return { reason: 'connection limit reached', code: 'ERR_RTSP_TOO_MANY_CONNECTIONS' };
    let fromAddress = this.perAddress.get(address) ?? 0;
    for (const raw of this.handshaking.values()) {
      if (normalizeAddress(raw.remoteAddress ?? '') === address) fromAddress++;
    }
    if (fromAddress >= this.options.maxConnectionsPerAddress)
      return { reason: 'connection limit per address reached', code: 'ERR_RTSP_TOO_MANY_CONNECTIONS' };
    return undefined;
  }

  /** Admits a new socket, or closes it at once and says why in a `refused` event. */
  private admitted(socket: Socket): boolean {
    const remoteAddress = normalizeAddress(socket.remoteAddress ?? '');
    const refusal = this.refusalFor(remoteAddress);
    if (!refusal) return true;
    socket.on('error', () => {});
    socket.destroy();
    this.emit('refused', { remoteAddress, remotePort: socket.remotePort ?? 0, ...refusal });
    return false;
  }

  private accept(socket: Socket, secure: boolean): void {
    if (!this.admitted(socket)) return;
    const address = normalizeAddress(socket.remoteAddress ?? '');
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    const conn = new RtspConnection(
      socket,
      {
        handleRequest: (req, c) => this.dispatcher.handle(req, c),
        handleInterleaved: (channel, data, c) => this.onInterleaved(channel, data, c),
        onClose: (c) => this.onConnectionClose(c),
        onError: (err, c) => this.emit('clientError', err, infoOf(c)),
        onRefused: (refusal, c) => this.emit('refused', refusalInfo(refusal, c)),
        hasSessions: (c) => this.hasSessions(c),
      },
      {
        maxHeaderBytes: this.options.maxHeaderBytes,
        maxBodyBytes: this.options.maxBodyBytes,
        maxPendingRequests: 32,
        requestTimeoutMs: this.options.requestTimeoutMs,
        idleTimeoutMs: this.options.idleTimeoutMs,
      },
      `smolrtsp/${VERSION}`,
      secure,
    );
    this.connections.add(conn);
    this.emit('connection', infoOf(conn));
  }

  private hasSessions(conn: RtspConnection): boolean {
    for (const s of this.sessionTable.values()) if (s.owner === conn) return true;
    return false;
  }

  private onConnectionClose(conn: RtspConnection): void {
    this.connections.delete(conn);
    const left = (this.perAddress.get(conn.remoteAddress) ?? 1) - 1;
    if (left > 0) this.perAddress.set(conn.remoteAddress, left);
    else this.perAddress.delete(conn.remoteAddress);
    for (const s of [...this.sessionTable.values()]) if (s.owner === conn) this.endSession(s, 'disconnect');
    this.emit('disconnect', infoOf(conn));
  }

  private onInterleaved(channel: number, data: Buffer, conn: RtspConnection): void {
    // The client's RTCP (receiver reports) on a session's channel: a sign of life for that session.
    const session = conn.channelSessions.get(channel);
    if (session) this.onClientRtcp(session as Session, data);
  }

  private onClientRtcp(session: Session, packet: Buffer): void {
    // Any datagram from the client on our ports is a sign of life (receiver reports, NAT keepalives);
    // receiver reports also tell the status view what the client lost.
    session.touch();
    let packets: ReturnType<typeof parseRtcpCompound>;
    try {
      packets = parseRtcpCompound(packet);
    } catch {
      return; // not RTCP, or malformed: only the sign of life counts
    }
    for (const p of packets) {
      if (p.type !== 'rr' && p.type !== 'sr') continue;
      for (const block of p.reportBlocks) {
        for (const st of session.tracks.values()) {
          if (st.track.codec.ssrc !== block.ssrc) continue;
          st.receiverReport = {
            fractionLost: block.fractionLost / 256,
            cumulativeLost: block.cumulativeLost,
            jitter: block.jitter / st.track.codec.clockRate,
          };
        }
      }
    }
  }

  /** A client's transport threw while a frame went out (a bug): that client's session ends, not the stream. */
  private onSinkError(err: unknown, sink: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    for (const s of this.sessionTable.values()) {
      for (const st of s.tracks.values()) {
        if (st.transport !== sink) continue;
        this.emit('clientError', error, {
          remoteAddress: s.owner.remoteAddress,
          remotePort: s.owner.remotePort,
        });
        this.endSession(s, 'error');
        return;
      }
    }
    this.emit('clientError', error, { remoteAddress: '', remotePort: 0 });
  }

  private endSession(session: Session, reason: EndReason): void {
    if (!this.sessionTable.get(session.id)) return;
    this.sessionTable.delete(session);
    for (const st of session.tracks.values()) {
      st.track.unsubscribe(st.transport);
      try {
        st.transport.sendRtcp(this.byeFor(st.track));
      } catch {
        // The client may already be gone.
      }
      // Also frees its interleaved channels on the connection they were set up on.
      st.transport.close();
    }
    this.emit('sessionEnd', session.info(), reason);
  }

  private senderInfo(track: Track): RtcpSenderInfo {
    const now = wallClockMs();
    const ntp = msToNtp(now);
    return {
      ntpSeconds: ntp.seconds,
      ntpFraction: ntp.fraction,
      rtpTimestamp: track.rtpTimestampAt(now),
      packetCount: track.stats.packets,
      octetCount: track.stats.octets,
    };
  }

  private senderReport(track: Track): Buffer {
    return buildSrSdesCompound({ ssrc: track.codec.ssrc, cname: this.cname, ...this.senderInfo(track) });
  }

  private byeFor(track: Track): Buffer {
    const sender = track.started ? this.senderInfo(track) : undefined;
    return buildByeCompound({ ssrc: track.codec.ssrc, cname: this.cname, sender, reason: 'session ended' });
  }

  private sendReport(st: SessionTrack): void {
    if (st.track.started) st.transport.sendRtcp(this.senderReport(st.track));
  }

  /** One SR per track per interval, the same bytes for all of its clients. */
  private sendSenderReports(): void {
    const reports = new Map<Track, Buffer>();
    for (const s of this.sessionTable.values()) {
      if (s.state !== 'playing') continue;
      for (const st of s.tracks.values()) {
        if (!st.track.started) continue;
        let sr = reports.get(st.track);
        if (!sr) {
          sr = this.senderReport(st.track);
          reports.set(st.track, sr);
        }
        st.transport.sendRtcp(sr);
      }
    }
  }
}

/** Built-in authentication first; an application's own hook, if any, decides after it. */
function withAuthentication(auth: Authenticator, hooks: DispatcherHooks): DispatcherHooks {
  const next = hooks.authorize;
  return {
    ...hooks,
    async authorize(req) {
      const verdict = await auth.authorize(req);
      if (verdict !== true || !next) return verdict;
      return next(req);
    },
  };
}

/** A port that could not be bound; the message names the protocol, address and port that failed. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  constructor(
    readonly protocol: 'RTSP' | 'RTSPS',
    readonly host: string,
    readonly port: number,
    readonly code: string | undefined,
    cause: Error,
  ) {
    const why =
      code === 'EACCES'
        ? `permission denied${port < 1024 ? ' (ports below 1024 need root)' : ''}`
        : code === 'EADDRINUSE'
          ? 'address already in use'
          : code === 'EADDRNOTAVAIL'
            ? 'no such local address'
            : cause.message;
    super(`cannot listen for ${protocol} on ${host.includes(':') ? `[${host}]` : host}:${port}: ${why}`, {
      cause,
    });
  }
}

function listenOn(server: TcpServer, port: number, host: string, protocol: 'RTSP' | 'RTSPS'): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) =>
      reject(new ListenError(protocol, host, port, err.code, err));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function socketKey(socket: Socket): string {
  return `${socket.remoteAddress}:${socket.remotePort}`;
}

function infoOf(c: RtspConnection): ConnectionInfo {
  return { remoteAddress: c.remoteAddress, remotePort: c.remotePort };
}

function refusalInfo(r: Refusal, c: RtspConnection): RefusalInfo {
  const info: RefusalInfo = { status: r.status, ...infoOf(c), reason: r.reason, code: r.code };
  if (r.method !== undefined) info.method = r.method;
  // The path only: the URL itself may carry a user name and password.
  const path = r.uri === undefined ? undefined : pathOf(r.uri);
  if (path !== undefined) info.path = path;
  if (r.user !== undefined) info.user = r.user;
  return info;
}

function pathOf(uri: string): string | undefined {
  try {
    return parseRtspUrl(uri).path;
  } catch {
    return undefined;
  }
}

function normalizePath(path: string): string {
  let p = path.startsWith('/') ? path : `/${path}`;
  while (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

/** Creates a server and starts listening. */
export async function createServer(options: RtspServerOptions = {}): Promise<RtspServer> {
  const server = new RtspServer(options);
  await server.listen();
  return server;
}
