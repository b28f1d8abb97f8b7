import { randomBytes } from 'node:crypto';
import type { Stream } from '../media/stream.js';
import type { Track } from '../media/track.js';
import { RtspError } from '../protocol/errors.js';
import { parseRtcpCompound, type RtcpSenderReportPacket } from '../rtp/rtcp.js';
import type { SessionTransport } from './transports.js';

/**
 * Where a session is in its life (RFC 2326 A.2): `ready` once set up, `playing` and `paused` after
 * PLAY and PAUSE, `recording` after RECORD (a publisher's session), `ended` for good.
 */
export type SessionState = 'ready' | 'playing' | 'paused' | 'recording' | 'ended';

/** Why a session ended (the `sessionEnd` event says it). */
export type EndReason =
  | 'teardown'
  | 'timeout'
  | 'disconnect'
  | 'shutdown'
  | 'slow'
  | 'stream-removed'
  /** The path's publisher left and the path ends its players (publishEnd: 'end'). */
  | 'unpublished'
  /** A publisher whose path was taken over by another (takeover: true). */
  | 'replaced'
  /** Ended by the operator (`RtspServer.endSession`, the HTTP API's DELETE). */
  | 'kicked'
  | 'error';

/** The requests that act on a session, and the states each is valid in (checked like gortsplib's checkState). */
const VALID_IN: Record<'SETUP' | 'PLAY' | 'PAUSE' | 'RECORD', readonly SessionState[]> = {
  SETUP: ['ready', 'paused'],
  PLAY: ['ready', 'playing', 'paused'],
  PAUSE: ['ready', 'playing', 'paused'],
  RECORD: ['ready', 'recording'],
};

export type SessionMethod = keyof typeof VALID_IN;

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
  transport: 'udp' | 'tcp' | 'multicast';
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

/** RTCP a session sends on its own; built by the server (one CNAME, one clock). */
export interface SessionRtcp {
  /** The sender report a track's new client gets at once, or undefined before the track has started. */
  senderReport(track: Track): Buffer | undefined;
  bye(track: Track): Buffer;
}

export interface SessionHooks extends SessionRtcp {
  /** Called once, when the session has ended (its table forgets it, the server tells the application). */
  ended(session: Session, reason: EndReason): void;
}

/**
 * One client's session on one stream: the tracks it set up, how each travels, and where it is in its
 * life. The only way to change its state is through its methods, which refuse what the state does not
 * allow (455) — so a transport never sends for a session that is not playing, and ending frees all.
 */
export class Session {
  readonly id: string;
  readonly stream: Stream;
  readonly owner: SessionOwner;
  readonly createdAt = Date.now();
  private readonly setUp = new Map<number, SessionTrack>();
  private current: SessionState = 'ready';
  private endReason: EndReason | undefined;
  private readonly endListeners = new Set<(reason: EndReason) => void>();
  lastActivityMs = performance.now();
  lastActivityAt = Date.now();
  /** A publisher's session: takes the RTP it sends for a track (set by SETUP with mode=record). */
  ingest: ((trackId: number, packet: Buffer) => void) | undefined;
  /**
   * A publisher's session: takes its RTCP sender reports, with the track whose RTCP port or
   * channel they came on when known (they line its tracks up, RFC 3550 6.4.1).
   */
  ingestSenderReport: ((trackId: number | undefined, report: RtcpSenderReportPacket) => void) | undefined;

  constructor(
    id: string,
    stream: Stream,
    owner: SessionOwner,
    private readonly hooks: SessionHooks,
  ) {
    this.id = id;
    this.stream = stream;
    this.owner = owner;
  }

  get state(): SessionState {
    return this.current;
  }

  /** Why the session ended, once it has. */
  get endedBecause(): EndReason | undefined {
    return this.endReason;
  }

  /** The tracks set up, by track id (read-only: SETUP goes through addTrack). */
  get tracks(): ReadonlyMap<number, SessionTrack> {
    return this.setUp;
  }

  touch(): void {
    this.lastActivityMs = performance.now();
    this.lastActivityAt = Date.now();
  }

  /** Throws 455 when `method` is not valid in the current state, naming the states it is valid in. */
  checkState(method: SessionMethod): void {
    const valid = VALID_IN[method];
    if (valid.includes(this.current)) return;
    throw new RtspError(
      455,
      'ERR_RTSP_METHOD_NOT_VALID',
      `${method} not valid in state ${this.current} (valid in: ${valid.join(', ')})`,
    );
  }

  /** SETUP of one track: takes `transport` for it. The track's previous transport must be closed first (removeTrack). */
  addTrack(track: Track, transport: SessionTransport, url: string): void {
    this.checkState('SETUP');
    this.setUp.get(track.id)?.transport.close();
    this.setUp.set(track.id, { track, transport, url });
  }

  /** Closes a track's transport and forgets the track (a re-SETUP frees the old one first). */
  removeTrack(trackId: number): void {
    const st = this.setUp.get(trackId);
    if (!st) return;
    this.setUp.delete(trackId);
    st.transport.close();
  }

  /**
   * PLAY: starts every transport and subscribes it to its track (video from its next keyframe, so
   * the first picture decodes whole), with a sender report right away so the client can map RTP
   * time to wall clock from the start. The caller has answered PLAY before: its answer must precede
   * the first packet. Returns false when the session was already playing (nothing to do).
   */
  play(maxWaitMs = 5000): boolean {
    this.checkState('PLAY');
    if (this.setUp.size === 0) throw new RtspError(455, 'ERR_RTSP_METHOD_NOT_VALID', 'no track set up');
    if (this.current === 'playing') return false;
    this.current = 'playing';
    // The transports' gates make the start: video at its next keyframe, the other tracks with the
    // session's video (at most maxWaitMs later), so audio and video begin together.
    const lead = this.stream.leadTrack;
    const leadSetup = lead && lead.kind === 'video' ? this.setUp.get(lead.id) : undefined;
    const after = leadSetup && { transport: leadSetup.transport, maxWaitMs };
    for (const st of this.setUp.values()) {
      st.transport.start(st.track.kind === 'video', st === leadSetup ? undefined : after);
      st.track.subscribe(st.transport);
      // A sender report right away lets the client map RTP time to wall clock from the start.
      const sr = this.hooks.senderReport(st.track);
      if (sr) st.transport.sendRtcp(sr);
    }
    // Sources that can make a keyframe now are asked; requests from many joins share one.
    for (const st of this.setUp.values()) if (st.track.kind === 'video') st.track.requestKeyframe();
    return true;
  }

  /** RECORD: the publisher's session starts taking media; its transports never send. */
  record(): void {
    this.checkState('RECORD');
    if (this.setUp.size === 0) throw new RtspError(455, 'ERR_RTSP_METHOD_NOT_VALID', 'no track set up');
    this.current = 'recording';
  }

  /** RTP from a publisher for one of its tracks: a sign of life, then the media. */
  receiveRtp(trackId: number, packet: Buffer): void {
    this.touch();
    this.ingest?.(trackId, packet);
  }

  /** PAUSE: stops sending; the transports stay allocated. Valid in ready (it stays ready) and paused. */
  pause(): void {
    this.checkState('PAUSE');
    if (this.current !== 'playing') return;
    this.current = 'paused';
    this.stopSending();
  }

  /**
   * Ends the session for good: unsubscribes from the tracks, sends RTCP BYE, closes the transports
   * (freeing UDP ports and interleaved channels). Idempotent: only the first call counts.
   */
  end(reason: EndReason): void {
    if (this.current === 'ended') return;
    this.current = 'ended';
    this.endReason = reason;
    for (const st of this.setUp.values()) {
      st.track.unsubscribe(st.transport);
      try {
        st.transport.sendRtcp(this.hooks.bye(st.track));
      } catch {
        // The client may already be gone.
      }
      st.transport.close();
    }
    for (const listener of [...this.endListeners]) listener(reason);
    this.endListeners.clear();
    this.hooks.ended(this, reason);
  }

  /** Calls `listener` when the session ends (at once if it has). Returns a canceller. */
  onEnd(listener: (reason: EndReason) => void): () => void {
    if (this.endReason !== undefined) {
      listener(this.endReason);
      return () => {};
    }
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }

  /**
   * RTCP (or anything) from the client on our ports or channels: a sign of life; receiver reports
   * also tell the status view what the client lost; a publisher's sender reports go to its ingest.
   * `trackId`: the track whose RTCP port or channel it came on, when known.
   */
  receiveRtcp(packet: Buffer, trackId?: number): void {
    this.touch();
    let packets: ReturnType<typeof parseRtcpCompound>;
    try {
      packets = parseRtcpCompound(packet);
    } catch {
      return; // not RTCP, or malformed: only the sign of life counts
    }
    for (const p of packets) {
      if (p.type === 'sr') this.ingestSenderReport?.(trackId, p);
      if (p.type !== 'rr' && p.type !== 'sr') continue;
      for (const block of p.reportBlocks) {
        for (const st of this.setUp.values()) {
          if (st.track.sender.ssrc !== block.ssrc) continue;
          st.receiverReport = {
            fractionLost: block.fractionLost / 256,
            cumulativeLost: block.cumulativeLost,
            jitter: block.jitter / st.track.codec.clockRate,
          };
        }
      }
    }
  }

  /**
   * True when the session rides on an open TCP connection: the connection itself is the keepalive.
   * Not for a publisher: one that stops sending while its connection stays open has stalled, and
   * its players should not wait on it for ever.
   */
  get keptAliveByConnection(): boolean {
    if (this.owner.closed || this.current === 'recording') return false;
    for (const st of this.setUp.values()) if (st.transport.kind === 'tcp') return true;
    return false;
  }

  private stopSending(): void {
    for (const st of this.setUp.values()) {
      st.track.unsubscribe(st.transport);
      st.transport.stop();
    }
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
  maxSessionsPerPath: number;
  maxSessionsPerConnection: number;
  maxSessionsPerAddress: number;
}

/**
 * All sessions of a server, by id, by owner (connection), by stream and by client address, so that
 * a connection's sessions and every limit are found without scanning all sessions. Ids are 96 random
 * bits (unguessable, RFC 2326 12.37 safe characters). A timer reclaims sessions whose client has
 * gone quiet. A session leaves the table when it ends.
 */
export class SessionTable {
  private readonly byId = new Map<string, Session>();
  private readonly byOwner = new Map<SessionOwner, Set<Session>>();
  private readonly byStream = new Map<Stream, Set<Session>>();
  private readonly byAddress = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private readonly hooks: SessionHooks;

  constructor(
    private readonly options: SessionTableOptions,
    rtcp: SessionRtcp,
    /** Told once per session that ends, after it has left the table. */
    onEnded: (session: Session, reason: EndReason) => void,
  ) {
    this.hooks = {
      senderReport: (track) => rtcp.senderReport(track),
      bye: (track) => rtcp.bye(track),
      ended: (session, reason) => {
        this.remove(session);
        onEnded(session, reason);
      },
    };
    this.timer = setInterval(() => this.reap(), 1000);
    this.timer.unref();
  }

  get size(): number {
    return this.byId.size;
  }

  get timeoutSec(): number {
    return this.options.timeoutSec;
  }

  /** Throws 503 when `owner` may not open another session on `stream` (per path, connection, address, total). */
  checkLimits(stream: Stream, owner: SessionOwner): void {
    const o = this.options;
    const reached =
      (this.byStream.get(stream)?.size ?? 0) >= o.maxSessionsPerPath
        ? 'session limit for this path reached'
        : (this.byOwner.get(owner)?.size ?? 0) >= o.maxSessionsPerConnection
          ? 'session limit for this connection reached'
          : (this.byAddress.get(owner.remoteAddress) ?? 0) >= o.maxSessionsPerAddress
            ? 'session limit for this address reached'
            : this.byId.size >= o.maxSessions
              ? 'session limit reached'
              : undefined;
    if (reached) throw new RtspError(503, 'ERR_RTSP_TOO_MANY_SESSIONS', reached);
  }

  /** A new session within the limits (else 503). */
  create(stream: Stream, owner: SessionOwner): Session {
    this.checkLimits(stream, owner);
    let id: string;
    do id = randomBytes(12).toString('hex');
    while (this.byId.has(id));
    const session = new Session(id, stream, owner, this.hooks);
    this.byId.set(id, session);
    addTo(this.byOwner, owner, session);
    addTo(this.byStream, stream, session);
    stream.sessionOpened();
    this.byAddress.set(owner.remoteAddress, (this.byAddress.get(owner.remoteAddress) ?? 0) + 1);
    return session;
  }

  get(id: string): Session | undefined {
    return this.byId.get(id);
  }

  /** The sessions a connection holds (a copy: ending them while iterating is safe). */
  ofOwner(owner: SessionOwner): Session[] {
    return [...(this.byOwner.get(owner) ?? [])];
  }

  hasSessions(owner: SessionOwner): boolean {
    return this.byOwner.has(owner);
  }

  /** The sessions on a stream (a copy). */
  ofStream(stream: Stream): Session[] {
    return [...(this.byStream.get(stream) ?? [])];
  }

  values(): IterableIterator<Session> {
    return this.byId.values();
  }

  /** Reclaims every session whose last sign of life is older than the enforced timeout. */
  reap(nowMs = performance.now()): void {
    const limitMs = (this.options.timeoutSec + this.options.graceSec) * 1000;
    for (const session of [...this.byId.values()]) {
      if (session.keptAliveByConnection) {
        session.touch();
        continue;
      }
      if (nowMs - session.lastActivityMs > limitMs) session.end('timeout');
    }
  }

  close(): void {
    clearInterval(this.timer);
  }

  private remove(session: Session): void {
    if (this.byId.get(session.id) !== session) return;
    this.byId.delete(session.id);
    removeFrom(this.byOwner, session.owner, session);
    removeFrom(this.byStream, session.stream, session);
    session.stream.sessionClosed();
    const left = (this.byAddress.get(session.owner.remoteAddress) ?? 1) - 1;
    if (left > 0) this.byAddress.set(session.owner.remoteAddress, left);
    else this.byAddress.delete(session.owner.remoteAddress);
  }
}

function addTo<K>(index: Map<K, Set<Session>>, key: K, session: Session): void {
  let set = index.get(key);
  if (!set) {
    set = new Set();
    index.set(key, set);
  }
  set.add(session);
}

function removeFrom<K>(index: Map<K, Set<Session>>, key: K, session: Session): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(session);
  if (set.size === 0) index.delete(key);
}
