// One RtpSender per track: SSRC, sequence numbers, timestamp base and counts live there, and so do
// the SR and BYE compounds the server sends.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { G711TrackCodec } from '../../../src/media/formats/g711.js';
import { H264TrackCodec } from '../../../src/media/formats/h264.js';
import { Track } from '../../../src/media/track.js';
import { packetizePayloads } from '../../../src/rtp/batch.js';
import { msToNtp } from '../../../src/rtp/ntp.js';
import { readRtpHeader } from '../../../src/rtp/packet.js';
import { parseRtcpCompound } from '../../../src/rtp/rtcp.js';
import { RtpSender } from '../../../src/rtp/sender.js';

function sender(ticksAt = (wallMs: number) => wallMs * 90): RtpSender {
  return new RtpSender({
    payloadType: 96,
    ssrc: 0xcafe0001,
    initialSequence: 65535,
    timestampBase: 0xfffffff0,
    ticksAt,
  });
}

describe('RtpSender', () => {
  it('stamps its SSRC and sequence numbers on what its writer builds, and counts what is sent', () => {
    const s = sender();
    const batch = packetizePayloads(s.writer, [Buffer.alloc(10), Buffer.alloc(20)], s.timestamp(32), true);
    const headers = batch.packets.map((p) => readRtpHeader(p));
    assert.deepEqual(
      headers.map((h) => [h.ssrc, h.sequenceNumber, h.timestamp, h.payloadType]),
      [
        [0xcafe0001, 65535, 16, 96],
        [0xcafe0001, 0, 16, 96],
      ],
    );
    assert.equal(s.nextSequence, 1);
    assert.equal(s.started, false);
    s.countSent(batch);
    assert.equal(s.started, true);
    assert.equal(s.packetCount, 2);
    assert.equal(s.octetCount, 30);
  });

  it('builds SR + SDES at a given wall time from its timeline and counts', () => {
    const s = sender();
    s.countSent(packetizePayloads(s.writer, [Buffer.alloc(7)], 0, true));
    const wallMs = 1_700_000_000_000;
    const [sr, sdes] = parseRtcpCompound(s.senderReport(wallMs, 'me@host'));
    const ntp = msToNtp(wallMs);
    assert.deepEqual(sr, {
      type: 'sr',
      ssrc: 0xcafe0001,
      ntpSeconds: ntp.seconds,
      ntpFraction: ntp.fraction,
      rtpTimestamp: (0xfffffff0 + wallMs * 90) >>> 0,
      packetCount: 1,
      octetCount: 7,
      reportBlocks: [],
    });
    assert.equal(sdes.type, 'sdes');
    assert.deepEqual(sdes.type === 'sdes' && sdes.chunks.map((c) => [c.ssrc, c.items[0].value]), [
      [0xcafe0001, 'me@host'],
    ]);
  });

  it('says BYE with an empty RR before any packet went out, with an SR after', () => {
    const s = sender();
    assert.deepEqual(
      parseRtcpCompound(s.bye(1000, 'me', 'session ended')).map((p) => p.type),
      ['rr', 'sdes', 'bye'],
    );
    s.countSent(packetizePayloads(s.writer, [Buffer.alloc(3)], 0, true));
    const packets = parseRtcpCompound(s.bye(1000, 'me', 'session ended'));
    assert.deepEqual(
      packets.map((p) => p.type),
      ['sr', 'sdes', 'bye'],
    );
    const bye = packets[2];
    assert.ok(bye.type === 'bye');
    assert.deepEqual([bye.ssrcs, bye.reason], [[0xcafe0001], 'session ended']);
  });
});

describe('Track and its sender', () => {
  it('draws the SSRC, first sequence number and timestamp base once, for the track', () => {
    const draws = [0x11223344, 0xabcd1234, 0x00000100];
    const track = new Track(0, new G711TrackCodec({ law: 'alaw' }), () => draws.shift()!);
    assert.equal(track.sender.ssrc, 0x11223344);
    assert.equal(track.sender.nextSequence, 0x1234);
    assert.equal(track.sender.timestampBase, 0x100);
    assert.equal(track.sender.payloadType, 8);
  });

  it('packetizes with its sender: sequence numbers go on across access units, counts follow', () => {
    let n = 0;
    const track = new Track(0, new H264TrackCodec({ mtu: 100 }), () => [7, 65534, 0][n++ % 3]);
    const seen: number[][] = [];
    track.subscribe({ deliver: (b) => seen.push(b.packets.map((p) => readRtpHeader(p).sequenceNumber)) });
    const slice = Buffer.concat([Buffer.from([0x65]), Buffer.alloc(150, 1)]);
    track.pushUnits([slice], { pts: 0 });
    track.pushUnits([Buffer.from([0x41, 1, 2])], { pts: 40_000 });
    assert.deepEqual(seen, [[65534, 65535], [0]]);
    assert.equal(track.sender.nextSequence, 1);
    assert.deepEqual(track.stats, { packets: 3, octets: 150 + 2 * 2 + 3, accessUnits: 2 });
    assert.equal(track.sender.octetCount, 157);
    assert.equal(track.started, true);
  });
});
