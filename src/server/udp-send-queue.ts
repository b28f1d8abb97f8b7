import { performance } from 'node:perf_hooks';

/** What the queue sends for: a UDP transport, which sends a batch's datagrams on its own socket. */
export interface UdpPacketSender {
  sendQueued(packets: readonly Buffer[]): void;
}

export interface UdpSendQueueOptions {
  /** Longest the queue sends before it lets the event loop run (ms). */
  sliceMs?: number;
  /**
   * Longest a batch may wait to be sent (ms). Past it the queue sends without yielding until it is
   * back under: when sending cannot keep up, the loop stalls as it would without the queue, rather
   * than the backlog (and its memory) growing without bound. Nothing is dropped either way.
   */
  maxDelayMs?: number;
}

/**
 * The UDP fan-out in time slices. One `send` per datagram per client is what UDP costs (a TCP client
 * takes a whole access unit in one write), so a keyframe to a few hundred clients is thousands of
 * system calls; sent in one synchronous loop it holds the event loop for tens of milliseconds,
 * and RTSP requests, TCP clients and timers wait behind it. Transports enqueue a batch here instead;
 * the queue sends in FIFO order (so each client gets its packets in order), at most `sliceMs` at a
 * time, the first slice as soon as the fan-out that enqueued it returns (a microtask), the rest
 * between turns of the event loop (setImmediate).
 */
export class UdpSendQueue {
  private readonly sliceMs: number;
  private readonly maxDelayMs: number;
  // Parallel arrays from `head` on: the job's sender, its packets and when its batch was enqueued.
  private senders: (UdpPacketSender | undefined)[] = [];
  private packets: (readonly Buffer[] | undefined)[] = [];
  private enqueuedAt: number[] = [];
  private head = 0;
  private scheduled = false;
  private lastBatch: readonly Buffer[] | undefined;
  private lastBatchAt = 0;
  private readonly runSlice = () => this.run();
  /**
   * performance.now() of the send that last emptied the queue (0: never): with the time a batch was
   * fanned out, how long the UDP fan-out took to reach its last client.
   */
  lastDrainedAt = 0;

  constructor(options: UdpSendQueueOptions = {}) {
    this.sliceMs = options.sliceMs ?? 4;
    this.maxDelayMs = options.maxDelayMs ?? 500;
  }

  /** Batches waiting to be sent (one per client). */
  get pending(): number {
    return this.senders.length - this.head;
  }

  enqueue(sender: UdpPacketSender, packets: readonly Buffer[]): void {
    // Every client of a track gets the same batch within one fan-out: one clock read per batch.
    if (packets !== this.lastBatch) {
      this.lastBatch = packets;
      this.lastBatchAt = performance.now();
    }
    this.senders.push(sender);
    this.packets.push(packets);
    this.enqueuedAt.push(this.lastBatchAt);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.runSlice);
    }
  }

  private run(): void {
    const start = performance.now();
    const sliceEnd = start + this.sliceMs;
    const senders = this.senders;
    const packets = this.packets;
    const enqueuedAt = this.enqueuedAt;
    let i = this.head;
    let now = start;
    while (i < senders.length) {
      const sender = senders[i]!;
      const batch = packets[i]!;
      senders[i] = undefined;
      packets[i] = undefined;
      i++;
      try {
        sender.sendQueued(batch);
      } catch {
        // A sender counts its own failures; one must not stop the queue for everyone else.
      }
      now = performance.now();
      // Past the slice: yield, unless the next batch has waited too long already.
      if (now >= sliceEnd && i < senders.length && now - enqueuedAt[i] <= this.maxDelayMs) break;
    }
    if (i >= senders.length) {
      this.lastDrainedAt = now;
      // Emptied in place: the arrays keep their capacity for the next access unit.
      senders.length = 0;
      packets.length = 0;
      enqueuedAt.length = 0;
      this.head = 0;
      this.lastBatch = undefined;
      this.scheduled = false;
      return;
    }
    // Compact now and then, so the arrays do not grow with everything ever sent.
    if (i > 4096 && i > senders.length / 2) {
      this.senders = senders.slice(i);
      this.packets = packets.slice(i);
      this.enqueuedAt = enqueuedAt.slice(i);
      i = 0;
    }
    this.head = i;
    setImmediate(this.runSlice);
  }
}
