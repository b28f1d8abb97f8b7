/**
 * The fan-out unit: one access unit packetized once, shared by every client of a track.
 *
 * Layout of `framed` (RTSP interleaved framing, RFC 2326 section 10.12), repeated per packet:
 *   0x24 | channel (0 as written) | RTP packet length (uint16 BE) | RTP packet
 * `packets[i]` are subarray views of `framed` covering the RTP packets only (UDP datagrams).
 */
import { Buffer } from 'node:buffer';
import { RTP_HEADER_SIZE, writeRtpHeaderValues } from './packet.js';

/** Size of the `$ channel length` prefix of an interleaved packet. */
export const INTERLEAVED_PREFIX_SIZE = 4;
/** Largest RTP packet the 16-bit interleaved length can carry. */
export const MAX_RTP_PACKET_SIZE = 0xffff;

export interface RtpPacketBatch {
  /** All packets of the access unit back to back, each preceded by its 4-byte RTSP interleaved header
   *  (0x24, channel, len16be) with channel byte 0 as written. TCP clients on channel 0 get this exact
   *  Buffer in one socket.write. */
  readonly framed: Buffer;
  /** Views (subarray, no copy) of `framed`, one per RTP packet without the 4-byte prefix: UDP datagrams. */
  readonly packets: Buffer[];
  /** Access unit holds an IDR (or is otherwise a random access point). */
  readonly keyframe: boolean;
  /** uint32 */
  readonly rtpTimestamp: number;
  /** Sequence number of packets[0] (for an empty batch: the next sequence number, not consumed). */
  readonly firstSeq: number;
  /** Sum of RTP payload bytes, for the RTCP SR octet count. */
  readonly payloadOctets: number;
}

const EMPTY = Buffer.alloc(0);

// Per-batch copies of `framed` for other channels. Weak so a copy dies with its batch.
const channelCopies = new WeakMap<RtpPacketBatch, Buffer[]>();

/**
 * The framed bytes for a TCP client whose RTP channel is `channel`. Channel 0 is `batch.framed`
 * itself; any other channel gets a copy with the channel bytes patched, built once per batch and
 * channel and shared by all clients on it.
 */
export function framedForChannel(batch: RtpPacketBatch, channel: number): Buffer {
  if (channel === 0) return batch.framed;
  if (!Number.isInteger(channel) || channel < 0 || channel > 255) {
    throw new RangeError(`interleaved channel must be 0..255, got ${channel}`);
  }
  let copies = channelCopies.get(batch);
  if (copies === undefined) {
    copies = [];
    channelCopies.set(batch, copies);
  }
  const cached = copies[channel];
  if (cached !== undefined) return cached;
  const src = batch.framed;
  const copy = Buffer.allocUnsafe(src.length);
  src.copy(copy);
  // Walk the prefixes rather than trusting `packets` views: only `framed` needs to be consistent.
  let pos = 0;
  while (pos + INTERLEAVED_PREFIX_SIZE <= copy.length) {
    copy[pos + 1] = channel;
    pos += INTERLEAVED_PREFIX_SIZE + ((copy[pos + 2] << 8) | copy[pos + 3]);
  }
  copies[channel] = copy;
  return copy;
}

// Interleaved framings of RTCP packets, by packet and channel. Weak so a framing dies with its packet.
const rtcpFramings = new WeakMap<Buffer, Buffer[]>();

/**
 * `packet` (RTCP) framed for interleaved channel `channel`: `$ channel length packet` in one buffer,
 * so it goes out in one write. A sender report is built once per track and interval and sent to
 * every client: the framing is built once per channel and shared by all clients on it. The packet
 * must not change once framed (RTCP builders return a fresh buffer per packet).
 */
export function framedRtcpForChannel(packet: Buffer, channel: number): Buffer {
  if (!Number.isInteger(channel) || channel < 0 || channel > 255) {
    throw new RangeError(`interleaved channel must be 0..255, got ${channel}`);
  }
  if (packet.length > MAX_RTP_PACKET_SIZE) {
    throw new RangeError(`RTCP packet of ${packet.length} bytes does not fit interleaved framing`);
  }
  let framings = rtcpFramings.get(packet);
  if (framings === undefined) {
    framings = [];
    rtcpFramings.set(packet, framings);
  }
  const cached = framings[channel];
  if (cached !== undefined) return cached;
  const framed = Buffer.allocUnsafe(INTERLEAVED_PREFIX_SIZE + packet.length);
  framed[0] = 0x24;
  framed[1] = channel;
  framed[2] = packet.length >>> 8;
  framed[3] = packet.length & 0xff;
  packet.copy(framed, INTERLEAVED_PREFIX_SIZE);
  framings[channel] = framed;
  return framed;
}

class Batch implements RtpPacketBatch {
  constructor(
    readonly framed: Buffer,
    readonly packets: Buffer[],
    readonly keyframe: boolean,
    readonly rtpTimestamp: number,
    readonly firstSeq: number,
    readonly payloadOctets: number,
  ) {}
}

export interface RtpBatchWriterOptions {
  payloadType: number;
  ssrc: number;
  /** Sequence number of the first packet ever written (random, chosen by the caller). */
  initialSequence: number;
}

/**
 * RTP state of one outgoing track and the builder of its batches. A packetizer announces how many
 * packets and payload bytes an access unit needs (`begin`), so `framed` is allocated once; then for
 * each packet it calls `startPacket(payloadLength)` and writes the payload into `buffer` at the
 * returned offset; `finish` returns the batch. The marker bit goes on the last packet.
 */
export class RtpBatchWriter {
  readonly payloadType: number;
  readonly ssrc: number;
  private seq: number;

  private framed: Buffer = EMPTY;
  private packets: Buffer[] = [];
  private packetCount = 0;
  private payloadOctets = 0;
  private payloadRemaining = 0;
  private offset = 0;
  private timestamp = 0;
  private keyframe = false;
  private firstSeq = 0;
  private packetsWritten = 0;
  private building = false;

  constructor(options: RtpBatchWriterOptions) {
    const { payloadType, ssrc, initialSequence } = options;
    if (!Number.isInteger(payloadType) || payloadType < 0 || payloadType > 127) {
      throw new RangeError(`RTP payload type must be 0..127, got ${payloadType}`);
    }
    if (!Number.isInteger(ssrc) || ssrc < 0 || ssrc > 0xffffffff) {
      throw new RangeError(`SSRC must be a uint32, got ${ssrc}`);
    }
    if (!Number.isInteger(initialSequence) || initialSequence < 0 || initialSequence > 0xffff) {
      throw new RangeError(`initial sequence number must be 0..65535, got ${initialSequence}`);
    }
    this.payloadType = payloadType;
    this.ssrc = ssrc;
    this.seq = initialSequence;
  }

  /** Sequence number the next packet will carry. */
  get nextSequence(): number {
    return this.seq;
  }

  /** The `framed` buffer of the batch being built; write payloads at offsets from startPacket. */
  get buffer(): Buffer {
    return this.framed;
  }

  /** Starts a batch of exactly `packetCount` packets carrying `payloadOctets` payload bytes in total. */
  begin(packetCount: number, payloadOctets: number, rtpTimestamp: number, keyframe: boolean): void {
    // An unfinished batch is abandoned: its packets were never sent, so its sequence numbers are reused.
    if (this.building) this.abort();
    if (
      !Number.isInteger(packetCount) ||
      packetCount < 0 ||
      !Number.isInteger(payloadOctets) ||
      payloadOctets < 0
    ) {
      throw new RangeError(`bad batch size: ${packetCount} packets, ${payloadOctets} octets`);
    }
    const size = packetCount * (INTERLEAVED_PREFIX_SIZE + RTP_HEADER_SIZE) + payloadOctets;
    // Every byte is overwritten (prefixes, headers, declared payloads), so no zero-fill is needed.
    this.framed = size === 0 ? EMPTY : Buffer.allocUnsafe(size);
    this.packets = new Array<Buffer>(packetCount);
    this.packetCount = packetCount;
    this.payloadOctets = payloadOctets;
    this.payloadRemaining = payloadOctets;
    this.offset = 0;
    this.timestamp = rtpTimestamp >>> 0;
    this.keyframe = keyframe;
    this.firstSeq = this.seq;
    this.packetsWritten = 0;
    this.building = true;
  }

  /**
   * Writes the interleaved prefix and RTP header of the next packet and returns the offset in
   * `buffer` where its `payloadLength` payload bytes must be written.
   */
  startPacket(payloadLength: number): number {
    if (!this.building) throw new Error('RtpBatchWriter.startPacket: no batch in progress');
    if (this.packetsWritten >= this.packetCount) {
      this.abort();
      throw new Error('RtpBatchWriter.startPacket: more packets than announced');
    }
    if (!Number.isInteger(payloadLength) || payloadLength < 0 || payloadLength > this.payloadRemaining) {
      this.abort();
      throw new Error(
        `RtpBatchWriter.startPacket: payload of ${payloadLength} bytes exceeds what was announced`,
      );
    }
    const rtpLength = RTP_HEADER_SIZE + payloadLength;
    if (rtpLength > MAX_RTP_PACKET_SIZE) {
      this.abort();
      throw new RangeError(`RTP packet of ${rtpLength} bytes does not fit interleaved framing`);
    }
    const buf = this.framed;
    let pos = this.offset;
    buf[pos] = 0x24;
    buf[pos + 1] = 0;
    buf[pos + 2] = rtpLength >>> 8;
    buf[pos + 3] = rtpLength & 0xff;
    pos += INTERLEAVED_PREFIX_SIZE;
    const index = this.packetsWritten++;
    const last = index === this.packetCount - 1;
    writeRtpHeaderValues(buf, pos, last, this.payloadType, this.seq, this.timestamp, this.ssrc);
    this.packets[index] = buf.subarray(pos, pos + rtpLength);
    this.seq = (this.seq + 1) & 0xffff;
    this.payloadRemaining -= payloadLength;
    this.offset = pos + rtpLength;
    return pos + RTP_HEADER_SIZE;
  }

  /** Completes the batch. Throws if fewer packets or payload bytes were written than announced. */
  finish(): RtpPacketBatch {
    if (!this.building) throw new Error('RtpBatchWriter.finish: no batch in progress');
    if (this.packetsWritten !== this.packetCount || this.payloadRemaining !== 0) {
      const message =
        `RtpBatchWriter.finish: wrote ${this.packetsWritten}/${this.packetCount} packets, ` +
        `${this.payloadRemaining} payload bytes missing`;
      this.abort();
      throw new Error(message);
    }
    this.building = false;
    const batch = new Batch(
      this.framed,
      this.packets,
      this.keyframe,
      this.timestamp,
      this.firstSeq,
      this.payloadOctets,
    );
    this.framed = EMPTY;
    this.packets = [];
    return batch;
  }

  /** Drops the batch in progress and gives back its sequence numbers. */
  private abort(): void {
    this.building = false;
    this.seq = this.firstSeq;
    this.framed = EMPTY;
    this.packets = [];
  }
}

/** One batch whose packets carry `payloads` as they are (for formats whose payloads are ready). */
export function packetizePayloads(
  writer: RtpBatchWriter,
  payloads: readonly Uint8Array[],
  rtpTimestamp: number,
  keyframe: boolean,
): RtpPacketBatch {
  let total = 0;
  for (let i = 0; i < payloads.length; i++) total += payloads[i].length;
  writer.begin(payloads.length, total, rtpTimestamp, keyframe);
  const buf = writer.buffer;
  for (let i = 0; i < payloads.length; i++) {
    const payload = payloads[i];
    buf.set(payload, writer.startPacket(payload.length));
  }
  return writer.finish();
}
