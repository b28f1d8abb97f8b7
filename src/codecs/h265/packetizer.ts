/**
 * H.265 over RTP (RFC 7798), without DONL (sprop-max-don-diff = 0): Single NAL Unit packets,
 * Aggregation Packets (AP) for runs of small NAL units and Fragmentation Units (FU) for large ones.
 * One access unit in, one RtpPacketBatch out, shared by every client.
 */
import { Buffer } from 'node:buffer';
import type { RtpBatchWriter, RtpPacketBatch } from '../../rtp/batch.js';
import { MediaFormatError } from '../errors.js';
import { H265_NAL_HEADER_SIZE, H265NalType, h265NalType, isH265Irap } from './annexb.js';

/** PayloadHdr (2 bytes) + FU header (1 byte) (RFC 7798 4.4.3). */
export const H265_FU_OVERHEAD = 3;
/** PayloadHdr of an AP (RFC 7798 4.4.2). */
const AP_HEADER_SIZE = 2;
/** NALU size field in front of each aggregated NAL unit. */
const AP_LENGTH_SIZE = 2;

export interface H265PacketizerOptions {
  /** Largest RTP payload in bytes (not counting the 12-byte RTP header). Default 1400. */
  mtu?: number;
  /**
   * Put consecutive NAL units that fit together under the mtu (e.g. VPS, SPS, PPS) in one AP
   * (default true). Single NAL unit and FU packets only when false.
   */
  aggregate?: boolean;
}

export interface H265ParameterSets {
  vps: Buffer;
  sps: Buffer;
  pps: Buffer;
}

/**
 * AUD and filler data are dropped: they cost a packet (or AP space) and no decoder needs them over
 * RTP (access unit boundaries are carried by the marker bit and the timestamp).
 */
function isDropped(type: number): boolean {
  return type === H265NalType.AUD || type === H265NalType.FD;
}

/**
 * Where a parameter set goes in an access unit: VPS before SPS before PPS before everything else
 * (SEI, slices). An AUD comes first of all.
 */
function rank(type: number): number {
  if (type === H265NalType.AUD) return -1;
  if (type === H265NalType.VPS) return 0;
  if (type === H265NalType.SPS) return 1;
  if (type === H265NalType.PPS) return 2;
  return 3;
}

export class H265Packetizer {
  private readonly mtu: number;
  private readonly aggregate: boolean;
  private vps: Buffer | null = null;
  private sps: Buffer | null = null;
  private pps: Buffer | null = null;

  constructor(options: H265PacketizerOptions = {}) {
    const mtu = options.mtu ?? 1400;
    // An FU must carry at least one byte; the 16-bit interleaved length bounds the packet.
    if (!Number.isInteger(mtu) || mtu < H265_FU_OVERHEAD + 1 || mtu > 0xffff - 12) {
      throw new RangeError(`mtu must be 4..65523 payload bytes, got ${mtu}`);
    }
    this.mtu = mtu;
    this.aggregate = options.aggregate ?? true;
  }

  /** Latest VPS, SPS and PPS seen in-band or given out-of-band, or null until all three are known. */
  get parameterSets(): H265ParameterSets | null {
    return this.vps !== null && this.sps !== null && this.pps !== null
      ? { vps: this.vps, sps: this.sps, pps: this.pps }
      : null;
  }

  /** Out-of-band parameter sets (e.g. from SDP or the encoder's extradata). */
  setParameterSets(vps: Buffer, sps: Buffer, pps: Buffer): void {
    const types = [vps, sps, pps].map((nal) => h265NalType(nal));
    if (types[0] !== H265NalType.VPS || types[1] !== H265NalType.SPS || types[2] !== H265NalType.PPS) {
      throw new MediaFormatError(`parameter sets must be a VPS, an SPS and a PPS, got NAL types ${types}`);
    }
    this.remember(vps);
    this.remember(sps);
    this.remember(pps);
  }

  // Copied when they change: the caller's NAL views may point into buffers that get reused.
  private remember(nal: Buffer): void {
    const type = (nal[0] >>> 1) & 0x3f;
    if (type === H265NalType.VPS) {
      if (this.vps === null || !this.vps.equals(nal)) this.vps = Buffer.from(nal);
    } else if (type === H265NalType.SPS) {
      if (this.sps === null || !this.sps.equals(nal)) this.sps = Buffer.from(nal);
    } else if (this.pps === null || !this.pps.equals(nal)) {
      this.pps = Buffer.from(nal);
    }
  }

  /**
   * Packetizes one access unit (NAL units without start codes, 2-byte header included) at
   * `rtpTimestamp`. When it holds an IRAP picture but lacks a VPS, SPS or PPS, the remembered ones
   * are sent in their place so any client can start here. Empty NAL units, AUDs and filler data are
   * not sent; an access unit with nothing to send gives an empty batch (no packets, no sequence
   * consumed). Throws MediaFormatError for a NAL unit of one byte (no complete header).
   */
  packetize(nalus: readonly Buffer[], rtpTimestamp: number, writer: RtpBatchWriter): RtpPacketBatch {
    let hasIrap = false;
    let hasVps = false;
    let hasSps = false;
    let hasPps = false;
    let skipped = false;
    for (let i = 0; i < nalus.length; i++) {
      const nal = nalus[i];
      if (nal.length < H265_NAL_HEADER_SIZE) {
        if (nal.length === 1) throw new MediaFormatError('H.265 NAL unit of 1 byte: no complete header');
        skipped = true;
        continue;
      }
      const type = (nal[0] >>> 1) & 0x3f;
      if (isDropped(type)) skipped = true;
      else if (isH265Irap(type)) hasIrap = true;
      else if (type === H265NalType.VPS) hasVps = true;
      else if (type === H265NalType.SPS) hasSps = true;
      else if (type === H265NalType.PPS) hasPps = true;
      if (type >= H265NalType.VPS && type <= H265NalType.PPS) this.remember(nal);
    }
    const missing: Buffer[] = [];
    if (hasIrap) {
      if (!hasVps && this.vps !== null) missing.push(this.vps);
      if (!hasSps && this.sps !== null) missing.push(this.sps);
      if (!hasPps && this.pps !== null) missing.push(this.pps);
    }
    const units = skipped || missing.length > 0 ? this.rebuild(nalus, missing) : nalus;

    const mtu = this.mtu;
    const fragmentPayload = mtu - H265_FU_OVERHEAD;
    let packetCount = 0;
    let payloadOctets = 0;
    for (let i = 0; i < units.length; ) {
      const end = this.groupEnd(units, i);
      packetCount++;
      if (end - i > 1) {
        payloadOctets += AP_HEADER_SIZE;
        for (let j = i; j < end; j++) payloadOctets += AP_LENGTH_SIZE + units[j].length;
      } else {
        const length = units[i].length;
        if (length <= mtu) {
          payloadOctets += length;
        } else {
          // The 2-byte NAL header is not sent: its fields travel in the PayloadHdr and FU header.
          const fragments = Math.ceil((length - H265_NAL_HEADER_SIZE) / fragmentPayload);
          packetCount += fragments - 1;
          payloadOctets += length - H265_NAL_HEADER_SIZE + H265_FU_OVERHEAD * fragments;
        }
      }
      i = end;
    }

    writer.begin(packetCount, payloadOctets, rtpTimestamp, hasIrap);
    const buf = writer.buffer;
    for (let i = 0; i < units.length; ) {
      const end = this.groupEnd(units, i);
      if (end - i > 1) this.writeAp(writer, units, i, end);
      else this.writeNal(writer, units[i], buf, fragmentPayload);
      i = end;
    }
    return writer.finish();
  }

  /**
   * Index after the last NAL unit that goes in one packet with units[i]: greedily as many following
   * units as fit in an AP under the mtu; i + 1 when units[i] travels alone (single or FU).
   */
  private groupEnd(units: readonly Buffer[], i: number): number {
    if (!this.aggregate) return i + 1;
    let size = AP_HEADER_SIZE + AP_LENGTH_SIZE + units[i].length;
    let j = i + 1;
    while (j < units.length && size + AP_LENGTH_SIZE + units[j].length <= this.mtu) {
      size += AP_LENGTH_SIZE + units[j].length;
      j++;
    }
    return j;
  }

  private writeAp(writer: RtpBatchWriter, units: readonly Buffer[], start: number, end: number): void {
    // PayloadHdr (RFC 7798 4.4.2): F is the OR of the aggregated F bits, LayerId and TID their minimum.
    let f = 0;
    let layerId = 63;
    let tidPlus1 = 7;
    let size = AP_HEADER_SIZE;
    for (let j = start; j < end; j++) {
      const nal = units[j];
      f |= nal[0] & 0x80;
      layerId = Math.min(layerId, ((nal[0] & 1) << 5) | (nal[1] >>> 3));
      tidPlus1 = Math.min(tidPlus1, nal[1] & 7);
      size += AP_LENGTH_SIZE + nal.length;
    }
    const buf = writer.buffer;
    let off = writer.startPacket(size);
    buf[off++] = f | (H265NalType.AP << 1) | (layerId >>> 5);
    buf[off++] = ((layerId & 0x1f) << 3) | tidPlus1;
    for (let j = start; j < end; j++) {
      const nal = units[j];
      buf[off++] = nal.length >>> 8;
      buf[off++] = nal.length & 0xff;
      nal.copy(buf, off);
      off += nal.length;
    }
  }

  private writeNal(writer: RtpBatchWriter, nal: Buffer, buf: Buffer, fragmentPayload: number): void {
    const length = nal.length;
    if (length <= this.mtu) {
      nal.copy(buf, writer.startPacket(length));
      return;
    }
    // PayloadHdr: F, LayerId and TID copied from the NAL header, Type 49.
    const header0 = (nal[0] & 0x81) | (H265NalType.FU << 1);
    const header1 = nal[1];
    const type = (nal[0] >>> 1) & 0x3f;
    let pos = H265_NAL_HEADER_SIZE;
    while (pos < length) {
      const chunk = Math.min(fragmentPayload, length - pos);
      const off = writer.startPacket(chunk + H265_FU_OVERHEAD);
      buf[off] = header0;
      buf[off + 1] = header1;
      // Length > mtu guarantees at least two fragments, so S and E are never both set.
      buf[off + 2] = (pos === H265_NAL_HEADER_SIZE ? 0x80 : 0) | (pos + chunk === length ? 0x40 : 0) | type;
      nal.copy(buf, off + H265_FU_OVERHEAD, pos, pos + chunk);
      pos += chunk;
    }
  }

  /** The units to send: empty, AUD and FD NAL units left out, missing parameter sets put in. */
  private rebuild(nalus: readonly Buffer[], missing: Buffer[]): Buffer[] {
    // Once per keyframe, or per access unit for streams with AUDs: a new array here is fine.
    const units: Buffer[] = [];
    let next = 0;
    for (let i = 0; i < nalus.length; i++) {
      const nal = nalus[i];
      if (nal.length < H265_NAL_HEADER_SIZE) continue;
      const type = (nal[0] >>> 1) & 0x3f;
      // A missing set goes before the first NAL unit that must follow it (VPS < SPS < PPS < slices).
      const r = rank(type);
      while (next < missing.length && rank((missing[next][0] >>> 1) & 0x3f) < r) units.push(missing[next++]);
      if (!isDropped(type)) units.push(nal);
    }
    while (next < missing.length) units.push(missing[next++]);
    return units;
  }
}
