/**
 * RTSP 1.0 client (RFC 2326): OPTIONS, DESCRIBE, SETUP (TCP interleaved or UDP), PLAY, TEARDOWN, with
 * Basic and Digest authentication, keepalives, RTCP receiver reports, reordering and loss counting,
 * depacketized units out, optional reconnection with backoff, and a UDP-then-TCP 'auto' transport.
 */
import { Buffer } from 'node:buffer';
import { randomBytes, randomInt } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { type Socket, connect as tcpConnect } from 'node:net';
import {
  type DigestAlgorithm,
  digestAlgorithmOf,
  digestResponse,
  ha1,
  parseAuthParams,
  quoteString,
} from '../protocol/headers/authorization.js';
import { joinControlUrl } from '../protocol/headers/content-base.js';
import { parsePublic } from '../protocol/headers/public.js';
import { parseSessionHeader } from '../protocol/headers/session.js';
import { parseTransportHeader, type TransportSpec } from '../protocol/headers/transport.js';
import type { RtspResponse } from '../protocol/message.js';
import { RtspParser } from '../protocol/parser.js';
import { parseSdp, type SdpSessionDescription } from '../protocol/sdp.js';
import { serializeInterleavedFrame, serializeRequest, serializeResponse } from '../protocol/serializer.js';
import { parseRtspUrl, stripUserInfo, withoutUserInfo } from '../protocol/url.js';
import { buildReceiverReport, parseRtcpCompound } from '../rtp/rtcp.js';
import { RtspClientError, RtspResponseError } from './errors.js';
import {
  type ClientTrack,
  type RtspClientUnit,
  TrackReceiver,
  type TrackReceptionStats,
} from './track-receiver.js';

export type { ClientTrack, RtspClientUnit, TrackReceptionStats } from './track-receiver.js';

/**
 * Lower transport for SETUP: 'tcp' (interleaved on the RTSP connection), 'udp' (an even/odd client
 * port pair), or 'auto': UDP first, and TCP from then on once UDP is refused at SETUP or carries no
 * RTP for `udpTimeoutMs` after PLAY (what ffmpeg and VLC do).
 */
export type RtspClientTransport = 'tcp' | 'udp' | 'auto';

export interface RtspClientOptions {
  /** User name; also taken from `rtsp://user:pass@host/...`. */
  user?: string;
  password?: string;
  /** Lower transport for SETUP (see `RtspClientTransport`). Default 'tcp': it passes NATs and firewalls. */
  transport?: RtspClientTransport;
  /**
   * 'auto' only: after a PLAY started by `start()` (or a reconnect) over UDP, how long no RTP may arrive
   * on any track before the client tears the session down and plays over TCP at once (no backoff, not
   * a failure). Default 3000 ms.
   */
  udpTimeoutMs?: number;
  /**
   * A playing session that receives no RTP on any track for this long is treated as lost (the server
   * stalled, or expired the session without a word): with `reconnect` it is set up again. Default
   * 10 000 ms; 0 never gives up on a silent session.
   */
  mediaTimeoutMs?: number;
  /** Which described tracks `start()` sets up. Default: all of them. */
  tracks?: (track: ClientTrack) => boolean;
  /** Aborting closes the client: pending requests reject with the signal's reason, `units()` ends. */
  signal?: AbortSignal;
  /** How long a connect or a request may take. Default 10 000 ms. */
  requestTimeoutMs?: number;
  /** RTCP receiver report interval. Default 5000 ms; 0 sends none. */
  rtcpIntervalMs?: number;
  /** Out-of-order packets held per track before a gap counts as loss. Default 16. */
  reorderWindow?: number;
  /** Send GET_PARAMETER (or OPTIONS) at half the session timeout. Default true. */
  keepalive?: boolean;
  /**
   * After `start()` succeeded once: on connection loss, a server error or the end of the stream,
   * connect again (DESCRIBE, SETUP, PLAY) after a delay doubling from `initialDelayMs` (default 500)
   * to `maxDelayMs` (default 10 000), and go on with the same `units()` stream.
   */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** Units buffered per `units()` iterator that is not read; the oldest are dropped past it. Default 2000. */
  maxQueuedUnits?: number;
  userAgent?: string;
}

export interface RtspClientReconnectInfo {
  /** 1 for the first attempt after a loss. */
  attempt: number;
  delayMs: number;
  /** Why the previous session or attempt ended. */
  error: Error;
}

export interface RtspClientFallbackInfo {
  /** Why UDP was given up, e.g. `UDP carried nothing for 3000 ms: switching to TCP`. */
  reason: string;
}

export interface RtspClientEvents {
  unit: [unit: RtspClientUnit];
  /** PLAY succeeded (at start and after each reconnect). */
  playing: [];
  /** 'auto': UDP was given up for TCP (once; the client stays on TCP, reconnects included). */
  fallback: [info: RtspClientFallbackInfo];
  /** A reconnect attempt is scheduled. */
  reconnect: [info: RtspClientReconnectInfo];
  /** Emitted only when someone listens: a lost session or a failed reconnect attempt. */
  error: [error: Error];
  /** The client is done: closed, aborted, or the stream ended without `reconnect`. */
  close: [];
}

type AuthState =
  | { scheme: 'basic' }
  | {
      scheme: 'digest';
      algorithm: DigestAlgorithm;
      realm: string;
      nonce: string;
      opaque?: string;
      qop: boolean;
      nc: number;
    };

interface Pending {
  resolve(res: RtspResponse): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  /** The connection it was sent on: a dropped connection's late 'close' must not reject newer ones. */
  gen: number;
}

interface UdpPair {
  rtp: UdpSocket;
  rtcp: UdpSocket;
  serverRtcpPort?: number;
}

interface SetUpTrack {
  receiver: TrackReceiver;
  interleaved?: [number, number];
  udp?: UdpPair;
}

class UnitQueue {
  items: RtspClientUnit[] = [];
  wake: (() => void) | undefined;
  done = false;
  error: Error | undefined;
  dropped = 0;
  constructor(readonly max: number) {}
  push(unit: RtspClientUnit): void {
    if (this.items.length >= this.max) {
      this.items.shift();
      this.dropped++;
    }
    this.items.push(unit);
    this.wakeUp();
  }
  end(error?: Error): void {
    this.done = true;
    this.error = error;
    this.wakeUp();
  }
  wakeUp(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}

/**
 * An RTSP client for one URL. `start()` runs OPTIONS, DESCRIBE, SETUP (every track, or those
 * `options.tracks` picks) and PLAY; the units come out of `units()` and the `unit` event. The steps
 * are also public (`connect`, `describe`, `setup`, `play`, `teardown`) for callers that want them.
 * Refused requests throw `RtspResponseError` with the server's status; connection trouble throws
 * `RtspClientError`.
 */
export class RtspClient extends EventEmitter<RtspClientEvents> {
  /** The URL without user:password. */
  readonly url: string;
  /** Tracks from the last DESCRIBE. */
  tracks: ClientTrack[] = [];
  /** The last DESCRIBE's SDP. */
  sdp: SdpSessionDescription | undefined;
  /** Methods the server's `Public` header lists (from OPTIONS). */
  publicMethods: string[] = [];
  /** Current session id, once SETUP succeeded. */
  sessionId: string | undefined;
  /** Seconds the server keeps the session without a keepalive (default 60). */
  sessionTimeoutSec = 60;

  private readonly options: RtspClientOptions;
  private readonly user: string | undefined;
  private readonly password: string | undefined;
  private readonly host: string;
  private readonly port: number;
  private socket: Socket | undefined;
  private parser = new RtspParser({ maxBodyBytes: 1 << 20 });
  private cseq = 0;
  private readonly pending = new Map<number, Pending>();
  private auth: AuthState | undefined;
  private contentBase = '';
  private aggregateUrl = '';
  private readonly setUp: SetUpTrack[] = [];
  private readonly receivers = new Map<number, TrackReceiver>();
  private readonly channels = new Map<number, { track: SetUpTrack; rtcp: boolean }>();
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private rtcpTimer: NodeJS.Timeout | undefined;
  private mediaTimer: NodeJS.Timeout | undefined;
  /** RTP packets received in this session, and the count the media watchdog saw last. */
  private rtpPackets = 0;
  private rtpPacketsSeen = -1;
  /** 'auto': fires `udpTimeoutMs` after PLAY over UDP; cleared with the other session timers. */
  private udpWatchdog: NodeJS.Timeout | undefined;
  /** Datagrams on the RTP sockets of the current session (any track). */
  private udpRtpPackets = 0;
  /** 'auto' gave up UDP: every later SETUP, reconnects included, is over TCP. */
  private fellBackToTcp = false;
  private readonly ssrc = randomInt(1, 0xffffffff);
  private readonly queues = new Set<UnitQueue>();
  /**
   * Units delivered during the first start() while no units() reader exists: the first RTP can come
   * in the same TCP segment as the PLAY answer, or over UDP before it, so it is delivered before the
   * caller can call units(). Kept for a units() called in the turn start() resolves in, then dropped.
   */
  private early: UnitQueue | undefined;
  private started = false;
  private closed = false;
  private reconnecting = false;
  private connectionGen = 0;
  /** Ends the wait before the next reconnect attempt (on close). */
  private wakeReconnect: (() => void) | undefined;

  constructor(url: string, options: RtspClientOptions = {}) {
    super();
    const parsed = parseRtspUrl(url);
    if (parsed.scheme !== 'rtsp' || parsed.host === '') {
      throw new TypeError(`RtspClient: an rtsp:// URL is needed, got '${withoutUserInfo(url)}'`);
    }
    this.options = options;
    this.url = stripUserInfo(url);
    this.host = parsed.host;
    this.port = parsed.port ?? 554;
    this.user = options.user ?? parsed.user;
    this.password = options.password ?? parsed.password;
    const signal = options.signal;
    if (signal) {
      if (signal.aborted) this.closed = true;
      else signal.addEventListener('abort', () => void this.close(), { once: true });
    }
  }

  /** The lower transport the next SETUP asks for: 'auto' is 'udp' until it fell back to 'tcp'. */
  get transport(): 'tcp' | 'udp' {
    const t = this.options.transport ?? 'tcp';
    if (t === 'auto') return this.fellBackToTcp ? 'tcp' : 'udp';
    return t;
  }

  /** Reception figures per set-up track, by SDP index. */
  stats(): Map<number, TrackReceptionStats> {
    const out = new Map<number, TrackReceptionStats>();
    for (const [index, r] of this.receivers) out.set(index, { ...r.stats });
    return out;
  }

  /** OPTIONS, DESCRIBE, SETUP and PLAY; resolves with the tracks set up. */
  async start(): Promise<ClientTrack[]> {
    if (this.queues.size === 0) this.early = new UnitQueue(this.options.maxQueuedUnits ?? 2000);
    let tracks: ClientTrack[];
    try {
      tracks = await this.establish();
    } catch (error) {
      this.early = undefined;
      throw error;
    }
    this.started = true;
    if (this.early) setImmediate(() => (this.early = undefined));
    return tracks;
  }

  /** Opens the TCP connection (also done by the first request). */
  async connect(): Promise<void> {
    this.checkOpen();
    if (this.socket && !this.socket.destroyed) return;
    const gen = ++this.connectionGen;
    this.parser = new RtspParser({ maxBodyBytes: 1 << 20 });
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = tcpConnect({ host: this.host, port: this.port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(
          new RtspClientError('ERR_RTSP_CLIENT_TIMEOUT', `connect to ${this.host}:${this.port} timed out`),
        );
      }, this.requestTimeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        s.off('error', onError);
        resolve(s);
      });
      const onError = (error: Error) => {
        clearTimeout(timer);
        reject(
          new RtspClientError(
            'ERR_RTSP_CLIENT_CONNECT',
            `connect to ${this.host}:${this.port}: ${error.message}`,
            {
              cause: error,
            },
          ),
        );
      };
      s.once('error', onError);
    });
    if (this.closed) {
      socket.destroy();
      this.checkOpen();
    }
    socket.setNoDelay(true);
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {}); // 'close' follows and says it
    socket.on('close', () => this.onConnectionClosed(gen));
  }

  /** OPTIONS: returns (and remembers) the methods the server lists in `Public`. */
  async requestOptions(): Promise<string[]> {
    const res = await this.request('OPTIONS', this.url);
    const pub = res.headers.get('public');
    this.publicMethods = pub ? parsePublic(pub).map((m) => m.toUpperCase()) : [];
    return this.publicMethods;
  }

  /** DESCRIBE: parses the SDP into `tracks`. */
  async describe(): Promise<ClientTrack[]> {
    const res = await this.request('DESCRIBE', this.url, { Accept: 'application/sdp' });
    let sdp: SdpSessionDescription;
    try {
      sdp = parseSdp(res.body.toString('utf8'));
    } catch (error) {
      throw new RtspClientError(
        'ERR_RTSP_CLIENT_PROTOCOL',
        `DESCRIBE: unreadable SDP: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    this.sdp = sdp;
    this.contentBase = res.headers.get('content-base') ?? res.headers.get('content-location') ?? this.url;
    this.aggregateUrl = joinControlUrl(this.contentBase, sdp.control ?? '*');
    this.tracks = sdp.media.map((media, index) => ({
      index,
      kind: media.kind,
      codec: media.encoding.toUpperCase(),
      payloadType: media.payloadType,
      clockRate: media.clockRate,
      channels: media.channels,
      fmtp: media.fmtp ?? '',
      controlUrl: joinControlUrl(this.contentBase, media.control),
      media,
    }));
    return this.tracks;
  }

  /**
   * SETUP of each given track (default: all described ones) over the configured transport. 'auto':
   * when UDP cannot be bound or a SETUP over UDP is refused (461 or any other status), what was set
   * up is torn down and the given tracks are set up over TCP.
   */
  async setup(tracks: ClientTrack[] = this.tracks): Promise<void> {
    try {
      await this.setupTracks(tracks);
    } catch (error) {
      const udpRefused =
        error instanceof RtspResponseError ||
        (error instanceof RtspClientError && error.code === 'ERR_RTSP_CLIENT_UDP');
      if (this.options.transport !== 'auto' || this.fellBackToTcp || this.closed || !udpRefused) throw error;
      if (this.sessionId !== undefined) await this.teardown().catch(() => undefined);
      else this.releaseTracks();
      this.fallBack(`SETUP over UDP failed (${(error as Error).message}): switching to TCP`);
      await this.setupTracks(tracks);
    }
  }

  private async setupTracks(tracks: ClientTrack[]): Promise<void> {
    for (const track of tracks) {
      const n = this.setUp.length;
      let transport: string;
      let udp: UdpPair | undefined;
      if (this.transport === 'udp') {
        udp = await this.bindUdpPair();
        transport = `RTP/AVP;unicast;client_port=${udp.rtp.address().port}-${udp.rtcp.address().port}`;
      } else {
        transport = `RTP/AVP/TCP;unicast;interleaved=${2 * n}-${2 * n + 1}`;
      }
      let res: RtspResponse;
      try {
        res = await this.request('SETUP', track.controlUrl, { Transport: transport });
      } catch (error) {
        udp?.rtp.close();
        udp?.rtcp.close();
        throw error;
      }
      const session = res.headers.get('session');
      if (session) {
        const parsed = parseSessionHeader(session);
        this.sessionId = parsed.id;
        this.sessionTimeoutSec = parsed.timeout ?? 60;
      }
      const spec = this.parseTransport(res);
      let receiver = this.receivers.get(track.index);
      if (receiver) receiver.restart(track);
      else {
        receiver = new TrackReceiver(track, this.options.reorderWindow ?? 16, (u) => this.deliver(u));
        this.receivers.set(track.index, receiver);
      }
      const entry: SetUpTrack = { receiver };
      if (udp) {
        udp.serverRtcpPort = spec.serverPort?.[1];
        entry.udp = udp;
        udp.rtp.on('message', (msg) => {
          this.udpRtpPackets++;
          this.rtpPackets++;
          entry.receiver.receive(msg);
        });
        udp.rtcp.on('message', (msg) => this.onRtcp(entry, msg));
      } else {
        const channels = spec.interleaved ?? [2 * n, 2 * n + 1];
        entry.interleaved = channels;
        this.channels.set(channels[0], { track: entry, rtcp: false });
        this.channels.set(channels[1], { track: entry, rtcp: true });
      }
      this.setUp.push(entry);
    }
  }

  /** PLAY of the whole session; starts keepalives and receiver reports. */
  async play(): Promise<void> {
    await this.request('PLAY', this.aggregateUrl, { Range: 'npt=0.000-' });
    this.startTimers();
    this.emit('playing');
  }

  /** TEARDOWN of the session (the connection stays open). */
  async teardown(): Promise<void> {
    if (this.sessionId === undefined) return;
    this.stopTimers();
    try {
      await this.request('TEARDOWN', this.aggregateUrl);
    } finally {
      this.sessionId = undefined;
      this.releaseTracks();
    }
  }

  /** TEARDOWN (best effort), closes the connection, ends `units()`. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (
      this.sessionId !== undefined &&
      this.socket &&
      !this.socket.destroyed &&
      !this.options.signal?.aborted
    ) {
      this.stopTimers();
      await this.teardownBriefly();
    }
    this.closed = true;
    this.shutdown(undefined);
  }

  /** TEARDOWN without waiting long for a server that is going away (or a path that drops UDP). */
  private async teardownBriefly(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.request('TEARDOWN', this.aggregateUrl).catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 1000);
      }),
    ]);
    clearTimeout(timer);
  }

  /** The depacketized units, in arrival order, from now until the client closes. */
  units(): AsyncIterableIterator<RtspClientUnit> {
    // The first reader takes over what came with the PLAY answer (see `early`).
    const queue = this.early ?? new UnitQueue(this.options.maxQueuedUnits ?? 2000);
    this.early = undefined;
    if (this.closed) queue.end();
    else this.queues.add(queue);
    const iterator: AsyncIterableIterator<RtspClientUnit> = {
      next: async () => {
        for (;;) {
          const item = queue.items.shift();
          if (item) return { value: item, done: false };
          if (queue.done) {
            this.queues.delete(queue);
            if (queue.error) {
              const error = queue.error;
              queue.error = undefined;
              throw error;
            }
            return { value: undefined, done: true };
          }
          await new Promise<void>((resolve) => {
            queue.wake = resolve;
          });
        }
      },
      return: async () => {
        this.queues.delete(queue);
        queue.end();
        queue.items = [];
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  /** Sends a request (with CSeq, Session and credentials) and returns its 2xx answer. */
  async request(method: string, url: string, headers: Record<string, string> = {}): Promise<RtspResponse> {
    await this.connect();
    let res = await this.send(method, url, headers);
    if (res.status === 401 && this.user !== undefined) {
      const sentCredentials = this.auth !== undefined;
      const challenged = this.takeChallenge(res);
      if (
        challenged &&
        (!sentCredentials || /stale\s*=\s*"?true/i.test(res.headers.getAll('www-authenticate').join(',')))
      ) {
        res = await this.send(method, url, headers);
      }
    }
    if (res.status < 200 || res.status >= 300)
      throw new RtspResponseError(method, url, res.status, res.reason);
    return res;
  }

  private get requestTimeoutMs(): number {
    return this.options.requestTimeoutMs ?? 10_000;
  }

  private checkOpen(): void {
    if (!this.closed) return;
    const reason = this.options.signal?.reason;
    if (this.options.signal?.aborted) throw reason instanceof Error ? reason : new Error(String(reason));
    throw new RtspClientError('ERR_RTSP_CLIENT_CLOSED', 'the client is closed');
  }

  private send(method: string, url: string, extra: Record<string, string>): Promise<RtspResponse> {
    this.checkOpen();
    const socket = this.socket;
    if (!socket || socket.destroyed) {
      return Promise.reject(new RtspClientError('ERR_RTSP_CLIENT_CLOSED', 'the connection is closed'));
    }
    const cseq = ++this.cseq;
    const headers: Record<string, string> = {
      CSeq: String(cseq),
      'User-Agent': this.options.userAgent ?? 'smolrtsp-client',
      ...extra,
    };
    if (this.sessionId !== undefined && method !== 'DESCRIBE') headers.Session = this.sessionId;
    const authorization = this.authorization(method, url);
    if (authorization) headers.Authorization = authorization;
    const gen = this.connectionGen;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(cseq);
        reject(
          new RtspClientError(
            'ERR_RTSP_CLIENT_TIMEOUT',
            `${method} ${withoutUserInfo(url)}: no answer in time`,
          ),
        );
      }, this.requestTimeoutMs);
      this.pending.set(cseq, { resolve, reject, timer, gen });
      socket.write(serializeRequest({ method, uri: url, headers }));
    });
  }

  /** Remembers the strongest challenge we can answer: Digest SHA-256, Digest MD5, then Basic. */
  private takeChallenge(res: RtspResponse): boolean {
    let best: AuthState | undefined;
    let bestRank = 0;
    for (const value of res.headers.getAll('www-authenticate')) {
      const m = /^\s*([A-Za-z0-9-]+)\s*(.*)$/s.exec(value);
      if (!m) continue;
      const scheme = m[1].toLowerCase();
      if (scheme === 'basic') {
        if (bestRank < 1) {
          best = { scheme: 'basic' };
          bestRank = 1;
        }
        continue;
      }
      if (scheme !== 'digest') continue;
      let params: Map<string, string>;
      try {
        params = parseAuthParams(m[2]);
      } catch {
        continue;
      }
      const algorithm = digestAlgorithmOf(params.get('algorithm'));
      const realm = params.get('realm');
      const nonce = params.get('nonce');
      if (algorithm === undefined || realm === undefined || nonce === undefined) continue;
      const qopList = params.get('qop');
      if (qopList !== undefined && !qopList.split(',').some((q) => q.trim().toLowerCase() === 'auth'))
        continue;
      const rank = algorithm === 'SHA-256' ? 3 : 2;
      if (rank > bestRank) {
        best = {
          scheme: 'digest',
          algorithm,
          realm,
          nonce,
          opaque: params.get('opaque'),
          qop: qopList !== undefined,
          nc: 0,
        };
        bestRank = rank;
      }
    }
    if (best) this.auth = best;
    return best !== undefined;
  }

  private authorization(method: string, url: string): string | undefined {
    const auth = this.auth;
    if (!auth || this.user === undefined) return undefined;
    const password = this.password ?? '';
    if (auth.scheme === 'basic') {
      return `Basic ${Buffer.from(`${this.user}:${password}`, 'utf8').toString('base64')}`;
    }
    let text =
      `Digest username=${quoteString(this.user)}, realm=${quoteString(auth.realm)}, ` +
      `nonce=${quoteString(auth.nonce)}, uri=${quoteString(url)}, algorithm=${auth.algorithm}`;
    const key = ha1(auth.algorithm, this.user, auth.realm, password);
    if (auth.qop) {
      auth.nc++;
      const nc = auth.nc.toString(16).padStart(8, '0');
      const cnonce = randomBytes(8).toString('hex');
      const response = digestResponse({
        algorithm: auth.algorithm,
        ha1: key,
        nonce: auth.nonce,
        method,
        uri: url,
        qop: 'auth',
        nc,
        cnonce,
      });
      text += `, qop=auth, nc=${nc}, cnonce=${quoteString(cnonce)}, response=${quoteString(response)}`;
    } else {
      const response = digestResponse({
        algorithm: auth.algorithm,
        ha1: key,
        nonce: auth.nonce,
        method,
        uri: url,
      });
      text += `, response=${quoteString(response)}`;
    }
    if (auth.opaque !== undefined) text += `, opaque=${quoteString(auth.opaque)}`;
    return text;
  }

  private parseTransport(res: RtspResponse): TransportSpec {
    const value = res.headers.get('transport');
    try {
      if (value === undefined) throw new Error('no Transport header');
      const [spec] = parseTransportHeader(value);
      if (!spec) throw new Error('empty Transport header');
      return spec;
    } catch (error) {
      throw new RtspClientError('ERR_RTSP_CLIENT_PROTOCOL', `SETUP: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  private async bindUdpPair(): Promise<UdpPair> {
    const address = this.socket?.localAddress;
    const type = address?.includes(':') ? 'udp6' : 'udp4';
    const bind = (s: UdpSocket, port: number) =>
      new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(port, address, () => {
          s.off('error', reject);
          resolve();
        });
      });
    for (let attempt = 0; attempt < 50; attempt++) {
      const rtp = createSocket(type);
      try {
        await bind(rtp, 0);
      } catch (error) {
        rtp.close();
        throw new RtspClientError('ERR_RTSP_CLIENT_UDP', `UDP bind: ${(error as Error).message}`, {
          cause: error,
        });
      }
      const port = rtp.address().port;
      if (port % 2 !== 0 || port >= 65535) {
        rtp.close();
        continue;
      }
      const rtcp = createSocket(type);
      try {
        await bind(rtcp, port + 1);
      } catch {
        rtp.close();
        rtcp.close();
        continue;
      }
      rtp.on('error', () => {});
      rtcp.on('error', () => {});
      return { rtp, rtcp };
    }
    throw new RtspClientError('ERR_RTSP_CLIENT_UDP', 'no even/odd UDP port pair could be bound');
  }

  private onData(chunk: Buffer): void {
    let messages: ReturnType<RtspParser['push']>;
    try {
      messages = this.parser.push(chunk);
    } catch (error) {
      this.socket?.destroy(error as Error);
      return;
    }
    for (const m of messages) {
      if (m.kind === 'interleaved') {
        const target = this.channels.get(m.channel);
        if (!target) continue;
        if (target.rtcp) this.onRtcp(target.track, m.data);
        else {
          this.rtpPackets++;
          target.track.receiver.receive(m.data);
        }
      } else if (m.kind === 'response') {
        const cseq = Number(m.headers.get('cseq'));
        const p = this.pending.get(cseq);
        if (!p) continue;
        this.pending.delete(cseq);
        clearTimeout(p.timer);
        p.resolve(m);
      } else {
        // A request from the server (keepalive or announcement): answer what we can.
        const ok = m.method === 'OPTIONS' || m.method === 'GET_PARAMETER';
        this.socket?.write(
          serializeResponse({ status: ok ? 200 : 501, headers: { CSeq: m.headers.get('cseq') ?? '0' } }),
        );
      }
    }
  }

  private onRtcp(track: SetUpTrack, data: Buffer): void {
    let packets: ReturnType<typeof parseRtcpCompound>;
    try {
      packets = parseRtcpCompound(data);
    } catch {
      return;
    }
    for (const p of packets) {
      if (p.type === 'sr') track.receiver.senderReport(p.ntpSeconds, p.ntpFraction, p.rtpTimestamp, p.ssrc);
      else if (p.type === 'bye') {
        if (track.receiver.ssrc === undefined || p.ssrcs.includes(track.receiver.ssrc))
          track.receiver.ended = true;
      }
    }
    if (this.setUp.length > 0 && this.setUp.every((t) => t.receiver.ended)) {
      this.sessionLost(
        new RtspClientError('ERR_RTSP_CLIENT_ENDED', 'the server ended the stream (RTCP BYE)'),
        true,
      );
    }
  }

  private deliver(unit: RtspClientUnit): void {
    if (this.early && this.queues.size === 0) this.early.push(unit);
    for (const q of this.queues) q.push(unit);
    this.emit('unit', unit);
  }

  private startTimers(): void {
    this.stopTimers();
    if (this.options.keepalive ?? true) {
      const periodMs = Math.max(1000, (this.sessionTimeoutSec * 1000) / 2);
      this.keepaliveTimer = setInterval(() => {
        const method = this.publicMethods.includes('GET_PARAMETER') ? 'GET_PARAMETER' : 'OPTIONS';
        this.request(method, method === 'OPTIONS' ? this.url : this.aggregateUrl).catch(() => {});
      }, periodMs);
      this.keepaliveTimer.unref();
    }
    const rtcpMs = this.options.rtcpIntervalMs ?? 5000;
    if (rtcpMs > 0) {
      this.rtcpTimer = setInterval(() => this.sendReceiverReports(), rtcpMs);
      this.rtcpTimer.unref();
    }
    const mediaMs = this.options.mediaTimeoutMs ?? 10_000;
    if (mediaMs > 0) {
      // A count compared once per period: nothing per packet but an increment.
      this.rtpPacketsSeen = -1;
      this.mediaTimer = setInterval(() => {
        if (this.rtpPackets !== this.rtpPacketsSeen) {
          this.rtpPacketsSeen = this.rtpPackets;
          return;
        }
        this.sessionLost(
          new RtspClientError(
            'ERR_RTSP_CLIENT_TIMEOUT',
            `no media for ${mediaMs} ms: the session is stalled`,
          ),
          false,
        );
      }, mediaMs);
      this.mediaTimer.unref();
    }
  }

  private stopTimers(): void {
    clearInterval(this.keepaliveTimer);
    clearInterval(this.rtcpTimer);
    clearTimeout(this.udpWatchdog);
    clearInterval(this.mediaTimer);
    this.mediaTimer = undefined;
    this.keepaliveTimer = undefined;
    this.rtcpTimer = undefined;
    this.udpWatchdog = undefined;
  }

  private fallBack(reason: string): void {
    this.fellBackToTcp = true;
    this.emit('fallback', { reason });
  }

  /** 'auto' over UDP: a session whose RTP never arrives (a firewall or NAT drops it) goes to TCP. */
  private armUdpWatchdog(): void {
    if (this.options.transport !== 'auto' || this.fellBackToTcp) return;
    if (!this.setUp.some((t) => t.udp)) return;
    const ms = this.options.udpTimeoutMs ?? 3000;
    // Referenced on purpose: it lives no longer than the session, whose socket keeps the process up anyway.
    this.udpWatchdog = setTimeout(() => {
      this.udpWatchdog = undefined;
      if (this.udpRtpPackets === 0)
        void this.switchToTcp(`UDP carried nothing for ${ms} ms: switching to TCP`);
    }, ms);
  }

  /** TEARDOWN of the silent UDP session, then a new one over TCP at once: no backoff, not a failure. */
  private async switchToTcp(reason: string): Promise<void> {
    if (this.closed || this.reconnecting) return;
    this.reconnecting = true; // the connection dropped here is not a lost session
    this.fallBack(reason);
    this.stopTimers();
    if (this.sessionId !== undefined && this.socket && !this.socket.destroyed) await this.teardownBriefly();
    this.dropConnection();
    if (this.closed) {
      this.reconnecting = false;
      return;
    }
    try {
      await this.establish();
      this.reconnecting = false;
    } catch (e) {
      this.reconnecting = false;
      this.dropConnection();
      if (this.closed) return;
      const error = e instanceof Error ? e : new Error(String(e));
      if (this.options.reconnect) {
        void this.reconnectLoop(error);
        return;
      }
      this.closed = true;
      this.shutdown(error);
    }
  }

  /** Forgets the session and its connection; requests still waiting on it fail now. */
  private dropConnection(): void {
    this.stopTimers();
    this.releaseTracks();
    this.sessionId = undefined;
    this.auth = undefined;
    const gen = this.connectionGen;
    for (const [cseq, p] of this.pending) {
      if (p.gen !== gen) continue;
      clearTimeout(p.timer);
      this.pending.delete(cseq);
      p.reject(new RtspClientError('ERR_RTSP_CLIENT_CLOSED', 'the connection was dropped'));
    }
    const socket = this.socket;
    this.socket = undefined;
    this.connectionGen++;
    socket?.destroy();
  }

  private sendReceiverReports(): void {
    for (const t of this.setUp) {
      const block = t.receiver.reportBlock();
      const rr = buildReceiverReport({ ssrc: this.ssrc, reportBlocks: block ? [block] : [] });
      if (t.interleaved) {
        if (this.socket && !this.socket.destroyed)
          this.socket.write(serializeInterleavedFrame(t.interleaved[1], rr));
      } else if (t.udp?.serverRtcpPort !== undefined && this.socket?.remoteAddress) {
        t.udp.rtcp.send(rr, t.udp.serverRtcpPort, this.socket.remoteAddress);
      }
    }
  }

  private releaseTracks(): void {
    for (const t of this.setUp) {
      t.udp?.rtp.close();
      t.udp?.rtcp.close();
    }
    this.setUp.length = 0;
    this.channels.clear();
    this.udpRtpPackets = 0;
  }

  private async establish(): Promise<ClientTrack[]> {
    await this.connect();
    await this.requestOptions();
    const tracks = await this.describe();
    const chosen = this.options.tracks ? tracks.filter(this.options.tracks) : tracks;
    // PLAY without a SETUP would only earn a 454 that names nothing of the cause.
    if (chosen.length === 0)
      throw new RtspClientError(
        'ERR_RTSP_CLIENT_PROTOCOL',
        tracks.length === 0
          ? 'the server describes no track'
          : `no track to set up: the tracks filter took none of ${tracks.map((t) => t.codec).join(', ')}`,
      );
    await this.setup(chosen);
    await this.play();
    this.armUdpWatchdog();
    return chosen;
  }

  private onConnectionClosed(gen: number): void {
    for (const [cseq, p] of this.pending) {
      if (p.gen !== gen) continue;
      clearTimeout(p.timer);
      this.pending.delete(cseq);
      p.reject(new RtspClientError('ERR_RTSP_CLIENT_CLOSED', 'the connection closed before an answer'));
    }
    if (gen !== this.connectionGen || this.closed) return;
    this.sessionLost(
      new RtspClientError('ERR_RTSP_CLIENT_CLOSED', 'the server closed the connection'),
      false,
    );
  }

  /** The session is gone (connection lost, or every track said BYE). */
  private sessionLost(error: Error, byBye: boolean): void {
    if (this.closed || this.reconnecting) return;
    this.dropConnection();
    if (!this.started) return; // start() itself reports what went wrong
    if (this.options.reconnect) {
      void this.reconnectLoop(error);
      return;
    }
    this.closed = true;
    this.shutdown(byBye ? undefined : error);
  }

  private async reconnectLoop(firstError: Error): Promise<void> {
    this.reconnecting = true;
    const initial = this.options.reconnect?.initialDelayMs ?? 500;
    const max = this.options.reconnect?.maxDelayMs ?? 10_000;
    let error = firstError;
    this.emitError(error);
    for (let attempt = 1; !this.closed; attempt++) {
      const delayMs = Math.min(max, initial * 2 ** Math.min(attempt - 1, 30));
      this.emit('reconnect', { attempt, delayMs, error });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delayMs);
        this.wakeReconnect = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeReconnect = undefined;
      if (this.closed) break;
      try {
        await this.establish();
        this.reconnecting = false;
        return;
      } catch (e) {
        error = e instanceof Error ? e : new Error(String(e));
        this.dropConnection();
        if (!this.closed) this.emitError(error);
      }
    }
    this.reconnecting = false;
  }

  private emitError(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  private shutdown(error: Error | undefined): void {
    this.stopTimers();
    this.releaseTracks();
    const signal = this.options.signal;
    const reason = signal?.aborted
      ? signal.reason instanceof Error
        ? signal.reason
        : new Error(String(signal.reason))
      : new RtspClientError('ERR_RTSP_CLIENT_CLOSED', 'the client closed');
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(reason);
    }
    this.pending.clear();
    this.connectionGen++;
    this.socket?.destroy();
    this.socket = undefined;
    this.wakeReconnect?.();
    for (const q of this.queues) q.end(error);
    this.queues.clear();
    if (error) this.emitError(error);
    this.emit('close');
  }
}
