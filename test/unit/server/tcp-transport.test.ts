import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { packetizePayloads, RtpBatchWriter, type RtpPacketBatch } from '../../../src/rtp/batch.js';
import type { ControlSocket } from '../../../src/server/connection.js';
import { TcpInterleavedTransport } from '../../../src/server/transports.js';

/** A control socket that records each write call; `writableLength` is what a test says is queued. */
class RecordingSocket implements ControlSocket {
  readonly writes: Buffer[] = [];
  corks = 0;
  writable = true;
  writableLength = 0;
  destroyed = false;
  write(data: Buffer): boolean {
    this.writes.push(data);
    return true;
  }
  cork(): void {
    this.corks++;
  }
  uncork(): void {}
  end(): void {
    this.writable = false;
  }
  destroy(): void {
    this.destroyed = true;
    this.writable = false;
  }
  pause(): void {}
  setNoDelay(): void {}
  on(): this {
    return this;
  }
  once(): this {
    return this;
  }
}

const LIMITS = { maxBufferedBytes: 1000, maxLagMs: 60_000 };
const writer = new RtpBatchWriter({ payloadType: 96, ssrc: 0x1234, initialSequence: 100 });
const frame = (keyframe: boolean): RtpPacketBatch =>
  packetizePayloads(writer, [Buffer.alloc(200, 1), Buffer.alloc(300, 2)], 9000, keyframe);

function transport(socket: RecordingSocket, channels: [number, number] = [0, 1], onTooSlow = () => {}) {
  return new TcpInterleavedTransport(socket, channels, LIMITS, onTooSlow);
}

describe('TcpInterleavedTransport', () => {
  it('writes an RTCP packet framed ($, channel, length) in one write, the same buffer for every client on that channel', () => {
    const a = new RecordingSocket();
    const b = new RecordingSocket();
    const c = new RecordingSocket();
    const sr = Buffer.from([0x80, 200, 0, 6, ...new Array<number>(24).fill(7)]);
    transport(a, [0, 1]).sendRtcp(sr);
    transport(b, [0, 1]).sendRtcp(sr);
    transport(c, [2, 3]).sendRtcp(sr);
    for (const s of [a, b, c]) {
      assert.equal(s.writes.length, 1, 'one write per report');
      assert.equal(s.corks, 0);
    }
    assert.equal(a.writes[0], b.writes[0], 'one framing shared by the clients on channel 1');
    assert.deepEqual(a.writes[0], Buffer.concat([Buffer.from([0x24, 1, 0, sr.length]), sr]));
    assert.deepEqual(c.writes[0], Buffer.concat([Buffer.from([0x24, 3, 0, sr.length]), sr]));
  });

  it('writes nothing on a socket that is no longer writable, and no RTCP packet over 65535 bytes', () => {
    const s = new RecordingSocket();
    const t = transport(s);
    t.sendRtcp(Buffer.alloc(0x10000));
    s.end();
    t.sendRtcp(Buffer.alloc(28));
    t.start(false);
    t.deliver(frame(true), undefined as never);
    assert.equal(s.writes.length, 0);
  });

  it('sends each access unit in one write of the batch framed for its channel, from a keyframe on', () => {
    const s = new RecordingSocket();
    const t = transport(s, [4, 5]);
    const p = frame(false);
    t.deliver(p, undefined as never);
    t.start(true);
    t.deliver(p, undefined as never);
    assert.equal(s.writes.length, 0, 'not before start, nor before a keyframe');
    assert.equal(t.sending, false);
    const k = frame(true);
    t.deliver(k, undefined as never);
    t.deliver(p, undefined as never);
    assert.equal(s.writes.length, 2);
    assert.equal(s.writes[0].length, k.framed.length);
    assert.equal(s.writes[0][1], 4, 'the channel byte is the transport’s');
    assert.equal(t.sending, true);
    assert.deepEqual(t.stats, { packets: 4, bytes: k.framed.length + p.framed.length, droppedBatches: 0 });
    t.stop();
    t.deliver(k, undefined as never);
    assert.equal(s.writes.length, 2, 'nothing once stopped');
  });

  it('skips to the next keyframe while the client is more than maxBufferedBytes behind; too slow after maxLagMs', () => {
    const s = new RecordingSocket();
    let tooSlow = 0;
    const t = new TcpInterleavedTransport(
      s,
      [0, 1],
      { maxBufferedBytes: 1000, maxLagMs: 0 },
      () => tooSlow++,
    );
    t.start(false);
    t.deliver(frame(false), undefined as never);
    assert.equal(s.writes.length, 1);
    s.writableLength = 5000;
    t.deliver(frame(false), undefined as never);
    assert.equal(t.stats.droppedBatches, 1);
    s.writableLength = 0;
    t.deliver(frame(false), undefined as never);
    assert.equal(s.writes.length, 1, 'caught up, but waits for a keyframe');
    t.deliver(frame(true), undefined as never);
    assert.equal(s.writes.length, 2);
    assert.equal(tooSlow, 0);
    s.writableLength = 5000;
    t.deliver(frame(false), undefined as never);
    const start = performance.now();
    while (performance.now() - start < 2) {
      // maxLagMs 0: behind for any time at all is too long
    }
    t.deliver(frame(false), undefined as never);
    assert.equal(tooSlow, 1);
  });
});
