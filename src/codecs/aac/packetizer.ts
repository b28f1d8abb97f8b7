/**
 * AAC over RTP, RFC 3640 mpeg4-generic in mode AAC-hbr (section 3.3.6): every packet is
 *
 *   AU-headers-length (16 bits, in bits) | one 16-bit AU-header per AU | the AUs back to back
 *
 * with AU-header = AU-size (13 bits) | AU-Index or AU-Index-delta (3 bits, 0: no interleaving).
 * Consecutive AUs share a packet while they fit the mtu; an AU that cannot fit alone is fragmented
 * (section 3.2.3): each fragment packet has one AU-header giving the size of the whole AU, and
 * only the last fragment has the marker bit. A packet's timestamp is that of its first AU.
 */

import type { RtpBatchWriter, RtpPacketBatch } from '../../rtp/batch.js';
import { MediaFormatError } from '../errors.js';
import { setPacketMarker, setPacketTimestamp } from '../generic/rtp-patch.js';

/** AU-headers-length field. */
const HEADERS_LENGTH_SIZE = 2;
/** One AAC-hbr AU-header: 13 + 3 bits. */
const AU_HEADER_SIZE = 2;
/** Largest AU a 13-bit AU-size can describe. */
export const AAC_HBR_MAX_AU_SIZE = 8191;

export interface AacPacketizerOptions {
  /** Largest RTP payload in bytes (default 1400). */
  mtu?: number;
  /** Duration of one AU in RTP clock ticks (default 1024, AAC LC at the clock = sample rate). */
  samplesPerFrame?: number;
}

/** One planned packet: `count` whole AUs from `first`, or (count 0) a fragment of AU `first`. */
interface PlannedPacket {
  first: number;
  count: number;
  fragmentOffset: number;
  fragmentLength: number;
  payloadLength: number;
}

export class AacPacketizer {
  private readonly mtu: number;
  private readonly samplesPerFrame: number;

  constructor(options: AacPacketizerOptions = {}) {
    const mtu = options.mtu ?? 1400;
    if (!Number.isInteger(mtu) || mtu < HEADERS_LENGTH_SIZE + AU_HEADER_SIZE + 1 || mtu > 0xffff - 12) {
      throw new RangeError(`mtu must be 5..65523 payload bytes, got ${mtu}`);
    }
    const samplesPerFrame = options.samplesPerFrame ?? 1024;
    if (!Number.isInteger(samplesPerFrame) || samplesPerFrame <= 0) {
      throw new RangeError(`samplesPerFrame must be a positive integer, got ${samplesPerFrame}`);
    }
    this.mtu = mtu;
    this.samplesPerFrame = samplesPerFrame;
  }

  /**
   * Packetizes consecutive AUs (raw AAC frames, no ADTS header), the first at `rtpTimestamp`, each
   * `samplesPerFrame` after the previous. Throws MediaFormatError for an empty AU or one over 8191
   * bytes. Audio batches are always random access points.
   */
  packetize(aus: readonly Buffer[], rtpTimestamp: number, writer: RtpBatchWriter): RtpPacketBatch {
    const mtu = this.mtu;
    const plan: PlannedPacket[] = [];
    let open: PlannedPacket | null = null;
    let payloadOctets = 0;
    for (let i = 0; i < aus.length; i++) {
      const size = aus[i].length;
      if (size === 0) throw new MediaFormatError(`AAC access unit ${i} is empty`);
      if (size > AAC_HBR_MAX_AU_SIZE) {
        throw new MediaFormatError(`AAC access unit of ${size} bytes exceeds the 13-bit AU-size`);
      }
      if (HEADERS_LENGTH_SIZE + AU_HEADER_SIZE + size <= mtu) {
        if (open !== null && open.payloadLength + AU_HEADER_SIZE + size <= mtu) {
          open.count++;
          open.payloadLength += AU_HEADER_SIZE + size;
          payloadOctets += AU_HEADER_SIZE + size;
          continue;
        }
        open = { first: i, count: 1, fragmentOffset: 0, fragmentLength: 0, payloadLength: 0 };
        open.payloadLength = HEADERS_LENGTH_SIZE + AU_HEADER_SIZE + size;
        payloadOctets += open.payloadLength;
        plan.push(open);
        continue;
      }
      open = null;
      const chunk = mtu - HEADERS_LENGTH_SIZE - AU_HEADER_SIZE;
      for (let offset = 0; offset < size; offset += chunk) {
        const length = Math.min(chunk, size - offset);
        const payloadLength = HEADERS_LENGTH_SIZE + AU_HEADER_SIZE + length;
        plan.push({ first: i, count: 0, fragmentOffset: offset, fragmentLength: length, payloadLength });
        payloadOctets += payloadLength;
      }
    }

    writer.begin(plan.length, payloadOctets, rtpTimestamp, true);
    const buf = writer.buffer;
    for (let p = 0; p < plan.length; p++) {
      const packet = plan[p];
      let off = writer.startPacket(packet.payloadLength);
      const headers = packet.count === 0 ? 1 : packet.count;
      const headerBits = headers * AU_HEADER_SIZE * 8;
      buf[off++] = headerBits >>> 8;
      buf[off++] = headerBits & 0xff;
      for (let k = 0; k < headers; k++) {
        // AU-size in the top 13 bits; AU-Index (first) and AU-Index-delta (others) are 0.
        const field = aus[packet.first + k].length << 3;
        buf[off++] = field >>> 8;
        buf[off++] = field & 0xff;
      }
      if (packet.count === 0) {
        const au = aus[packet.first];
        au.copy(buf, off, packet.fragmentOffset, packet.fragmentOffset + packet.fragmentLength);
      } else {
        for (let k = 0; k < packet.count; k++) {
          const au = aus[packet.first + k];
          au.copy(buf, off);
          off += au.length;
        }
      }
    }
    const batch = writer.finish();
    // Section 3.2.3: M is set on packets ending an AU (whole AUs or a last fragment); a packet's
    // timestamp is its first AU's.
    for (let p = 0; p < plan.length; p++) {
      const packet = plan[p];
      const rtp = batch.packets[p];
      if (packet.first > 0) setPacketTimestamp(rtp, rtpTimestamp + packet.first * this.samplesPerFrame);
      const endsAu =
        packet.count > 0 || packet.fragmentOffset + packet.fragmentLength === aus[packet.first].length;
      setPacketMarker(rtp, endsAu);
    }
    return batch;
  }
}
