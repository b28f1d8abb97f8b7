// UdpTransport's sending: a big fan-out goes out in slices that let the event loop run, and still
// every client gets every packet, in order. Fake sockets that record what is sent; no network.
import assert from 'node:assert/strict';
import type { Socket as UdpSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import type { Track } from '../../../src/media/track.js';
import { packetizePayloads, RtpBatchWriter, type RtpPacketBatch } from '../../../src/rtp/batch.js';
import { readRtpHeader } from '../../../src/rtp/packet.js';
import { UdpTransport } from '../../../src/server/transports.js';
import { UdpSendQueue } from '../../../src/server/udp-send-queue.js';

/** A connected datagram socket that records the sequence numbers it sends; each send takes `costUs`. */
class FakeUdpSocket extends EventEmitter {
  readonly sentSeqs: number[] = [];
  closed = false;

  constructor(
    private readonly counter: { sent: number; lastSentAt: number },
    private readonly costUs: number,
  ) {
    super();
  }

  send(packet: Buffer): void {
    if (this.closed) throw new Error('Not running');
    // Stands in for the system call a real send is.
    const until = performance.now() + this.costUs / 1000;
    while (performance.now() < until);
    this.sentSeqs.push(readRtpHeader(packet).sequenceNumber);
    this.counter.sent++;
    this.counter.lastSentAt = performance.now();
  }

  close(): void {
    this.closed = true;
  }
}

function transports(count: number, costUs: number, queue: UdpSendQueue) {
  const counter = { sent: 0, lastSentAt: 0 };
  const list = Array.from({ length: count }, (_, i) => {
    const rtp = new FakeUdpSocket(counter, costUs);
    const rtcp = new FakeUdpSocket({ sent: 0, lastSentAt: 0 }, 0);
    const pair = { rtp: rtp as unknown as UdpSocket, rtcp: rtcp as unknown as UdpSocket, ports: [0, 1] };
    const t = new UdpTransport(
      pair as { rtp: UdpSocket; rtcp: UdpSocket; ports: [number, number] },
      '127.0.0.1',
      [50000 + 2 * i, 50001 + 2 * i],
      () => {},
      () => {},
      undefined,
      queue,
    );
    t.start(false);
    return { t, rtp };
  });
  return { counter, list };
}

function batchOf(writer: RtpBatchWriter, packets: number, timestamp: number): RtpPacketBatch {
  const payloads = Array.from({ length: packets }, () => Buffer.alloc(100, 7));
  return packetizePayloads(writer, payloads, timestamp, true);
}

const track = undefined as unknown as Track;

async function waitUntil(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('UdpTransport sending', () => {
  it('a big fan-out lets the event loop run before it is done; every client gets every packet in order', async () => {
    const queue = new UdpSendQueue();
    // 40 clients × (2 batches of 60 packets) × 20 µs: about 100 ms of sending.
    const { counter, list } = transports(40, 20, queue);
    const writer = new RtpBatchWriter({ payloadType: 96, ssrc: 1, initialSequence: 65500 });
    const first = batchOf(writer, 60, 1000);
    const second = batchOf(writer, 60, 4600);
    assert.equal(queue.lastDrainedAt, 0);
    const fannedOutAt = performance.now();
    for (const { t } of list) t.deliver(first, track);
    for (const { t } of list) t.deliver(second, track);
    const total = 40 * 120;
    let sentAtFirstTurn = -1;
    setImmediate(() => {
      sentAtFirstTurn = counter.sent;
    });
    await waitUntil(() => counter.sent === total && sentAtFirstTurn >= 0);
    assert.ok(
      sentAtFirstTurn >= 0 && sentAtFirstTurn < total,
      `sent at the loop's first turn: ${sentAtFirstTurn}`,
    );
    // When the queue emptied: the last client's last send, well after the fan-out returned.
    await waitUntil(() => queue.pending === 0);
    const afterLastSend = queue.lastDrainedAt - counter.lastSentAt;
    assert.ok(afterLastSend >= 0 && afterLastSend < 5, `${afterLastSend} ms after the last send`);
    assert.ok(
      queue.lastDrainedAt - fannedOutAt >= (total * 20) / 1000,
      `${queue.lastDrainedAt - fannedOutAt} ms`,
    );
    const expected = Array.from({ length: 120 }, (_, i) => (65500 + i) & 0xffff);
    for (const { t, rtp } of list) {
      assert.deepEqual(rtp.sentSeqs, expected);
      assert.equal(t.stats.packets, 120);
      assert.equal(t.stats.bytes, 120 * (12 + 100));
    }
  });

  it('a client closed while its batch waits gets nothing more; the others get all', async () => {
    const queue = new UdpSendQueue();
    const { counter, list } = transports(20, 20, queue);
    const writer = new RtpBatchWriter({ payloadType: 96, ssrc: 2, initialSequence: 1 });
    const batch = batchOf(writer, 100, 0);
    for (const { t } of list) t.deliver(batch, track);
    const [last] = list.slice(-1);
    last.t.close();
    await waitUntil(() => counter.sent === 19 * 100 && queue.pending === 0);
    assert.equal(last.rtp.sentSeqs.length, 0);
    assert.equal(last.t.sendErrors, 0);
    for (const { rtp } of list.slice(0, -1)) assert.equal(rtp.sentSeqs.length, 100);
  });
});
