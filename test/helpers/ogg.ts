/**
 * A small Ogg reader (RFC 3533) and the Ogg Opus headers (RFC 7845): enough to take the packets out
 * of what `ffmpeg -c:a libopus -f ogg` writes and send them one per RTP packet. Only the tests use it.
 */
import { Buffer } from 'node:buffer';
import { MediaFormatError } from '../../src/codecs/errors.js';

const CAPTURE = 0x5367674f; // 'OggS' read little-endian
const PAGE_HEADER_SIZE = 27;

export const OGG_CONTINUED = 0x01;
export const OGG_BOS = 0x02;
export const OGG_EOS = 0x04;

export interface OggPage {
  /** Offset of 'OggS' in the input. */
  offset: number;
  headerType: number;
  /** -1 when no packet ends on this page. */
  granulePosition: bigint;
  serial: number;
  sequence: number;
  /** Lacing values. */
  segments: Uint8Array;
  /** Page body: a view of the input. */
  body: Buffer;
}

export interface OggPacket {
  data: Buffer;
  serial: number;
  /** Granule position of the page this packet ends on, for the last packet ending there; else undefined. */
  granulePosition: bigint | undefined;
}

// CRC-32 of Ogg: polynomial 0x04c11db7, MSB first, initial value 0, no final xor.
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let b = 0; b < 8; b++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

/** CRC of a page, its checksum field counted as zero. */
export function oggPageCrc(page: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < page.length; i++) {
    const byte = i >= 22 && i < 26 ? 0 : page[i];
    crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ byte) & 0xff]) >>> 0;
  }
  return crc;
}

/**
 * Every page of an Ogg file, in order. Throws MediaFormatError on a missing capture pattern, an
 * unknown version, a page cut off at the end or (with `verifyCrc`, the default) a bad checksum.
 */
export function parseOggPages(data: Buffer, options: { verifyCrc?: boolean } = {}): OggPage[] {
  const verify = options.verifyCrc ?? true;
  const pages: OggPage[] = [];
  let pos = 0;
  while (pos < data.length) {
    if (data.length - pos < PAGE_HEADER_SIZE) throw new MediaFormatError(`Ogg page header cut off at ${pos}`);
    if (data.readUInt32LE(pos) !== CAPTURE) throw new MediaFormatError(`no Ogg capture pattern at ${pos}`);
    if (data[pos + 4] !== 0) throw new MediaFormatError(`Ogg version ${data[pos + 4]} at ${pos}`);
    const count = data[pos + 26];
    const bodyStart = pos + PAGE_HEADER_SIZE + count;
    if (bodyStart > data.length) throw new MediaFormatError(`Ogg segment table cut off at ${pos}`);
    const segments = data.subarray(pos + PAGE_HEADER_SIZE, bodyStart);
    let bodyLength = 0;
    for (let i = 0; i < count; i++) bodyLength += segments[i];
    const end = bodyStart + bodyLength;
    if (end > data.length) throw new MediaFormatError(`Ogg page at ${pos} cut off`);
    if (verify) {
      const stored = data.readUInt32LE(pos + 22);
      const computed = oggPageCrc(data.subarray(pos, end));
      if (stored !== computed) throw new MediaFormatError(`Ogg page at ${pos}: bad CRC`);
    }
    pages.push({
      offset: pos,
      headerType: data[pos + 5],
      granulePosition: data.readBigInt64LE(pos + 6),
      serial: data.readUInt32LE(pos + 14),
      sequence: data.readUInt32LE(pos + 18),
      segments,
      body: data.subarray(bodyStart, end),
    });
    pos = end;
  }
  return pages;
}

/**
 * The packets of every logical stream, in the order they complete. A packet spread over pages is
 * joined; one still open at the end of the data is dropped (a truncated file).
 */
export function readOggPackets(data: Buffer, options: { verifyCrc?: boolean } = {}): OggPacket[] {
  const packets: OggPacket[] = [];
  const open = new Map<number, Buffer[]>();
  for (const page of parseOggPages(data, options)) {
    let parts = open.get(page.serial) ?? [];
    const continued = (page.headerType & OGG_CONTINUED) !== 0;
    // An open packet the page does not continue is lost; so is the first packet of a continued
    // page whose beginning we never saw.
    if (!continued) parts = [];
    let orphan = continued && parts.length === 0;
    let pos = 0;
    let segmentStart = 0;
    const done: Buffer[] = [];
    for (let i = 0; i < page.segments.length; i++) {
      pos += page.segments[i];
      if (page.segments[i] < 255) {
        parts.push(page.body.subarray(segmentStart, pos));
        if (orphan) orphan = false;
        else done.push(parts.length === 1 ? parts[0] : Buffer.concat(parts));
        parts = [];
        segmentStart = pos;
      }
    }
    const lastComplete = done.length - 1;
    // A last lacing value of 255: the packet goes on in the next page.
    if (segmentStart < pos && !orphan) parts.push(page.body.subarray(segmentStart, pos));
    open.set(page.serial, parts);
    done.forEach((packet, i) => {
      packets.push({
        data: packet,
        serial: page.serial,
        granulePosition: i === lastComplete ? page.granulePosition : undefined,
      });
    });
  }
  return packets;
}

/** The Ogg Opus identification header (RFC 7845 section 5.1). */
export interface OpusHead {
  version: number;
  channels: number;
  /** Samples (48 kHz) to drop from the decoder output at the start. */
  preSkip: number;
  /** Rate of the original input, informational (0 when unknown). */
  inputSampleRate: number;
  /** Q7.8 dB. */
  outputGain: number;
  mappingFamily: number;
}

export function parseOpusHead(packet: Buffer): OpusHead {
  if (packet.length < 19 || packet.toString('latin1', 0, 8) !== 'OpusHead') {
    throw new MediaFormatError('not an OpusHead packet');
  }
  const version = packet[8];
  if (version >>> 4 !== 0) throw new MediaFormatError(`unsupported Ogg Opus version ${version}`);
  const channels = packet[9];
  if (channels === 0) throw new MediaFormatError('OpusHead with 0 channels');
  return {
    version,
    channels,
    preSkip: packet.readUInt16LE(10),
    inputSampleRate: packet.readUInt32LE(12),
    outputGain: packet.readInt16LE(16),
    mappingFamily: packet[18],
  };
}

export interface OggOpusStream {
  head: OpusHead;
  serial: number;
  /** Audio packets in order (headers excluded). */
  packets: Buffer[];
}

/**
 * The first Opus stream of an Ogg file: its OpusHead and its audio packets (OpusTags skipped).
 * Throws MediaFormatError when there is none.
 */
export function parseOggOpus(data: Buffer, options: { verifyCrc?: boolean } = {}): OggOpusStream {
  const all = readOggPackets(data, options);
  const headIndex = all.findIndex(
    (p) => p.data.length >= 8 && p.data.toString('latin1', 0, 8) === 'OpusHead',
  );
  if (headIndex < 0) throw new MediaFormatError('no Opus stream in the Ogg data');
  const head = parseOpusHead(all[headIndex].data);
  const serial = all[headIndex].serial;
  const own = all.slice(headIndex + 1).filter((p) => p.serial === serial);
  const tags = own[0];
  if (tags === undefined || tags.data.toString('latin1', 0, 8) !== 'OpusTags') {
    throw new MediaFormatError('Ogg Opus stream without an OpusTags packet');
  }
  return { head, serial, packets: own.slice(1).map((p) => p.data) };
}
