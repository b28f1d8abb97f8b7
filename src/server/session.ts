import { randomBytes } from 'node:crypto';
import type { Stream } from '../media/stream.js';
import type { Track } from '../media/track.js';
import { RtspError } from '../protocol/errors.js';
import type { SessionTransport } from './transports.js';

export type SessionState = 'ready' | 'playing';

/** One track set up in a session: how it travels and the URL the client used for it (for RTP-Info). */
export interface SessionTrack {
  track: Track;
  transport: SessionTransport;
  url: string;
  /** The client's last receiver report about this track: loss fraction 0..1, jitter in seconds. */
  receiverReport?: { fractionLost: number; cumulativeLost: number; jitter: number };
}

/** The read-only view of a session an operator or application sees. */
export interface SessionInfo {
  id: string;
  path: string;
  state: SessionState;
  remoteAddress: string;
  remotePort: number;
  transport: 'udp' | 'tcp';
  createdAt: string;
  lastActivityAt: string;
  packetsSent: number;
  bytesSent: number;
  droppedBatches: number;
  /** Bytes queued for this client and not yet taken by its socket (TCP; bounded by maxBufferedBytes). */
  queuedBytes: number;
  tracks: Array<{
    control: string;
    transport: string;
    packetsSent: number;
    bytesSent: number;
    receiverReport?: SessionTrack['receiverReport'];
  }>;
}

/** Something that owns sessions and outlives none of them (an RTSP connection). */
export interface SessionOwner {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly closed: boolean;
}

export class Session {
  readonly id: string;
  readonly stream: Stream;
  readonly owner: SessionOwner;
  readonly createdAt = Date.now();
  readonly tracks = new Map<number, SessionTrack>();
  state: SessionState = 'ready';
  lastActivityMs = performance.now();
  lastActivityAt = Date.now();

  constructor(id: string, stream: Stream, owner: SessionOwner) {
    this.id = id;
    this.stream = stream;
    this.owner = owner;
  }

  touch(): void {
    this.lastActivityMs = performance.now();
    this.lastActivityAt = Date.now();
  }

  /** True when the session rides on an open TCP connection: the connection itself is the keepalive. */
  get keptAliveByConnection(): boolean {
    if (this.owner.closed) return false;
    for (const st of this.tracks.values()) if (st.transport.kind === 'tcp') return true;
    return false;
  }

  info(): SessionInfo {
    let packetsSent = 0;
    let bytesSent = 0;
    let droppedBatches = 0;
    let queuedBytes = 0;
    const tracks: SessionInfo['tracks'] = [];
    for (const st of this.tracks.values()) {
      packetsSent += st.transport.stats.packets;
      bytesSent += st.transport.stats.bytes;
      droppedBatches += st.transport.stats.droppedBatches;
      // Tracks of one session share its connection: the largest figure is the connection's.
      queuedBytes = Math.max(queuedBytes, st.transport.queuedBytes);
      tracks.push({
        control: st.track.control,
        transport: st.transport.summary,
        packetsSent: st.transport.stats.packets,
        bytesSent: st.transport.stats.bytes,
        receiverReport: st.receiverReport,
      });
    }
    const first = this.tracks.values().next().value as SessionTrack | undefined;
    return {
      id: this.id,
      path: this.stream.path,
      state: this.state,
      remoteAddress: this.owner.remoteAddress,
      remotePort: this.owner.remotePort,
      transport: first?.transport.kind ?? 'udp',
      createdAt: new Date(this.createdAt).toISOString(),
      lastActivityAt: new Date(this.lastActivityAt).toISOString(),
      packetsSent,
      bytesSent,
      droppedBatches,
      queuedBytes,
      tracks,
    };
  }
}

export interface SessionTableOptions {
  /** Timeout advertised in the Session header, seconds. */
  timeoutSec: number;
  /** Extra time granted beyond the advertised timeout before a session is reclaimed (clients run late). */
  graceSec: number;
  maxSessions: number;
}

/**
 * All sessions of a server by id. Ids are 96 random bits (unguessable, RFC 2326 12.37 safe
 * characters). A timer reclaims sessions whose client has gone quiet.
 */
export class SessionTable {
  private readonly sessions = new Map<string, Session>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly options: SessionTableOptions,
    private readonly onExpire: (session: Session) => void,
  ) {
    this.timer = setInterval(() => this.reap(), 1000);
    this.timer.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  get timeoutSec(): number {
    return this.options.timeoutSec;
  }

  create(stream: Stream, owner: SessionOwner): Session {
    if (this.sessions.size >= this.options.maxSessions) {
      throw new RtspError(503, 'ERR_RTSP_TOO_MANY_SESSIONS', 'session limit reached');
    }
    let id: string;
    do id = randomBytes(12).toString('hex');
    while (this.sessions.has(id));
    const session = new Session(id, stream, owner);
    this.sessions.set(id, session);
    return session;
  }

  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  delete(session: Session): void {
    this.sessions.delete(session.id);
  }

  values(): IterableIterator<Session> {
    return this.sessions.values();
  }

  /** Reclaims every session whose last sign of life is older than the enforced timeout. */
  reap(nowMs = performance.now()): void {
    const limitMs = (this.options.timeoutSec + this.options.graceSec) * 1000;
    for (const session of this.sessions.values()) {
      if (session.keptAliveByConnection) {
        session.touch();
        continue;
      }
      if (nowMs - session.lastActivityMs > limitMs) this.onExpire(session);
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
