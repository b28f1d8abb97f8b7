// Fakes for the server's session layer: a transport that records what is done to it, a factory
// making them, and a control connection that records the answers written to it. No sockets.
import type { Track } from '../../src/media/track.js';
import type { RtpPacketBatch } from '../../src/rtp/batch.js';
import type { ResponseSpec } from '../../src/server/connection.js';
import type { DispatcherConnection } from '../../src/server/dispatcher.js';
import type { Session } from '../../src/server/session.js';
import type { SessionTransport, TransportFactory, TransportStats } from '../../src/server/transports.js';

export class FakeTransport implements SessionTransport {
  readonly stats: TransportStats = { packets: 0, bytes: 0, droppedBatches: 0 };
  readonly queuedBytes = 0;
  /** What was done to it, in order: 'start', 'stop', 'rtcp', 'close'. */
  readonly calls: string[] = [];
  readonly rtcp: Buffer[] = [];
  readonly batches: RtpPacketBatch[] = [];
  active = false;
  closed = false;

  constructor(
    readonly kind: 'udp' | 'tcp',
    readonly channels?: [number, number],
    readonly serverPorts: [number, number] = [40000, 40001],
  ) {}

  get summary(): string {
    return `fake ${this.kind}`;
  }

  /** Whether it has sent a batch since it started (a fake sends whatever it is given). */
  get sending(): boolean {
    return this.batches.length > 0;
  }

  start(): void {
    this.calls.push('start');
    if (!this.closed) this.active = true;
  }

  stop(): void {
    this.calls.push('stop');
    this.active = false;
  }

  deliver(batch: RtpPacketBatch, _track: Track): void {
    if (this.active) this.batches.push(batch);
  }

  sendRtcp(packet: Buffer): void {
    this.calls.push('rtcp');
    this.rtcp.push(packet);
  }

  close(): void {
    this.calls.push('close');
    this.closed = true;
    this.active = false;
  }
}

export class FakeConnection implements DispatcherConnection {
  readonly remotePort = 50000;
  readonly localAddress = '127.0.0.1';
  readonly localPort = 8554;
  readonly secure = false;
  closed = false;
  /** Answers written directly (PLAY writes its own). */
  readonly written: Array<{ cseq: string | undefined; spec: ResponseSpec }> = [];

  constructor(readonly remoteAddress = '127.0.0.1') {}

  writeResponse(cseq: string | undefined, spec: ResponseSpec): void {
    this.written.push({ cseq, spec });
  }
}

export class FakeTransportFactory implements TransportFactory<FakeConnection> {
  readonly made: FakeTransport[] = [];

  interleaved(_conn: FakeConnection, _session: Session, requested: [number, number] | undefined) {
    const t = new FakeTransport('tcp', requested ?? [0, 1]);
    this.made.push(t);
    return t;
  }

  async udp(_conn: FakeConnection, _clientPorts: [number, number], _onPacket: (packet: Buffer) => void) {
    const t = new FakeTransport('udp');
    this.made.push(t);
    return t;
  }
}
