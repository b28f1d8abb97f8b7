/**
 * Motion JPEG over RTP (RFC 2435). Each packet carries, in order:
 *
 *   main JPEG header (8 bytes): type-specific (0) | fragment offset (24 bits) | type | Q | width/8 | height/8
 *   restart marker header (4 bytes, types 64 and 65 only): restart interval | F=1 L=1 count=0x3fff
 *   quantization table header (first packet only, Q = 255): MBZ | precision | length | tables
 *   a fragment of the entropy-coded scan (the JPEG headers are not sent; the receiver rebuilds them)
 *
 * Q = 255 sends the frame's own tables in every frame, so any encoder quality works. Restart
 * intervals are not aligned to packets (F = L = 1, count 0x3fff: reassemble the whole frame first,
 * RFC 2435 3.1.7). Static payload type 26, 90 kHz clock; every frame is a keyframe.
 */

import type { RtpBatchWriter, RtpPacketBatch } from '../../rtp/batch.js';
import { MediaFormatError } from '../errors.js';
import { type JpegFrame, parseJpeg } from './jpeg.js';

export const MAIN_HEADER_SIZE = 8;
export const RESTART_HEADER_SIZE = 4;
export const QUANT_HEADER_SIZE = 4;
/** Widest and tallest picture the 8-bit width/8 and height/8 fields describe. */
export const MAX_DIMENSION = 2040;
/** First packet with restart header, two 16-bit tables and one byte of scan. */
const MIN_MTU = MAIN_HEADER_SIZE + RESTART_HEADER_SIZE + QUANT_HEADER_SIZE + 256 + 1;

export interface MjpegPacketizerOptions {
  /** Largest RTP payload in bytes (default 1400, at least 273). */
  mtu?: number;
}

export class MjpegPacketizer {
  private readonly mtu: number;
  private last: { width: number; height: number } | undefined;

  constructor(options: MjpegPacketizerOptions = {}) {
    const mtu = options.mtu ?? 1400;
    if (!Number.isInteger(mtu) || mtu < MIN_MTU || mtu > 0xffff - 12) {
      throw new RangeError(`mtu must be ${MIN_MTU}..65523 payload bytes, got ${mtu}`);
    }
    this.mtu = mtu;
  }

  /** Size of the last frame packetized. */
  get dimensions(): { width: number; height: number } | undefined {
    return this.last;
  }

  /** Packetizes one JPEG. Throws MediaFormatError when RFC 2435 cannot carry it (see parseJpeg). */
  packetize(jpeg: Buffer, rtpTimestamp: number, writer: RtpBatchWriter): RtpPacketBatch {
    return this.packetizeFrame(parseJpeg(jpeg), rtpTimestamp, writer);
  }

  /** Packetizes an already parsed frame. */
  packetizeFrame(frame: JpegFrame, rtpTimestamp: number, writer: RtpBatchWriter): RtpPacketBatch {
    if (frame.width > MAX_DIMENSION || frame.height > MAX_DIMENSION) {
      throw new MediaFormatError(`JPEG ${frame.width}x${frame.height}: RTP/JPEG carries at most 2040x2040`);
    }
    const scan = frame.scan;
    if (scan.length === 0) throw new MediaFormatError('JPEG with an empty scan');
    if (scan.length > 0xffffff) throw new MediaFormatError('JPEG scan beyond the 24-bit fragment offset');
    this.last = { width: frame.width, height: frame.height };

    const restart = frame.restartInterval > 0;
    const [luma, chroma] = frame.quantTables;
    const tablesLength = luma.data.length + chroma.data.length;
    const headers = MAIN_HEADER_SIZE + (restart ? RESTART_HEADER_SIZE : 0);
    const firstHeaders = headers + QUANT_HEADER_SIZE + tablesLength;
    const firstChunk = Math.min(this.mtu - firstHeaders, scan.length);
    const chunk = this.mtu - headers;
    const packetCount = 1 + Math.ceil((scan.length - firstChunk) / chunk);
    const payloadOctets = scan.length + packetCount * headers + QUANT_HEADER_SIZE + tablesLength;

    writer.begin(packetCount, payloadOctets, rtpTimestamp, true);
    const buf = writer.buffer;
    const type = frame.type + (restart ? 64 : 0);
    const width8 = Math.ceil(frame.width / 8);
    const height8 = Math.ceil(frame.height / 8);
    let offset = 0;
    for (let i = 0; i < packetCount; i++) {
      const length = i === 0 ? firstChunk : Math.min(chunk, scan.length - offset);
      let p = writer.startPacket((i === 0 ? firstHeaders : headers) + length);
      buf[p++] = 0; // type-specific: progressive frame
      buf[p++] = offset >>> 16;
      buf[p++] = (offset >>> 8) & 0xff;
      buf[p++] = offset & 0xff;
      buf[p++] = type;
      buf[p++] = 255; // Q: tables in-band
      buf[p++] = width8;
      buf[p++] = height8;
      if (restart) {
        buf[p++] = frame.restartInterval >>> 8;
        buf[p++] = frame.restartInterval & 0xff;
        buf[p++] = 0xff; // F = 1, L = 1, restart count 0x3fff
        buf[p++] = 0xff;
      }
      if (i === 0) {
        buf[p++] = 0; // MBZ
        buf[p++] = luma.precision | (chroma.precision << 1);
        buf[p++] = tablesLength >>> 8;
        buf[p++] = tablesLength & 0xff;
        buf.set(luma.data, p);
        p += luma.data.length;
        buf.set(chroma.data, p);
        p += chroma.data.length;
      }
      scan.copy(buf, p, offset, offset + length);
      offset += length;
    }
    return writer.finish();
  }
}
