/**
 * RTCP (RFC 3550 section 6): building the compound packets a sender emits (SR + SDES CNAME, and
 * SR/RR + SDES + BYE on teardown) and parsing whatever a receiver sends back. Parsing never throws
 * anything but RtcpFormatError, whatever the bytes.
 */
import { Buffer } from 'node:buffer';
import { RtcpFormatError } from './errors.js';

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;
export const RTCP_APP = 204;

/** SDES item types (RFC 3550 section 6.5). */
export const SDES_END = 0;
export const SDES_CNAME = 1;
export const SDES_NAME = 2;
export const SDES_EMAIL = 3;
export const SDES_PHONE = 4;
export const SDES_LOC = 5;
export const SDES_TOOL = 6;
export const SDES_NOTE = 7;
export const SDES_PRIV = 8;

const HEADER_SIZE = 4;
const REPORT_BLOCK_SIZE = 24;
const SENDER_INFO_SIZE = 20;
/** RC/SC is a 5-bit field. */
const MAX_COUNT = 31;

export interface RtcpReportBlock {
  /** SSRC of the source this block reports on. */
  ssrc: number;
  /** Fraction lost since the previous report, 8-bit fixed point (lost/expected * 256). */
  fractionLost: number;
  /** Cumulative packets lost: signed 24-bit (duplicates can make it negative). */
  cumulativeLost: number;
  /** Extended highest sequence number received (cycles << 16 | seq). */
  highestSequence: number;
  /** Interarrival jitter in RTP timestamp units. */
  jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received (0: none yet). */
  lastSr: number;
  /** Delay since that SR, in 1/65536 s. */
  delaySinceLastSr: number;
}

export interface RtcpSenderInfo {
  ntpSeconds: number;
  ntpFraction: number;
  rtpTimestamp: number;
  /** Packets sent since the start of transmission (uint32, wraps). */
  packetCount: number;
  /** RTP payload octets sent since the start of transmission (uint32, wraps). */
  octetCount: number;
}

export interface SenderReportInit extends RtcpSenderInfo {
  ssrc: number;
  reportBlocks?: readonly RtcpReportBlock[];
}

export interface ReceiverReportInit {
  ssrc: number;
  reportBlocks?: readonly RtcpReportBlock[];
}

export interface SrSdesInit extends SenderReportInit {
  cname: string;
}

export interface ByeCompoundInit {
  ssrc: number;
  cname: string;
  reason?: string;
  /** Present when this participant sent RTP (then the compound starts with an SR), else an empty RR. */
  sender?: RtcpSenderInfo;
}

// ---------------------------------------------------------------------------------------------
// Building

function writeHeader(buf: Buffer, pos: number, count: number, packetType: number, size: number): void {
  buf[pos] = 0x80 | count;
  buf[pos + 1] = packetType;
  buf.writeUInt16BE(size / 4 - 1, pos + 2);
}

function checkBlockCount(blocks: readonly RtcpReportBlock[]): void {
  if (blocks.length > MAX_COUNT) throw new RangeError(`at most 31 report blocks, got ${blocks.length}`);
}

function writeReportBlock(buf: Buffer, pos: number, block: RtcpReportBlock): void {
  buf.writeUInt32BE(block.ssrc >>> 0, pos);
  buf[pos + 4] = block.fractionLost & 0xff;
  // Clamp to the signed 24-bit range (RFC 3550 A.3) and store as two's complement.
  const lost = Math.max(-0x800000, Math.min(0x7fffff, Math.trunc(block.cumulativeLost))) & 0xffffff;
  buf[pos + 5] = lost >>> 16;
  buf[pos + 6] = (lost >>> 8) & 0xff;
  buf[pos + 7] = lost & 0xff;
  buf.writeUInt32BE(block.highestSequence >>> 0, pos + 8);
  buf.writeUInt32BE(block.jitter >>> 0, pos + 12);
  buf.writeUInt32BE(block.lastSr >>> 0, pos + 16);
  buf.writeUInt32BE(block.delaySinceLastSr >>> 0, pos + 20);
}

function senderReportSize(blocks: readonly RtcpReportBlock[]): number {
  return HEADER_SIZE + 4 + SENDER_INFO_SIZE + REPORT_BLOCK_SIZE * blocks.length;
}

function writeSenderReport(
  buf: Buffer,
  pos: number,
  ssrc: number,
  info: RtcpSenderInfo,
  blocks: readonly RtcpReportBlock[],
): number {
  const size = senderReportSize(blocks);
  writeHeader(buf, pos, blocks.length, RTCP_SR, size);
  buf.writeUInt32BE(ssrc >>> 0, pos + 4);
  buf.writeUInt32BE(info.ntpSeconds >>> 0, pos + 8);
  buf.writeUInt32BE(info.ntpFraction >>> 0, pos + 12);
  buf.writeUInt32BE(info.rtpTimestamp >>> 0, pos + 16);
  buf.writeUInt32BE(info.packetCount >>> 0, pos + 20);
  buf.writeUInt32BE(info.octetCount >>> 0, pos + 24);
  let p = pos + 28;
  for (const block of blocks) {
    writeReportBlock(buf, p, block);
    p += REPORT_BLOCK_SIZE;
  }
  return p;
}

function receiverReportSize(blocks: readonly RtcpReportBlock[]): number {
  return HEADER_SIZE + 4 + REPORT_BLOCK_SIZE * blocks.length;
}

function writeReceiverReport(
  buf: Buffer,
  pos: number,
  ssrc: number,
  blocks: readonly RtcpReportBlock[],
): number {
  writeHeader(buf, pos, blocks.length, RTCP_RR, receiverReportSize(blocks));
  buf.writeUInt32BE(ssrc >>> 0, pos + 4);
  let p = pos + 8;
  for (const block of blocks) {
    writeReportBlock(buf, p, block);
    p += REPORT_BLOCK_SIZE;
  }
  return p;
}

function textLength(text: string, what: string): number {
  const n = Buffer.byteLength(text, 'utf8');
  if (n > 255) throw new RangeError(`${what} is ${n} bytes in UTF-8, at most 255 allowed`);
  return n;
}

/** SDES with one chunk holding only CNAME: item list ends with a null octet, padded to 32 bits. */
function sdesCnameSize(cnameBytes: number): number {
  // 2 (type, length) + text, then at least one null octet up to the next multiple of 4.
  return HEADER_SIZE + 4 + (((2 + cnameBytes) >> 2) + 1) * 4;
}

function writeSdesCname(buf: Buffer, pos: number, ssrc: number, cname: string, cnameBytes: number): number {
  const size = sdesCnameSize(cnameBytes);
  writeHeader(buf, pos, 1, RTCP_SDES, size);
  buf.writeUInt32BE(ssrc >>> 0, pos + 4);
  buf[pos + 8] = SDES_CNAME;
  buf[pos + 9] = cnameBytes;
  buf.write(cname, pos + 10, 'utf8');
  buf.fill(0, pos + 10 + cnameBytes, pos + size);
  return pos + size;
}

function byeSize(reasonBytes: number): number {
  // Reason: length octet + text, zero-padded to 32 bits.
  return HEADER_SIZE + 4 + (reasonBytes < 0 ? 0 : Math.ceil((1 + reasonBytes) / 4) * 4);
}

function writeBye(
  buf: Buffer,
  pos: number,
  ssrc: number,
  reason: string | undefined,
  reasonBytes: number,
): number {
  const size = byeSize(reasonBytes);
  writeHeader(buf, pos, 1, RTCP_BYE, size);
  buf.writeUInt32BE(ssrc >>> 0, pos + 4);
  if (reason !== undefined) {
    buf[pos + 8] = reasonBytes;
    buf.write(reason, pos + 9, 'utf8');
    buf.fill(0, pos + 9 + reasonBytes, pos + size);
  }
  return pos + size;
}

/** A lone SR packet (not compound; use buildSrSdesCompound to send). */
export function buildSenderReport(init: SenderReportInit): Buffer {
  const blocks = init.reportBlocks ?? [];
  checkBlockCount(blocks);
  const buf = Buffer.allocUnsafe(senderReportSize(blocks));
  writeSenderReport(buf, 0, init.ssrc, init, blocks);
  return buf;
}

/** A lone RR packet. With no blocks it is the empty RR that heads a non-sender's compound packet. */
export function buildReceiverReport(init: ReceiverReportInit): Buffer {
  const blocks = init.reportBlocks ?? [];
  checkBlockCount(blocks);
  const buf = Buffer.allocUnsafe(receiverReportSize(blocks));
  writeReceiverReport(buf, 0, init.ssrc, blocks);
  return buf;
}

/** SR + SDES(CNAME): the periodic report of a sender (RFC 3550 6.1: compound, SR first, CNAME in it). */
export function buildSrSdesCompound(init: SrSdesInit): Buffer {
  const blocks = init.reportBlocks ?? [];
  checkBlockCount(blocks);
  const cnameBytes = textLength(init.cname, 'CNAME');
  const buf = Buffer.allocUnsafe(senderReportSize(blocks) + sdesCnameSize(cnameBytes));
  const pos = writeSenderReport(buf, 0, init.ssrc, init, blocks);
  writeSdesCname(buf, pos, init.ssrc, init.cname, cnameBytes);
  return buf;
}

/**
 * The compound packet sent when leaving a session: SR + SDES + BYE when `sender` is given (RFC 3550
 * 6.1: a participant that has sent data reports with SR), otherwise an empty RR + SDES + BYE.
 */
export function buildByeCompound(init: ByeCompoundInit): Buffer {
  const cnameBytes = textLength(init.cname, 'CNAME');
  const reasonBytes = init.reason === undefined ? -1 : textLength(init.reason, 'BYE reason');
  const head = init.sender === undefined ? receiverReportSize([]) : senderReportSize([]);
  const buf = Buffer.allocUnsafe(head + sdesCnameSize(cnameBytes) + byeSize(reasonBytes));
  let pos =
    init.sender === undefined
      ? writeReceiverReport(buf, 0, init.ssrc, [])
      : writeSenderReport(buf, 0, init.ssrc, init.sender, []);
  pos = writeSdesCname(buf, pos, init.ssrc, init.cname, cnameBytes);
  writeBye(buf, pos, init.ssrc, init.reason, reasonBytes);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Parsing

export interface RtcpSenderReportPacket extends RtcpSenderInfo {
  type: 'sr';
  ssrc: number;
  reportBlocks: RtcpReportBlock[];
}

export interface RtcpReceiverReportPacket {
  type: 'rr';
  ssrc: number;
  reportBlocks: RtcpReportBlock[];
}

export interface RtcpSdesItem {
  /** SDES item type (SDES_CNAME, ...). */
  type: number;
  /** Item text decoded as UTF-8 (for PRIV: prefix length, prefix and value as they are). */
  value: string;
}

export interface RtcpSdesChunk {
  ssrc: number;
  items: RtcpSdesItem[];
}

export interface RtcpSdesPacket {
  type: 'sdes';
  chunks: RtcpSdesChunk[];
}

export interface RtcpByePacket {
  type: 'bye';
  ssrcs: number[];
  reason: string | null;
}

export interface RtcpAppPacket {
  type: 'app';
  subtype: number;
  ssrc: number;
  /** Four ASCII characters. */
  name: string;
  /** View into the parsed buffer. */
  data: Buffer;
}

/** Any other packet type (e.g. RTPFB 205 / PSFB 206 feedback), kept generic. */
export interface RtcpUnknownPacket {
  type: 'unknown';
  packetType: number;
  /** The 5-bit count / format field. */
  count: number;
  /** Packet body after the 4-byte header, padding removed; a view into the parsed buffer. */
  body: Buffer;
}

export type RtcpPacket =
  | RtcpSenderReportPacket
  | RtcpReceiverReportPacket
  | RtcpSdesPacket
  | RtcpByePacket
  | RtcpAppPacket
  | RtcpUnknownPacket;

function readReportBlocks(buf: Buffer, pos: number, count: number): RtcpReportBlock[] {
  const blocks: RtcpReportBlock[] = new Array(count);
  for (let i = 0; i < count; i++, pos += REPORT_BLOCK_SIZE) {
    const lost24 = (buf[pos + 5] << 16) | (buf[pos + 6] << 8) | buf[pos + 7];
    blocks[i] = {
      ssrc: buf.readUInt32BE(pos),
      fractionLost: buf[pos + 4],
      cumulativeLost: (lost24 << 8) >> 8, // sign-extend 24 → 32 bits
      highestSequence: buf.readUInt32BE(pos + 8),
      jitter: buf.readUInt32BE(pos + 12),
      lastSr: buf.readUInt32BE(pos + 16),
      delaySinceLastSr: buf.readUInt32BE(pos + 20),
    };
  }
  return blocks;
}

function parseSdes(buf: Buffer, start: number, end: number, count: number): RtcpSdesPacket {
  const chunks: RtcpSdesChunk[] = [];
  let p = start;
  for (let c = 0; c < count; c++) {
    if (p + 4 > end) throw new RtcpFormatError(`SDES chunk ${c + 1} of ${count} runs past the packet end`);
    const chunkStart = p;
    const ssrc = buf.readUInt32BE(p);
    p += 4;
    const items: RtcpSdesItem[] = [];
    // A chunk's item list ends with a null octet and is padded to 32 bits. Tolerate a last chunk
    // that simply reaches the packet end without the null.
    while (p < end) {
      const type = buf[p];
      if (type === SDES_END) {
        p = chunkStart + Math.ceil((p + 1 - chunkStart) / 4) * 4;
        break;
      }
      if (p + 2 > end) throw new RtcpFormatError('SDES item header runs past the packet end');
      const length = buf[p + 1];
      if (p + 2 + length > end) throw new RtcpFormatError('SDES item text runs past the packet end');
      items.push({ type, value: buf.toString('utf8', p + 2, p + 2 + length) });
      p += 2 + length;
    }
    chunks.push({ ssrc, items });
  }
  return { type: 'sdes', chunks };
}

function parseBye(buf: Buffer, start: number, end: number, count: number): RtcpByePacket {
  if (start + 4 * count > end) throw new RtcpFormatError(`BYE with ${count} SSRCs runs past the packet end`);
  const ssrcs: number[] = new Array(count);
  for (let i = 0; i < count; i++) ssrcs[i] = buf.readUInt32BE(start + 4 * i);
  let reason: string | null = null;
  const p = start + 4 * count;
  if (p < end) {
    const length = buf[p];
    if (p + 1 + length > end) throw new RtcpFormatError('BYE reason runs past the packet end');
    reason = buf.toString('utf8', p + 1, p + 1 + length);
  }
  return { type: 'bye', ssrcs, reason };
}

/**
 * Splits a compound RTCP packet (or a single one) and decodes each part. Throws RtcpFormatError on
 * a wrong version, a length running past the end, bad padding or a body too short for its count.
 * Buffers in the result (APP data, unknown bodies) are views into `buf`.
 */
export function parseRtcpCompound(buf: Buffer): RtcpPacket[] {
  const length = buf.length;
  if (length < HEADER_SIZE) throw new RtcpFormatError(`RTCP packet too short: ${length} bytes`);
  const packets: RtcpPacket[] = [];
  let pos = 0;
  while (pos < length) {
    if (pos + HEADER_SIZE > length) throw new RtcpFormatError('RTCP header runs past the end');
    const b0 = buf[pos];
    if (b0 >>> 6 !== 2) throw new RtcpFormatError(`RTCP version ${b0 >>> 6}, expected 2`);
    const count = b0 & 0x1f;
    const packetType = buf[pos + 1];
    const size = (buf.readUInt16BE(pos + 2) + 1) * 4;
    if (pos + size > length) {
      throw new RtcpFormatError(`RTCP packet of ${size} bytes runs past the end (${length - pos} left)`);
    }
    const start = pos + HEADER_SIZE;
    let end = pos + size;
    if ((b0 & 0x20) !== 0) {
      const padding = buf[end - 1];
      if (padding === 0 || padding > size - HEADER_SIZE)
        throw new RtcpFormatError(`bad RTCP padding ${padding}`);
      end -= padding;
    }
    const bodyLength = end - start;
    switch (packetType) {
      case RTCP_SR: {
        if (bodyLength < 4 + SENDER_INFO_SIZE + REPORT_BLOCK_SIZE * count) {
          throw new RtcpFormatError(`SR with ${count} report blocks is too short`);
        }
        packets.push({
          type: 'sr',
          ssrc: buf.readUInt32BE(start),
          ntpSeconds: buf.readUInt32BE(start + 4),
          ntpFraction: buf.readUInt32BE(start + 8),
          rtpTimestamp: buf.readUInt32BE(start + 12),
          packetCount: buf.readUInt32BE(start + 16),
          octetCount: buf.readUInt32BE(start + 20),
          reportBlocks: readReportBlocks(buf, start + 24, count),
        });
        break;
      }
      case RTCP_RR: {
        if (bodyLength < 4 + REPORT_BLOCK_SIZE * count) {
          throw new RtcpFormatError(`RR with ${count} report blocks is too short`);
        }
        packets.push({
          type: 'rr',
          ssrc: buf.readUInt32BE(start),
          reportBlocks: readReportBlocks(buf, start + 4, count),
        });
        break;
      }
      case RTCP_SDES:
        packets.push(parseSdes(buf, start, end, count));
        break;
      case RTCP_BYE:
        packets.push(parseBye(buf, start, end, count));
        break;
      case RTCP_APP: {
        if (bodyLength < 8) throw new RtcpFormatError('APP packet too short');
        packets.push({
          type: 'app',
          subtype: count,
          ssrc: buf.readUInt32BE(start),
          name: buf.toString('latin1', start + 4, start + 8),
          data: buf.subarray(start + 8, end),
        });
        break;
      }
      default:
        packets.push({ type: 'unknown', packetType, count, body: buf.subarray(start, end) });
    }
    pos += size;
  }
  return packets;
}

/** The CNAME of `ssrc` (or of the first chunk carrying one when ssrc is omitted), or null. */
export function findCname(packets: readonly RtcpPacket[], ssrc?: number): string | null {
  for (const packet of packets) {
    if (packet.type !== 'sdes') continue;
    for (const chunk of packet.chunks) {
      if (ssrc !== undefined && chunk.ssrc !== ssrc) continue;
      for (const item of chunk.items) if (item.type === SDES_CNAME) return item.value;
    }
  }
  return null;
}
