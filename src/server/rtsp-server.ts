import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer as createTcpServer, isIPv4, type Socket, type Server as TcpServer } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import { Stream, type StreamOptions } from '../media/stream.js';
import { type Track, wallClockMs } from '../media/track.js';
import { type HttpHead, isHttpRequest } from '../protocol/http-head.js';
import { parseRtspUrl } from '../protocol/url.js';
import { Admission } from './admission.js';
import { type Authenticator, createAuthenticator } from './auth.js';
import { tlsModule } from './builtins.js';
import { type ControlSocket, normalizeAddress, type Refusal, RtspConnection } from './connection.js';
import { DescriptorBudget, openFileLimit } from './descriptors.js';
import { Dispatcher, type DispatcherHooks } from './dispatcher.js';
import { type MulticastSenderInfo, MulticastSenders } from './multicast.js';
import {
  DEFAULT_TLS_PORT,
  type ResolvedServerOptions,
  type RtspServerOptions,
  resolveServerOptions,
} from './options.js';
import { type IngestStats, type PublishPathOptions, PublishPoint } from './publish.js';
import { type EndReason, type Session, type SessionInfo, SessionTable } from './session.js';
import { SocketTransportFactory } from './transports.js';
import { TunnelGateway, type TunnelRefusal } from './tunnel.js';
import { UdpPortPool } from './udp-ports.js';

export const VERSION = '0.1.0';

export type { RtspServerOptions, RtspsOptions } from './options.js';

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
  /** A track's multicast sender closed (its last reader left): what it sent to the group in all. */
  multicastSenderClosed: [info: MulticastSenderInfo];
  /** A problem with one client (socket error, handler bug). The server goes on serving the others. */
  clientError: [error: Error, info: ConnectionInfo];
}

/**
 * The public entry: an RTSP server that serves the streams added to it.
 * Create one with `createServer()`.
 */
export class RtspServer extends EventEmitter<RtspServerEvents> {
  readonly options: ResolvedServerOptions;
  private readonly admission: Admission;
  private readonly tcp: TcpServer;
  private readonly tlsServer: TlsServer | undefined;
  private readonly streams = new Map<string, Stream>();
  private readonly publishPoints = new Map<Stream, PublishPoint>();
  private readonly connections = new Set<RtspConnection>();
  /**
   * Every client socket admitted, whatever it turned out to be: an RTSP connection, either half of an
   * HTTP tunnel, a WebSocket, or one whose first bytes are still awaited. Each counts against the
   * connection limits.
   */
  private readonly sockets = new Set<Socket>();
  private readonly tunnels: TunnelGateway;
  /** RTSPS sockets still in their TLS handshake, by `address:port`. */
  private readonly handshaking = new Map<string, Socket>();
  private readonly sessionTable: SessionTable;
  /** Sessions the application was told of (`session`): only these get a `sessionEnd`. */
  private readonly announced = new WeakSet<Session>();
  private readonly ports: UdpPortPool;
  private readonly multicast: MulticastSenders;
  private readonly transports: SocketTransportFactory;
  private readonly dispatcher: Dispatcher<RtspConnection>;
  private readonly rtcpTimer: NodeJS.Timeout;
  private readonly cname = `smolrtsp-${randomBytes(4).toString('hex')}`;
  /** The descriptor limit client sockets are kept under; undefined when unlimited or unknown. */
  private readonly descriptors: DescriptorBudget | undefined;
  /** Sockets accepted over the descriptor budget, waiting a moment for a request to answer with 503. */
  private refusing = 0;
  /** The built-in authentication (options.auth), shared with the HTTP server: one failure table. */
  readonly authenticator: Authenticator | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: RtspServerOptions = {}) {
    super();
    this.options = resolveServerOptions(options);
    const o = this.options;
    this.admission = new Admission(o, options.ipFilter);
    const fileLimit = options.maxOpenFiles ?? openFileLimit();
    this.descriptors =
      fileLimit === undefined || !Number.isFinite(fileLimit) ? undefined : new DescriptorBudget(fileLimit);
    this.authenticator = options.auth ? createAuthenticator(options.auth) : undefined;
    const hooks = this.authenticator ? withAuthentication(this.authenticator, o.hooks) : o.hooks;
    this.ports = new UdpPortPool(o.rtpPortRange, o.host);
    // A server listening on one IPv4 address sends its multicast out of that interface.
    this.multicast = new MulticastSenders(
      { bye: (track) => this.byeFor(track) },
      isIPv4(o.host) && o.host !== '0.0.0.0' ? o.host : undefined,
    );
    this.multicast.onSenderClosed = (info) => this.notify('multicastSenderClosed', info);
    this.transports = new SocketTransportFactory(this.ports, o, this.multicast);
    // Advertise the configured timeout and enforce a little more: clients send keepalives late.
    this.sessionTable = new SessionTable(
      {
        timeoutSec: o.sessionTimeoutSec,
        graceSec: Math.max(1, Math.ceil(o.sessionTimeoutSec * 0.1)),
        maxSessions: o.maxSessions,
        maxSessionsPerPath: o.maxSessionsPerPath,
        maxSessionsPerConnection: o.maxSessionsPerConnection,
        maxSessionsPerAddress: o.maxSessionsPerAddress,
      },
      {
        senderReport: (track) => (track.started ? this.senderReport(track) : undefined),
        bye: (track) => this.byeFor(track),
      },
      (s, reason) => {
        if (this.announced.has(s)) this.notify('sessionEnd', s.info(), reason);
      },
    );
    this.dispatcher = new Dispatcher({
      findStream: (path) => this.streams.get(path),
      publishPoint: (stream) => this.publishPoints.get(stream),
      sessions: this.sessionTable,
      transports: this.transports,
      hooks,
      limits: {
        allowUdpOverTls: o.tls?.allowUdp ?? false,
        playStartTimeoutMs: o.playStartTimeoutMs,
        describeWaitMs: o.describeWaitMs,
      },
      sessionStarted: (s) => {
        this.announced.add(s);
        this.notify('session', s.info());
      },
      sessionPlaying: (s) => this.notify('play', s.info()),
      reportError: (err, conn) =>
        this.notify('clientError', err instanceof Error ? err : new Error(String(err)), infoOf(conn)),
    });
    this.tunnels = new TunnelGateway(
      {
        serve: (control, secure) => this.serve(control, secure),
        refused: (r, socket) => this.notify('refused', tunnelRefusalInfo(r, socket)),
      },
      {
        maxHeaderBytes: o.maxHeaderBytes,
        requestTimeoutMs: o.requestTimeoutMs,
        maxPendingTunnels: o.maxPendingTunnels,
        maxFramePayload: o.maxHeaderBytes + o.maxBodyBytes,
        serverHeader: `smolrtsp/${VERSION}`,
      },
    );
    this.tcp = createTcpServer((socket) => this.accept(socket, false));
    this.tcp.on('error', (err) => this.notify('clientError', err, { remoteAddress: '', remotePort: 0 }));
    if (o.tls) {
      const { createServer: createTlsServer } = tlsModule();
      this.tlsServer = createTlsServer(
        // A handshake must finish within the request deadline: a silent socket holds nothing long.
        { cert: o.tls.cert, key: o.tls.key, handshakeTimeout: o.requestTimeoutMs },
        (socket) => {
          this.handshakeEnded(socket);
          this.accept(socket, true);
        },
      );
      // The address filter and the connection limits apply before the handshake: a denied or
      // surplus client costs no TLS work, and sockets still handshaking count against the limits.
      this.tlsServer.on('connection', (raw: Socket) => {
        // Over the descriptor budget: no TLS handshake, so no readable 503 either; closed at once.
        if (this.descriptorsFull()) {
          this.refuseOverBudget(raw, false);
          return;
        }
        if (!this.admitted(raw)) return;
        this.handshaking.set(socketKey(raw), raw);
        this.admission.handshakeStarted(normalizeAddress(raw.remoteAddress ?? ''));
        raw.once('close', () => this.handshakeEnded(raw));
      });
      // Failed handshakes (scanners, plain RTSP on the TLS port) end that socket only.
      this.tlsServer.on('tlsClientError', (err, socket) => {
        this.notify('clientError', err, {
          remoteAddress: socket.remoteAddress ?? '',
          remotePort: socket.remotePort ?? 0,
        });
        socket.destroy();
      });
    }
    this.rtcpTimer = setInterval(() => this.sendSenderReports(), o.rtcpIntervalMs);
    this.rtcpTimer.unref();
  }

  /**
   * Tells the application (every server event goes through here). Events are often raised deep in
   * the media path — a session ended by a transport failing inside a source's push, PLAY started
   * at a keyframe — so a listener that throws must not unwind into it: that would stop the source
   * (a test pattern's timer) or skip the other clients of the frame. Each listener runs in its own
   * try; what one throws is re-thrown from a microtask, so it still reaches the process as an
   * uncaught exception (a bug in a listener stays visible and is never silently swallowed), while
   * the event stays synchronous: listeners see the server as it is when the event happens.
   */
  private notify<K extends keyof RtspServerEvents>(event: K, ...args: RtspServerEvents[K]): void {
    for (const listener of this.rawListeners(event)) {
      try {
        (listener as (...a: RtspServerEvents[K]) => void).apply(this, args);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  /** Starts listening (RTSP, and RTSPS when configured); resolves with the RTSP port. */
  async listen(): Promise<number> {
    await listenOn(this.tcp, this.options.port, this.options.host, 'RTSP');
    this.descriptors?.measureBaseline();
    if (this.tlsServer) {
      try {
        await listenOn(
          this.tlsServer,
          this.options.tls?.port ?? DEFAULT_TLS_PORT,
          this.options.host,
          'RTSPS',
        );
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

  /**
   * Adds a path that publishers fill (ANNOUNCE, SETUP mode=record, RECORD, as `ffmpeg -f rtsp`
   * does). Until one publishes, DESCRIBE answers 503; who may publish is the auth `publish` action.
   */
  addPublishPath(path: string, options: PublishPathOptions = {}): Stream {
    const stream = this.addStream(path, { title: options.title, multicast: options.multicast });
    this.publishPoints.set(stream, new PublishPoint(options));
    stream.setUnavailable('no one is publishing');
    stream.once('close', () => this.publishPoints.delete(stream));
    return stream;
  }

  /** What a publish path's publisher has sent and what of it was dropped, or undefined for another path. */
  publishStats(path: string): IngestStats | undefined {
    const stream = this.getStream(path);
    const point = stream && this.publishPoints.get(stream);
    return point && { ...point.stats };
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
    for (const s of this.sessionTable.ofStream(stream)) s.end('stream-removed');
    stream.close();
    return true;
  }

  /** The status view: every session with its client, transport, state and counters. */
  /**
   * Ends one session as the operator asks (a kick): RTCP BYE on each of its tracks, then its RTSP
   * connection is closed if it carries no other session. False for an unknown id.
   */
  endSession(id: string): boolean {
    const session = this.sessionTable.get(id);
    if (!session) return false;
    const owner = session.owner;
    session.end('kicked');
    for (const c of this.connections) {
      if (c === owner && !this.sessionTable.hasSessions(c)) c.close();
    }
    return true;
  }

  sessions(): SessionInfo[] {
    return [...this.sessionTable.values()].map((s) => s.info());
  }

  /**
   * The multicast senders now in use, one per track with multicast readers: `packets` counts the
   * datagrams sent to the group, once per RTP packet whatever the number of readers.
   */
  multicastSenders(): MulticastSenderInfo[] {
    return this.multicast.list();
  }

  /**
   * The UDP fan-out's backlog: RTP batches (one per client per access unit) waiting to be sent, and
   * performance.now() of the send that last emptied the queue. UDP is sent in slices that let the
   * event loop run, so a fan-out reaches its last UDP client after `pushUnits` returns: at that time.
   */
  udpSendBacklog(): { pending: number; lastDrainedAt: number } {
    const queue = this.transports.udpSendQueue;
    return { pending: queue.pending, lastDrainedAt: queue.lastDrainedAt };
  }

  /** Open client sockets: RTSP connections, both halves of HTTP tunnels, WebSockets, and any not yet read. */
  get connectionCount(): number {
    return this.sockets.size;
  }

  /**
   * Serves a request read on another port (the HTTP server's) when it is RTSP over HTTP or over
   * WebSocket: the socket is then this server's, under its limits. False for any other request.
   */
  takeHttpSocket(socket: Socket, head: HttpHead, rest: Buffer): boolean {
    if (!TunnelGateway.wants(head)) return false;
    if (!this.admitted(socket)) return true;
    this.track(socket);
    this.tunnels.handle(socket, head, rest, (socket as { encrypted?: boolean }).encrypted === true);
    return true;
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
    for (const s of [...this.sessionTable.values()]) s.end('shutdown');
    this.sessionTable.close();
    // Sockets still in their TLS handshake would keep the TLS server from closing.
    for (const raw of this.handshaking.values()) raw.destroy();
    for (const c of this.connections) c.close();
    this.tunnels.close();
    const drained = Promise.all(
      [...this.connections].map(
        (c) => new Promise<void>((r) => (c.closed ? r() : c.socket.once('close', () => r()))),
      ),
    );
    await Promise.race([drained, new Promise((r) => setTimeout(r, 3000).unref())]);
    for (const c of this.connections) c.socket.destroy();
    for (const s of this.sockets) s.destroy();
    for (const stream of this.streams.values()) stream.close();
    await closed;
  }

  /** A TLS socket's handshake is over (done, failed or closed): it no longer counts as one. */
  private handshakeEnded(raw: Socket): void {
    const key = socketKey(raw);
    if (this.handshaking.get(key) !== raw) return;
    this.handshaking.delete(key);
    this.admission.handshakeEnded(normalizeAddress(raw.remoteAddress ?? ''));
  }

  /** Admits a new socket, or closes it at once and says why in a `refused` event. */
  private admitted(socket: Socket): boolean {
    const remoteAddress = normalizeAddress(socket.remoteAddress ?? '');
    const refusal: Pick<RefusalInfo, 'reason' | 'code'> | undefined = this.closing
      ? { reason: 'server shutting down', code: 'ERR_RTSP_SHUTTING_DOWN' }
      : this.admission.refusalFor(remoteAddress);
    if (!refusal) return true;
    socket.on('error', () => {});
    socket.destroy();
    this.notify('refused', { remoteAddress, remotePort: socket.remotePort ?? 0, ...refusal });
    return false;
  }

  /** True when one more client socket would eat into the descriptors kept for UDP pairs and files. */
  private descriptorsFull(): boolean {
    if (!this.descriptors) return false;
    const tracked = this.sockets.size + this.handshaking.size + 2 * this.ports.allocated + this.refusing;
    return this.descriptors.full(tracked);
  }

  /**
   * A socket over the descriptor budget: told so, never served. With `answer`, the first request is
   * awaited a moment so the 503 carries its CSeq (RTSP) or is an HTTP answer (a tunnel, a WebSocket);
   * at most half the reserve waits at once, beyond that a socket is closed unanswered.
   */
  private refuseOverBudget(socket: Socket, answer: boolean): void {
    const budget = this.descriptors!;
    const remoteAddress = normalizeAddress(socket.remoteAddress ?? '');
    const waits = answer && this.refusing < budget.reserve / 2;
    socket.on('error', () => {});
    this.notify('refused', {
      ...(waits ? { status: 503 } : {}),
      remoteAddress,
      remotePort: socket.remotePort ?? 0,
      reason: `descriptor limit reached (${budget.limit} open files; raise it with ulimit -n)`,
      code: 'ERR_RTSP_TOO_MANY_FILES',
    });
    if (!waits) {
      socket.destroy();
      return;
    }
    this.refusing++;
    let answered = false;
    const reply = (first?: Buffer) => {
      if (answered) return;
      answered = true;
      clearTimeout(wait);
      socket.end(overBudgetAnswer(first, `smolrtsp/${VERSION}`));
      // A client that does not close its side loses it soon anyway.
      lingering = setTimeout(() => socket.destroy(), 1000);
    };
    let lingering: NodeJS.Timeout | undefined;
    const wait = setTimeout(() => reply(), 500);
    socket.once('data', reply);
    socket.once('close', () => {
      this.refusing--;
      clearTimeout(wait);
      clearTimeout(lingering);
    });
  }

  /** Counts a client socket against the connection limits for as long as it is open. */
  private track(socket: Socket): void {
    const address = normalizeAddress(socket.remoteAddress ?? '');
    this.sockets.add(socket);
    this.admission.connectionOpened(address);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.admission.connectionClosed(address);
    });
  }

  /**
   * A new connection: RTSP, or HTTP (a tunnel half, a WebSocket) on the same port, told apart by its
   * first bytes. RTSP clients speak first, so waiting for them delays nothing; a socket that says
   * nothing is closed after the idle timeout, as a silent RTSP connection is.
   */
  private accept(socket: Socket, secure: boolean): void {
    if (!secure && this.descriptorsFull()) {
      this.refuseOverBudget(socket, true);
      return;
    }
    if (!this.admitted(socket)) return;
    this.track(socket);
    let start: Buffer = Buffer.alloc(0);
    const silent = setTimeout(() => socket.destroy(), this.options.idleTimeoutMs);
    const onError = () => socket.destroy();
    const onData = (chunk: Buffer) => {
      start = start.length === 0 ? chunk : Buffer.concat([start, chunk]);
      const http = isHttpRequest(start);
      if (http === undefined) return;
      clearTimeout(silent);
      socket.off('data', onData);
      socket.off('error', onError);
      if (http) this.tunnels.readHead(socket, start, secure);
      else this.serve(socket, secure).feed(start);
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.once('close', () => clearTimeout(silent));
  }

  /** Runs an RTSP connection on a socket, or on a tunnel that stands for one. */
  private serve(socket: ControlSocket, secure: boolean): RtspConnection {
    const conn = new RtspConnection(
      socket,
      {
        handleRequest: (req, c) => this.dispatcher.handle(req, c),
        handleInterleaved: (channel, data, c) => this.onInterleaved(channel, data, c),
        onClose: (c) => this.onConnectionClose(c),
        onError: (err, c) => this.notify('clientError', err, infoOf(c)),
        onRefused: (refusal, c) => this.notify('refused', refusalInfo(refusal, c)),
        hasSessions: (c) => this.sessionTable.hasSessions(c),
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
    this.notify('connection', infoOf(conn));
    return conn;
  }

  private onConnectionClose(conn: RtspConnection): void {
    this.connections.delete(conn);
    for (const s of this.sessionTable.ofOwner(conn)) s.end('disconnect');
    this.dispatcher.connectionClosed(conn, this.publishPoints.keys());
    this.notify('disconnect', infoOf(conn));
  }

  private onInterleaved(channel: number, data: Buffer, conn: RtspConnection): void {
    // The client's RTCP (receiver reports) on a session's channel: a sign of life for that session.
    const session = conn.channelSessions.get(channel) as Session | undefined;
    if (!session) return;
    if (session.ingest) {
      // A publisher: its RTP on a track's even channel is media, the odd one its RTCP.
      for (const st of session.tracks.values()) {
        if (st.transport.channels?.[0] === channel) {
          session.receiveRtp(st.track.id, data);
          return;
        }
        if (st.transport.channels?.[1] === channel) {
          session.receiveRtcp(data, st.track.id);
          return;
        }
      }
    }
    session.receiveRtcp(data);
  }

  /** A client's transport threw while a frame went out (a bug): that client's session ends, not the stream. */
  private onSinkError(err: unknown, sink: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    for (const s of this.sessionTable.values()) {
      for (const st of s.tracks.values()) {
        if (st.transport !== sink) continue;
        this.notify('clientError', error, {
          remoteAddress: s.owner.remoteAddress,
          remotePort: s.owner.remotePort,
        });
        s.end('error');
        return;
      }
    }
    this.notify('clientError', error, { remoteAddress: '', remotePort: 0 });
  }

  private senderReport(track: Track): Buffer {
    return track.sender.senderReport(wallClockMs(), this.cname);
  }

  private byeFor(track: Track): Buffer {
    return track.sender.bye(wallClockMs(), this.cname, 'session ended');
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
          sr = st.track.sender.senderReport(wallClockMs(), this.cname);
          reports.set(st.track, sr);
        }
        st.transport.sendRtcp(sr);
      }
    }
  }
}

/**
 * The 503 for a socket over the descriptor budget: an HTTP answer to an HTTP request, else RTSP with
 * the request's CSeq when one arrived in time.
 */
function overBudgetAnswer(first: Buffer | undefined, server: string): string {
  const head = first?.subarray(0, 2048).toString('latin1') ?? '';
  if (first && isHttpRequest(first) === true)
    return 'HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';
  const cseq = /^cseq[ \t]*:[ \t]*(\d+)[ \t]*\r?$/im.exec(head)?.[1];
  return `RTSP/1.0 503 Service Unavailable\r\n${cseq ? `CSeq: ${cseq}\r\n` : ''}Server: ${server}\r\nRetry-After: 5\r\n\r\n`;
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

function tunnelRefusalInfo(r: TunnelRefusal, socket: Socket): RefusalInfo {
  const info: RefusalInfo = {
    status: r.status,
    remoteAddress: normalizeAddress(socket.remoteAddress ?? ''),
    remotePort: socket.remotePort ?? 0,
    reason: r.reason,
    code: r.code,
  };
  if (r.method) info.method = r.method;
  // The path only: a query may carry a token.
  if (r.uri !== undefined) info.path = r.uri.split('?')[0];
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
