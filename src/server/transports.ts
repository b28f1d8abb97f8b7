import type { Socket as UdpSocket } from 'node:dgram';
import type { Stream } from '../media/stream.js';
import type { Track, TrackSink } from '../media/track.js';
import { RtspError } from '../protocol/errors.js';
import {
  framedForChannel,
  framedRtcpForChannel,
  INTERLEAVED_PREFIX_SIZE,
  type RtpPacketBatch,
} from '../rtp/batch.js';
import type { ControlSocket, RtspConnection } from './connection.js';
import type { MulticastReader, MulticastSenders } from './multicast.js';
import type { Session } from './session.js';
import type { UdpPortPair, UdpPortPool } from './udp-ports.js';
import { type UdpPacketSender, UdpSendQueue } from './udp-send-queue.js';

/** The send queue of UDP transports made without one of their own: one FIFO for the process. */
const sharedUdpSendQueue = new UdpSendQueue();

export interface TransportStats {
  packets: number;
  bytes: number;
  /** Batches not sent because the client was behind (TCP) — it resumed at the next keyframe. */
  droppedBatches: number;
}

/** Another transport of the same session to start with, and how long to wait for it at most. */
export interface StartAfter {
  transport: { readonly sending: boolean };
  maxWaitMs: number;
}

/**
 * The gates a transport passes before its first batch after `start`: another transport's start,
 * then a keyframe. Shared by both transports; `open` says whether this batch may go.
 */
class StartGates {
  private waitingForKeyframe = false;
  private after: { readonly sending: boolean } | undefined;
  private afterDeadlineMs = 0;
  sentSinceStart = false;

  reset(gateOnKeyframe: boolean, after: StartAfter | undefined): void {
    this.waitingForKeyframe = gateOnKeyframe;
    this.after = after?.transport;
    this.afterDeadlineMs = after ? performance.now() + after.maxWaitMs : 0;
    this.sentSinceStart = false;
  }

  /** Skip to the next keyframe (a TCP client that fell behind). */
  waitForKeyframe(): void {
    this.waitingForKeyframe = true;
  }

  open(batch: RtpPacketBatch): boolean {
    if (this.after) {
      if (!this.after.sending && performance.now() < this.afterDeadlineMs) return false;
      this.after = undefined;
    }
    if (this.waitingForKeyframe) {
      if (!batch.keyframe) return false;
      this.waitingForKeyframe = false;
    }
    this.sentSinceStart = true;
    return true;
  }
}

/** How one track of one session reaches its client. */
export interface SessionTransport extends TrackSink {
  /** `multicast`: the track's group sender, shared by every multicast reader (counted once). */
  readonly kind: 'udp' | 'tcp' | 'multicast';
  readonly stats: TransportStats;
  /** Human-readable summary for the status view, e.g. `udp 127.0.0.1:5000-5001` or `tcp 0-1`. */
  readonly summary: string;
  /** The interleaved channel pair, for TCP. */
  readonly channels?: [number, number];
  /** Bytes written but not yet taken by the client's socket (TCP): what a slow reader costs us. */
  readonly queuedBytes: number;
  /**
   * Begins sending. With `gateOnKeyframe` (video) the first batch sent is a keyframe, so the first
   * decoded picture is whole. With `after`, nothing is sent until that transport (the session's
   * video) has sent its first batch, or `afterWaitMs` has passed: audio then starts with the
   * picture, as it did when PLAY was answered at the keyframe.
   */
  start(gateOnKeyframe: boolean, after?: StartAfter): void;
  /** True once started and past its gates: a batch has been sent since `start`. */
  readonly sending: boolean;
  /** Stops sending (PAUSE); the transport stays allocated. */
  stop(): void;
  sendRtcp(packet: Buffer): void;
  close(): void;
}

/**
 * RTP and RTCP `$`-interleaved on the RTSP connection (RFC 2326 10.12). The same framed buffer goes
 * to every client on the same channel, in one write per access unit.
 */
export class TcpInterleavedTransport implements SessionTransport {
  readonly kind = 'tcp' as const;
  readonly stats: TransportStats = { packets: 0, bytes: 0, droppedBatches: 0 };
  private active = false;
  private closed = false;
  private readonly gates = new StartGates();
  private laggingSinceMs: number | undefined;

  constructor(
    private readonly socket: ControlSocket,
    readonly channels: [number, number],
    private readonly limits: { maxBufferedBytes: number; maxLagMs: number },
    private readonly onTooSlow: () => void,
    /** Gives the channel pair back to the connection it was registered on. */
    private readonly onClose: () => void = () => {},
  ) {}

  get queuedBytes(): number {
    return this.socket.writableLength;
  }

  get summary(): string {
    return `tcp interleaved=${this.channels[0]}-${this.channels[1]}`;
  }

  get sending(): boolean {
    return this.active && this.gates.sentSinceStart;
  }

  start(gateOnKeyframe: boolean, after?: StartAfter): void {
    if (this.closed) return;
    this.active = true;
    this.gates.reset(gateOnKeyframe, after);
  }

  stop(): void {
    this.active = false;
  }

  deliver(batch: RtpPacketBatch, _track: Track): void {
    // Not once the connection is ending (shutdown): a write then is an error, not a packet.
    if (!this.active || !this.socket.writable) return;
    if (this.socket.writableLength > this.limits.maxBufferedBytes) {
      // Behind: skip to the next keyframe rather than queue without bound.
      this.stats.droppedBatches++;
      this.gates.waitForKeyframe();
      const now = performance.now();
      this.laggingSinceMs ??= now;
      if (now - this.laggingSinceMs > this.limits.maxLagMs) this.onTooSlow();
      return;
    }
    if (!this.gates.open(batch)) return;
    this.laggingSinceMs = undefined;
    const framed = framedForChannel(batch, this.channels[0]);
    this.socket.write(framed);
    this.stats.packets += batch.packets.length;
    this.stats.bytes += framed.length;
  }

  sendRtcp(packet: Buffer): void {
    if (!this.socket.writable || packet.length > 0xffff) return;
    // One write of a framing shared by every client on this channel (a sender report goes to all).
    this.socket.write(framedRtcpForChannel(packet, this.channels[1]));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.active = false;
    this.onClose();
  }
}

/**
 * RTP and RTCP over UDP to the client's ports, from a socket pair of our own connected to them.
 * RTP goes through a UdpSendQueue (sent in slices that let the event loop run); RTCP is sent at once.
 */
export class UdpTransport implements SessionTransport, UdpPacketSender {
  readonly kind = 'udp' as const;
  readonly stats: TransportStats = { packets: 0, bytes: 0, droppedBatches: 0 };
  sendErrors = 0;
  private active = false;
  private readonly gates = new StartGates();
  private closed = false;

  constructor(
    private readonly pair: UdpPortPair,
    readonly clientAddress: string,
    readonly clientPorts: [number, number],
    private readonly onRtcp: (packet: Buffer) => void,
    private readonly onRelease: (port: number) => void,
    /** RTP the client sends to our RTP port (a publisher's media); by default a sign of life like RTCP. */
    onRtp: (packet: Buffer) => void = onRtcp,
    private readonly sendQueue: UdpSendQueue = sharedUdpSendQueue,
  ) {
    // ICMP port unreachable surfaces as ECONNREFUSED on a connected socket: the client is gone or not
    // listening yet. Count it; the session timeout reclaims a client that never comes back.
    const onError = () => {
      this.sendErrors++;
    };
    pair.rtp.on('error', onError);
    pair.rtcp.on('error', onError);
    pair.rtcp.on('message', (msg) => this.onRtcp(msg));
    // Some clients send RTP to our RTP port to open NAT bindings: that counts as a sign of life too.
    pair.rtp.on('message', (msg) => onRtp(msg));
  }

  /** Connects both sockets to the client's RTP and RTCP ports. */
  static async open(
    pair: UdpPortPair,
    clientAddress: string,
    clientPorts: [number, number],
    onRtcp: (packet: Buffer) => void,
    onRelease: (port: number) => void,
    onRtp?: (packet: Buffer) => void,
    sendQueue?: UdpSendQueue,
  ): Promise<UdpTransport> {
    await Promise.all([
      connect(pair.rtp, clientPorts[0], clientAddress),
      connect(pair.rtcp, clientPorts[1], clientAddress),
    ]);
    return new UdpTransport(pair, clientAddress, clientPorts, onRtcp, onRelease, onRtp, sendQueue);
  }

  readonly queuedBytes = 0;

  get serverPorts(): [number, number] {
    return this.pair.ports;
  }

  get summary(): string {
    return `udp ${this.clientAddress}:${this.clientPorts[0]}-${this.clientPorts[1]}`;
  }

  get sending(): boolean {
    return this.active && this.gates.sentSinceStart;
  }

  start(gateOnKeyframe: boolean, after?: StartAfter): void {
    // A closed transport's sockets are gone: sending on them would throw.
    if (this.closed) return;
    this.active = true;
    this.gates.reset(gateOnKeyframe, after);
  }

  stop(): void {
    this.active = false;
  }

  deliver(batch: RtpPacketBatch, _track: Track): void {
    if (!this.active || !this.gates.open(batch)) return;
    const packets = batch.packets;
    if (packets.length === 0) return;
    this.sendQueue.enqueue(this, packets);
    // Counted when handed over: the queue sends everything it is given to an open transport.
    this.stats.packets += packets.length;
    this.stats.bytes += batch.framed.length - INTERLEAVED_PREFIX_SIZE * packets.length;
  }

  /** Called by the send queue: this batch's turn. Closed meanwhile (TEARDOWN): nothing to send. */
  sendQueued(packets: readonly Buffer[]): void {
    if (this.closed) return;
    const socket = this.pair.rtp;
    try {
      for (let i = 0; i < packets.length; i++) socket.send(packets[i]);
    } catch {
      // The socket went away under us (it is closed only by close()); count it like an ICMP error.
      this.sendErrors++;
    }
  }

  sendRtcp(packet: Buffer): void {
    if (this.closed) return;
    this.pair.rtcp.send(packet);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.active = false;
    this.pair.rtp.close();
    this.pair.rtcp.close();
    this.onRelease(this.pair.ports[0]);
  }
}

function connect(socket: UdpSocket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    socket.once('error', onError);
    socket.connect(port, address, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

/**
 * Builds the transports SETUP asks for. The dispatcher only decides; this is where sockets, UDP port
 * pairs and interleaved channels are touched (and what a test replaces with fakes). `C` is the
 * connection type the dispatcher serves.
 */
export interface TransportFactory<C> {
  /**
   * An interleaved transport on `conn` for `session`: the requested channel pair if free, else the
   * lowest free even pair; 461 when none is. The channels of the track's previous transport must be
   * freed before (Session.removeTrack).
   */
  interleaved(conn: C, session: Session, requested: [number, number] | undefined): SessionTransport;
  /**
   * A UDP transport sending to the client's ports from a pair of our own; what the client sends to
   * that pair goes to `onPacket` (RTP to `onRtp` when given: a publisher's media). Rejects when no
   * port pair can be had.
   */
  udp(
    conn: C,
    clientPorts: [number, number],
    onPacket: (packet: Buffer) => void,
    onRtp?: (packet: Buffer) => void,
  ): Promise<SessionTransport & { readonly serverPorts: [number, number] }>;
  /**
   * A reader of `track`'s multicast sender on the stream's group (made by the first reader, shared by
   * the rest); RTCP a reader at the client's address sends to the group goes to `onPacket`. Absent
   * where multicast is not offered. The stream must have a multicast setting.
   */
  multicast?(
    conn: C,
    stream: Stream,
    track: Track,
    onPacket: (packet: Buffer) => void,
  ): Promise<SessionTransport & Pick<MulticastReader, 'group' | 'ports' | 'ttl'>>;
}

/** The transports of a real server: TCP sockets of RTSP connections and UDP pairs from the pool. */
export class SocketTransportFactory implements TransportFactory<RtspConnection> {
  /** One per server: its UDP clients' batches are sent in the order they were fanned out. */
  readonly udpSendQueue = new UdpSendQueue();

  constructor(
    private readonly ports: UdpPortPool,
    private readonly limits: { maxBufferedBytes: number; maxLagMs: number },
    private readonly multicastSenders?: MulticastSenders,
  ) {}

  async multicast(conn: RtspConnection, stream: Stream, track: Track, onPacket: (packet: Buffer) => void) {
    const config = stream.multicast;
    if (!config || !this.multicastSenders)
      throw new RtspError(461, 'ERR_RTSP_UNSUPPORTED_TRANSPORT', 'no multicast on this path');
    return this.multicastSenders.reader(
      stream.path,
      config,
      track,
      stream.tracks.indexOf(track),
      conn.remoteAddress,
      onPacket,
    );
  }

  interleaved(conn: RtspConnection, session: Session, requested: [number, number] | undefined) {
    const channelMap = conn.channelSessions;
    const channels = pickChannels(requested, (ch) => channelMap.has(ch));
    if (!channels) throw new RtspError(461, 'ERR_RTSP_UNSUPPORTED_TRANSPORT', 'no free interleaved channel');
    for (const ch of channels) channelMap.set(ch, session);
    return new TcpInterleavedTransport(
      conn.socket,
      channels,
      this.limits,
      () => {
        session.end('slow');
        conn.socket.destroy();
      },
      () => {
        for (const ch of channels) if (channelMap.get(ch) === session) channelMap.delete(ch);
      },
    );
  }

  async udp(
    conn: RtspConnection,
    clientPorts: [number, number],
    onPacket: (packet: Buffer) => void,
    onRtp?: (packet: Buffer) => void,
  ) {
    const pair = await this.ports.allocate(conn.remoteAddress.includes(':') ? 'udp6' : 'udp4');
    try {
      return await UdpTransport.open(
        pair,
        conn.remoteAddress,
        clientPorts,
        onPacket,
        (port) => this.ports.release(port),
        onRtp,
        this.udpSendQueue,
      );
    } catch (err) {
      // Never became a transport: close the pair and give its ports back.
      pair.rtp.close();
      pair.rtcp.close();
      this.ports.release(pair.ports[0]);
      throw err;
    }
  }
}

/** The requested pair if free, else the lowest free even pair (RFC 2326 12.39: the server may choose). */
function pickChannels(
  requested: [number, number] | undefined,
  taken: (channel: number) => boolean,
): [number, number] | undefined {
  if (requested && !taken(requested[0]) && !taken(requested[1])) return requested;
  for (let ch = 0; ch < 255; ch += 2) if (!taken(ch) && !taken(ch + 1)) return [ch, ch + 1];
  return undefined;
}
