/**
 * H.264 over RTP, packetization mode 1 (RFC 6184): Single NAL Unit packets and FU-A fragments.
 * One access unit in, one RtpPacketBatch out, shared by every client.
 */
import { Buffer } from 'node:buffer';
import type { RtpBatchWriter, RtpPacketBatch } from '../../rtp/batch.js';
import { NalType } from './annexb.js';

/** FU indicator + FU header (RFC 6184 5.8). */
const FU_A_OVERHEAD = 2;

export interface H264PacketizerOptions {
  /** Largest RTP payload in bytes (not counting the 12-byte RTP header). */
  mtu?: number;
}

export interface H264ParameterSets {
  sps: Buffer;
  pps: Buffer;
}

/**
 * AUD and filler data are dropped: they cost a packet each and no decoder needs them over RTP
 * (access unit boundaries are carried by the marker bit and the timestamp).
 */
function isDropped(type: number): boolean {
  return type === NalType.AUD || type === NalType.FILLER;
}

export class H264Packetizer {
  private readonly mtu: number;
  private sps: Buffer | null = null;
  private pps: Buffer | null = null;

  constructor(options: H264PacketizerOptions = {}) {
    const mtu = options.mtu ?? 1400;
    // An FU-A must carry at least one byte; the 16-bit interleaved length bounds the packet.
    if (!Number.isInteger(mtu) || mtu < FU_A_OVERHEAD + 1 || mtu > 0xffff - 12) {
      throw new RangeError(`mtu must be 3..65523 payload bytes, got ${mtu}`);
    }
    this.mtu = mtu;
  }

  /** Latest SPS and PPS seen in-band or given out-of-band, or null until both are known. */
  get parameterSets(): H264ParameterSets | null {
    return this.sps !== null && this.pps !== null ? { sps: this.sps, pps: this.pps } : null;
  }

  /** Out-of-band parameter sets (e.g. from SDP or the encoder's extradata). */
  setParameterSets(sps: Buffer, pps: Buffer): void {
    this.rememberSps(sps);
    this.rememberPps(pps);
  }

  // Copied when they change: the caller's NAL views may point into buffers that get reused.
  private rememberSps(nal: Buffer): void {
    if (this.sps === null || !this.sps.equals(nal)) this.sps = Buffer.from(nal);
  }

  private rememberPps(nal: Buffer): void {
    if (this.pps === null || !this.pps.equals(nal)) this.pps = Buffer.from(nal);
  }

  /**
   * Packetizes one access unit (NAL units without start codes) at `rtpTimestamp`. When it holds an
   * IDR but lacks SPS or PPS, the remembered ones are sent in front so any client can start here.
   * An access unit with nothing to send gives an empty batch (no packets, no sequence consumed).
   */
  packetize(nalus: readonly Buffer[], rtpTimestamp: number, writer: RtpBatchWriter): RtpPacketBatch {
    let hasIdr = false;
    let hasSps = false;
    let hasPps = false;
    for (let i = 0; i < nalus.length; i++) {
      const nal = nalus[i];
      if (nal.length === 0) continue;
      const type = nal[0] & 0x1f;
      if (type === NalType.IDR) hasIdr = true;
      else if (type === NalType.SPS) {
        hasSps = true;
        this.rememberSps(nal);
      } else if (type === NalType.PPS) {
        hasPps = true;
        this.rememberPps(nal);
      }
    }

    let units = nalus;
    if (hasIdr && (!hasSps || !hasPps) && this.sps !== null && this.pps !== null) {
      // Once per keyframe at most, so a new array here is fine.
      const withSets: Buffer[] = [];
      if (!hasSps) withSets.push(this.sps);
      if (!hasPps && !hasSps) withSets.push(this.pps);
      let ppsPending = !hasPps && hasSps;
      for (let i = 0; i < nalus.length; i++) {
        const nal = nalus[i];
        withSets.push(nal);
        // Missing only the PPS: put it right after the in-band SPS it may refer to.
        if (ppsPending && nal.length > 0 && (nal[0] & 0x1f) === NalType.SPS) {
          withSets.push(this.pps);
          ppsPending = false;
        }
      }
      units = withSets;
    }

    const mtu = this.mtu;
    const fragmentPayload = mtu - FU_A_OVERHEAD;
    let packetCount = 0;
    let payloadOctets = 0;
    for (let i = 0; i < units.length; i++) {
      const nal = units[i];
      const length = nal.length;
      if (length === 0 || isDropped(nal[0] & 0x1f)) continue;
      if (length <= mtu) {
        packetCount++;
        payloadOctets += length;
      } else {
        // The NAL header byte is not sent: its bits travel in the FU indicator and header.
        const fragments = Math.ceil((length - 1) / fragmentPayload);
        packetCount += fragments;
        payloadOctets += length - 1 + FU_A_OVERHEAD * fragments;
      }
    }

    writer.begin(packetCount, payloadOctets, rtpTimestamp, hasIdr);
    const buf = writer.buffer;
    for (let i = 0; i < units.length; i++) {
      const nal = units[i];
      const length = nal.length;
      if (length === 0) continue;
      const header = nal[0];
      const type = header & 0x1f;
      if (isDropped(type)) continue;
      if (length <= mtu) {
        nal.copy(buf, writer.startPacket(length));
        continue;
      }
      const indicator = (header & 0xe0) | NalType.FU_A; // F and NRI copied from the NAL header
      let pos = 1;
      while (pos < length) {
        const chunk = Math.min(fragmentPayload, length - pos);
        const off = writer.startPacket(chunk + FU_A_OVERHEAD);
        buf[off] = indicator;
        // Length > mtu guarantees at least two fragments, so S and E are never both set.
        buf[off + 1] = (pos === 1 ? 0x80 : 0) | (pos + chunk === length ? 0x40 : 0) | type;
        nal.copy(buf, off + FU_A_OVERHEAD, pos, pos + chunk);
        pos += chunk;
      }
    }
    return writer.finish();
  }
}
