import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  framedForChannel,
  packetizePayloads,
  RtpBatchWriter,
  type RtpPacketBatch,
} from '../../../src/rtp/batch.js';
import { readRtpHeader } from '../../../src/rtp/packet.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function newWriter(initialSequence = 65534): RtpBatchWriter {
  return new RtpBatchWriter({ payloadType: 96, ssrc: 0x11223344, initialSequence });
}

/** Walks `framed` prefix by prefix and checks it against `packets`. */
function assertFramedLayout(batch: RtpPacketBatch, channel = 0, framed = batch.framed): void {
  let pos = 0;
  for (const packet of batch.packets) {
    assert.equal(framed[pos], 0x24);
    assert.equal(framed[pos + 1], channel);
    assert.equal(framed.readUInt16BE(pos + 2), packet.length);
    assert.deepEqual(framed.subarray(pos + 4, pos + 4 + packet.length), packet);
    pos += 4 + packet.length;
  }
  assert.equal(pos, framed.length);
}

describe('RtpBatchWriter / packetizePayloads', () => {
  it('writes prefixes and RTP headers exactly, sequence wrapping 65535 → 0, marker on the last packet', () => {
    const writer = newWriter(65534);
    const batch = packetizePayloads(writer, [hex('aa'), hex('bbbb'), hex('cccccc')], 0xfffffff0, true);
    assert.deepEqual(
      batch.framed,
      hex(
        '24 00 00 0d  80 60 ff fe ff ff ff f0 11 22 33 44  aa' +
          '24 00 00 0e  80 60 ff ff ff ff ff f0 11 22 33 44  bb bb' +
          '24 00 00 0f  80 e0 00 00 ff ff ff f0 11 22 33 44  cc cc cc',
      ),
    );
    assert.equal(batch.firstSeq, 65534);
    assert.equal(batch.rtpTimestamp, 0xfffffff0);
    assert.equal(batch.keyframe, true);
    assert.equal(batch.payloadOctets, 6);
    assert.equal(writer.nextSequence, 1);
    assert.equal(batch.packets.length, 3);
  });

  it('makes packets views of framed, without the 4-byte prefix', () => {
    const batch = packetizePayloads(newWriter(), [hex('aa'), hex('bbbb')], 0, false);
    assert.equal(batch.packets[0].buffer, batch.framed.buffer);
    assert.equal(batch.packets[0].byteOffset, batch.framed.byteOffset + 4);
    assert.equal(batch.packets[1].byteOffset, batch.framed.byteOffset + 4 + 13 + 4);
    assert.deepEqual(batch.packets[1], hex('80 e0 ff ff 00 00 00 00 11 22 33 44 bb bb'));
    // Same memory: a write through framed shows in the view.
    batch.framed[4 + 12] = 0x55;
    assert.equal(batch.packets[0][12], 0x55);
    assertFramedLayout(batch);
  });

  it('continues the sequence across batches', () => {
    const writer = newWriter(100);
    const first = packetizePayloads(writer, [hex('01'), hex('02')], 3000, false);
    const second = packetizePayloads(writer, [hex('03')], 6000, false);
    assert.equal(first.firstSeq, 100);
    assert.equal(second.firstSeq, 102);
    assert.equal(readRtpHeader(second.packets[0]).sequenceNumber, 102);
    assert.equal(readRtpHeader(first.packets[0]).marker, false);
    assert.equal(readRtpHeader(first.packets[1]).marker, true);
    assert.equal(readRtpHeader(second.packets[0]).marker, true);
  });

  it('gives an empty batch for no payloads without consuming a sequence number', () => {
    const writer = newWriter(7);
    const batch = packetizePayloads(writer, [], 1, false);
    assert.equal(batch.framed.length, 0);
    assert.deepEqual(batch.packets, []);
    assert.equal(batch.firstSeq, 7);
    assert.equal(batch.payloadOctets, 0);
    assert.equal(writer.nextSequence, 7);
  });

  it('rejects more packets or payload than announced and gives the sequence numbers back', () => {
    const writer = newWriter(10);
    writer.begin(1, 4, 0, false);
    writer.startPacket(4);
    assert.throws(() => writer.startPacket(0), /more packets than announced/);
    assert.equal(writer.nextSequence, 10);

    writer.begin(2, 4, 0, false);
    assert.throws(() => writer.startPacket(5), /exceeds what was announced/);
    assert.equal(writer.nextSequence, 10);

    writer.begin(2, 4, 0, false);
    writer.startPacket(2);
    assert.throws(() => writer.finish(), /wrote 1\/2 packets, 2 payload bytes missing/);
    assert.equal(writer.nextSequence, 10);

    // An unfinished batch is abandoned by the next begin.
    writer.begin(1, 1, 0, false);
    writer.startPacket(1);
    writer.begin(1, 1, 0, false);
    assert.equal(writer.nextSequence, 10);
    assert.throws(() => writer.finish(), /wrote 0\/1/);
  });

  it('refuses an RTP packet larger than the 16-bit interleaved length', () => {
    const writer = newWriter(0);
    const ok = packetizePayloads(writer, [Buffer.alloc(65535 - 12, 1)], 0, false);
    assert.equal(ok.framed.readUInt16BE(2), 65535);
    assert.throws(() => packetizePayloads(writer, [Buffer.alloc(65535 - 11)], 0, false), RangeError);
    assert.equal(writer.nextSequence, 1);
  });

  it('validates constructor fields', () => {
    assert.throws(() => new RtpBatchWriter({ payloadType: 128, ssrc: 1, initialSequence: 0 }), RangeError);
    assert.throws(
      () => new RtpBatchWriter({ payloadType: 96, ssrc: 2 ** 32, initialSequence: 0 }),
      RangeError,
    );
    assert.throws(() => new RtpBatchWriter({ payloadType: 96, ssrc: 1, initialSequence: 65536 }), RangeError);
    assert.throws(() => new RtpBatchWriter({ payloadType: 96, ssrc: 1, initialSequence: -1 }), RangeError);
  });

  it('lays out any payload list consistently (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (payloads, initialSequence, timestamp) => {
          const writer = newWriter(initialSequence);
          const batch = packetizePayloads(writer, payloads, timestamp, false);
          assertFramedLayout(batch);
          assert.equal(
            batch.payloadOctets,
            payloads.reduce((n, p) => n + p.length, 0),
          );
          batch.packets.forEach((packet, i) => {
            const h = readRtpHeader(packet);
            assert.equal(h.sequenceNumber, (initialSequence + i) & 0xffff);
            assert.equal(h.timestamp, timestamp);
            assert.equal(h.marker, i === payloads.length - 1);
            assert.deepEqual(packet.subarray(h.payloadOffset), Buffer.from(payloads[i]));
          });
          assert.equal(writer.nextSequence, (initialSequence + payloads.length) & 0xffff);
        },
      ),
    );
  });
});

describe('framedForChannel', () => {
  const batch = packetizePayloads(newWriter(), [hex('aa'), hex('24 00 00 01'), hex('')], 90000, true);

  it('returns batch.framed itself for channel 0', () => {
    assert.equal(framedForChannel(batch, 0), batch.framed);
  });

  it('patches only the channel bytes for another channel', () => {
    const copy = framedForChannel(batch, 2);
    assert.notEqual(copy, batch.framed);
    assert.equal(copy.length, batch.framed.length);
    assertFramedLayout(batch, 2, copy);
    // Payload bytes that look like a prefix are left alone.
    const expected = Buffer.from(batch.framed);
    expected[1] = 2;
    expected[4 + 13 + 1] = 2;
    expected[4 + 13 + 4 + 16 + 1] = 2;
    assert.deepEqual(copy, expected);
    // The original stays on channel 0.
    assertFramedLayout(batch, 0);
  });

  it('caches one copy per batch and channel', () => {
    const a = framedForChannel(batch, 4);
    assert.equal(framedForChannel(batch, 4), a);
    const b = framedForChannel(batch, 6);
    assert.notEqual(b, a);
    assert.equal(b[1], 6);
    const other = packetizePayloads(newWriter(), [hex('aa'), hex('24 00 00 01'), hex('')], 90000, true);
    // Same content (same writer state), but its own copy.
    assert.notEqual(framedForChannel(other, 4), a);
    assert.deepEqual(framedForChannel(other, 4), a);
  });

  it('rejects channels outside 0..255', () => {
    assert.throws(() => framedForChannel(batch, 256), RangeError);
    assert.throws(() => framedForChannel(batch, -1), RangeError);
    assert.throws(() => framedForChannel(batch, 1.5), RangeError);
    assert.equal(framedForChannel(batch, 255)[1], 255);
  });
});
