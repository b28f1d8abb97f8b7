import { createSocket, type RemoteInfo, type Socket, type SocketOptions } from 'node:dgram';
import type { ResolvedMulticast } from '../media/multicast.js';
import type { Track } from '../media/track.js';
import type { RtpPacketBatch } from '../rtp/batch.js';
import { parseRtcpCompound } from '../rtp/rtcp.js';
import type { SessionTransport, StartAfter, TransportStats } from './transports.js';

/** What one track's multicast sender has done, for tests and the status view. */
export interface MulticastSenderInfo {
  path: string;
  control: string;
  group: string;
  ports: [number, number];
  ttl: number;
  /** Sessions set up on it (playing or not). */
  readers: number;
  /** Sessions playing it now. */
  playing: number;
  /** Datagrams sent to the group: one per RTP packet, whatever the number of readers. */
  packets: number;
  bytes: number;
  rtcpReceived: number;
}

/** RTCP the senders build (the server's, with its CNAME and clock). */
export interface MulticastRtcp {
  bye(track: Track): Buffer;
}

/**
 * One track's sends to its group. It is the track's only multicast sink: subscribed while at least
 * one reader plays, so each packet is sent once whatever the number of readers. Readers hold it by
 * reference (MulticastReader); the last one to leave closes it, with an RTCP BYE to the group.
 */
export class MulticastSender {
  readonly stats: TransportStats = { packets: 0, bytes: 0, droppedBatches: 0 };
  rtcpReceived = 0;
  sendErrors = 0;
  readonly readers = new Set<MulticastReader>();
  readonly playing = new Set<MulticastReader>();
  private readonly out: Socket;
  private readonly rtcpIn: Socket;
  readonly ready: Promise<void>;
  private waitingForKeyframe = false;
  private after: { readonly sending: boolean } | undefined;
  private afterDeadlineMs = 0;
  private sentSinceStart = false;
  private lastRtcp: Buffer | undefined;
  private closed = false;

  constructor(
    readonly track: Track,
    readonly path: string,
    readonly group: string,
    readonly ports: [number, number],
    readonly ttl: number,
    /** The IPv4 address of the interface to send from; undefined: the kernel's route for the group. */
    sendInterface: string | undefined,
    private readonly rtcp: MulticastRtcp,
    private readonly onClosed: (sender: MulticastSender) => void,
    makeSocket: (options: SocketOptions) => Socket = createSocket,
  ) {
    this.out = makeSocket({ type: 'udp4' });
    // Readers' receiver reports come to the group's RTCP port, where their own sockets listen too.
    this.rtcpIn = makeSocket({ type: 'udp4', reuseAddr: true });
    const onError = () => {
      this.sendErrors++;
    };
    this.out.on('error', onError);
    this.rtcpIn.on('error', onError);
    this.rtcpIn.on('message', (msg, rinfo) => this.receiveRtcp(msg, rinfo));
    this.ready = Promise.all([
      bind(this.out, 0, sendInterface ?? '0.0.0.0'),
      bind(this.rtcpIn, ports[1], group),
    ]).then(() => {
      this.out.setMulticastTTL(ttl);
      // Readers on this host (and the tests' network namespace) receive through the loopback.
      this.out.setMulticastLoopback(true);
      if (sendInterface) this.out.setMulticastInterface(sendInterface);
      this.rtcpIn.addMembership(group, sendInterface);
    });
    // A failure is the SETUP's to report (it awaits `ready`); this keeps it from being unhandled.
    this.ready.catch(() => {});
  }

  get summary(): string {
    return `udp multicast ${this.group}:${this.ports[0]}-${this.ports[1]} ttl=${this.ttl}`;
  }

  /** True once a batch went to the group since the sender (re)started. */
  get sending(): boolean {
    return this.playing.size > 0 && this.sentSinceStart;
  }

  attach(reader: MulticastReader): void {
    this.readers.add(reader);
  }

  /** A reader plays: the first one subscribes the sender to the track, from its next keyframe. */
  play(reader: MulticastReader, gateOnKeyframe: boolean, after: StartAfter | undefined): void {
    if (this.closed || this.playing.has(reader)) return;
    this.playing.add(reader);
    if (this.playing.size > 1) return;
    this.waitingForKeyframe = gateOnKeyframe;
    this.after = after?.transport;
    this.afterDeadlineMs = after ? performance.now() + after.maxWaitMs : 0;
    this.sentSinceStart = false;
    this.track.subscribe(this);
  }

  /** A reader paused or left: the last one unsubscribes the sender. */
  pause(reader: MulticastReader): void {
    if (!this.playing.delete(reader) || this.playing.size > 0) return;
    this.track.unsubscribe(this);
  }

  detach(reader: MulticastReader): void {
    this.pause(reader);
    this.readers.delete(reader);
    if (this.readers.size === 0) this.close();
  }

  deliver(batch: RtpPacketBatch, _track: Track): void {
    if (this.closed || this.playing.size === 0) return;
    if (this.after) {
      if (!this.after.sending && performance.now() < this.afterDeadlineMs) return;
      this.after = undefined;
    }
    if (this.waitingForKeyframe) {
      if (!batch.keyframe) return;
      this.waitingForKeyframe = false;
    }
    this.sentSinceStart = true;
    const packets = batch.packets;
    for (let i = 0; i < packets.length; i++) {
      this.out.send(packets[i], this.ports[0], this.group);
      this.stats.bytes += packets[i].length;
    }
    this.stats.packets += packets.length;
  }

  /**
   * RTCP the sessions send (sender reports): the server hands every reader of a track the same
   * report buffer each interval, so one copy goes to the group. A session's BYE is not the
   * group's: the others are still reading; the sender says BYE itself when the last one leaves.
   */
  sendRtcp(packet: Buffer): void {
    if (this.closed || packet === this.lastRtcp || containsBye(packet)) return;
    this.lastRtcp = packet;
    this.out.send(packet, this.ports[1], this.group);
  }

  private receiveRtcp(packet: Buffer, from: RemoteInfo): void {
    // Our own reports come back through the loopback: only the readers' count.
    if (packet.length >= 8 && packet.readUInt32BE(4) === this.track.sender.ssrc) return;
    this.rtcpReceived++;
    // Readers share the group: a report is a sign of life for the sessions of its sender's address.
    for (const reader of this.readers) if (reader.remoteAddress === from.address) reader.onRtcp(packet);
  }

  close(): void {
    if (this.closed) return;
    this.track.unsubscribe(this);
    this.playing.clear();
    this.readers.clear();
    if (this.track.started) {
      try {
        this.out.send(this.rtcp.bye(this.track), this.ports[1], this.group);
      } catch {
        // Not bound (a SETUP that failed): nobody to say BYE to.
      }
    }
    this.closed = true;
    // After the BYE is on its way.
    setImmediate(() => {
      for (const socket of [this.out, this.rtcpIn]) {
        try {
          socket.close();
        } catch {
          // Never bound.
        }
      }
    });
    this.onClosed(this);
  }

  info(): MulticastSenderInfo {
    return {
      path: this.path,
      control: this.track.control,
      group: this.group,
      ports: this.ports,
      ttl: this.ttl,
      readers: this.readers.size,
      playing: this.playing.size,
      packets: this.stats.packets,
      bytes: this.stats.bytes,
      rtcpReceived: this.rtcpReceived,
    };
  }
}

/**
 * One session's hold on a track's multicast sender: the session's transport for that track. It
 * sends nothing itself; its figures are what went to the group while its session played.
 */
export class MulticastReader implements SessionTransport {
  readonly kind = 'multicast' as const;
  readonly queuedBytes = 0;
  private active = false;
  private closed = false;
  private countedPackets = 0;
  private countedBytes = 0;
  private startPackets = 0;
  private startBytes = 0;

  constructor(
    readonly sender: MulticastSender,
    readonly remoteAddress: string,
    readonly onRtcp: (packet: Buffer) => void,
  ) {
    sender.attach(this);
  }

  get group(): string {
    return this.sender.group;
  }

  get ports(): [number, number] {
    return this.sender.ports;
  }

  get ttl(): number {
    return this.sender.ttl;
  }

  get summary(): string {
    return this.sender.summary;
  }

  get stats(): TransportStats {
    const s = this.sender.stats;
    return {
      packets: this.countedPackets + (this.active ? s.packets - this.startPackets : 0),
      bytes: this.countedBytes + (this.active ? s.bytes - this.startBytes : 0),
      droppedBatches: 0,
    };
  }

  get sending(): boolean {
    return this.active && this.sender.sending;
  }

  start(gateOnKeyframe: boolean, after?: StartAfter): void {
    if (this.closed || this.active) return;
    this.active = true;
    this.startPackets = this.sender.stats.packets;
    this.startBytes = this.sender.stats.bytes;
    // Another track's reader stands for that track's sender, which is what actually starts.
    const other = after?.transport;
    const mapped =
      after && other instanceof MulticastReader
        ? { transport: other.sender, maxWaitMs: after.maxWaitMs }
        : after;
    this.sender.play(this, gateOnKeyframe, mapped);
  }

  stop(): void {
    if (!this.active) return;
    const { packets, bytes } = this.stats;
    this.countedPackets = packets;
    this.countedBytes = bytes;
    this.active = false;
    this.sender.pause(this);
  }

  /** The track's batches reach the group through the sender: nothing to do per reader. */
  deliver(_batch: RtpPacketBatch, _track: Track): void {}

  sendRtcp(packet: Buffer): void {
    if (!this.closed) this.sender.sendRtcp(packet);
  }

  close(): void {
    if (this.closed) return;
    this.stop();
    this.closed = true;
    this.sender.detach(this);
  }
}

/** The server's multicast senders, one per track at most. */
export class MulticastSenders {
  private readonly byTrack = new Map<Track, MulticastSender>();
  /** Told when a sender closes (its last reader left), with its final figures. */
  onSenderClosed: ((info: MulticastSenderInfo) => void) | undefined;

  constructor(
    private readonly rtcp: MulticastRtcp,
    /** The server's listen address, when it names one IPv4 interface: where multicast goes out. */
    private readonly sendInterface: string | undefined,
    /** Where the senders' sockets come from (a test passes fakes: no multicast leaves it). */
    private readonly makeSocket: (options: SocketOptions) => Socket = createSocket,
  ) {}

  /** A reader of `track` of the path at `path`, whose multicast setting is `config`. */
  async reader(
    path: string,
    config: ResolvedMulticast,
    track: Track,
    trackIndex: number,
    remoteAddress: string,
    onRtcp: (packet: Buffer) => void,
  ): Promise<MulticastReader> {
    let sender = this.byTrack.get(track);
    if (!sender) {
      const port = config.port + 2 * trackIndex;
      if (port + 1 > 65535) throw new RangeError(`no multicast port for track ${trackIndex}`);
      sender = new MulticastSender(
        track,
        path,
        config.group,
        [port, port + 1],
        config.ttl,
        this.sendInterface,
        this.rtcp,
        (s) => {
          if (this.byTrack.get(s.track) === s) this.byTrack.delete(s.track);
          this.onSenderClosed?.(s.info());
        },
        this.makeSocket,
      );
      this.byTrack.set(track, sender);
    }
    const reader = new MulticastReader(sender, remoteAddress, onRtcp);
    try {
      await sender.ready;
    } catch (err) {
      reader.close();
      throw err;
    }
    return reader;
  }

  list(): MulticastSenderInfo[] {
    return [...this.byTrack.values()].map((s) => s.info());
  }
}

function containsBye(packet: Buffer): boolean {
  try {
    return parseRtcpCompound(packet).some((p) => p.type === 'bye');
  } catch {
    return false;
  }
}

function bind(socket: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    socket.once('error', onError);
    socket.bind(port, address, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}
