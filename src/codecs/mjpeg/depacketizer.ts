/**
 * RTP/JPEG (RFC 2435) → complete JPEG files: collects a frame's fragments in offset order and puts
 * the headers back in front of the scan (quantization tables from the packet when Q >= 128, from
 * the Q factor otherwise; Annex K Huffman tables; DRI for types 64-127). Types 0/1 and 64/65 only.
 */
import { Buffer } from 'node:buffer';
import { RtpFormatError } from '../../rtp/errors.js';
import { readRtpHeader } from '../../rtp/packet.js';
import { buildJpegHeader, EOI, type QuantTable } from './jpeg.js';
import { MAIN_HEADER_SIZE, QUANT_HEADER_SIZE, RESTART_HEADER_SIZE } from './packetizer.js';
import { quantTablesForQ } from './tables.js';

export interface JpegPicture {
  /** A complete JPEG (SOI ... EOI). */
  jpeg: Buffer;
  timestamp: number;
  /** From the main header: multiples of 8. */
  width: number;
  height: number;
  /** RFC 2435 type as received (0, 1, 64, 65). */
  type: number;
  q: number;
}

const MAX_MISORDER = 100;

interface FrameInProgress {
  timestamp: number;
  type: number;
  q: number;
  width: number;
  height: number;
  restartInterval: number;
  tables: [QuantTable, QuantTable];
  parts: Buffer[];
  length: number;
}

/**
 * Receiving side of RFC 2435 (Motion JPEG): takes RTP packets (`push`, one whole packet with its
 * RTP header) and gives each frame as a complete JPEG file (headers rebuilt) once its marker
 * arrives; incomplete frames are dropped (`droppedFrames`). Public API for relays, recording and
 * RTSP clients.
 */
export class MjpegDepacketizer {
  private frame: FrameInProgress | null = null;
  private expectedSeq = -1;
  private lost = 0;
  private dropped = 0;
  /** Tables of Q 128..254, which a sender may send once and then omit (RFC 2435 3.1.8). */
  private readonly staticTables = new Map<number, [QuantTable, QuantTable]>();

  get lostPackets(): number {
    return this.lost;
  }

  /** Frames given up because a fragment was missing. */
  get droppedFrames(): number {
    return this.dropped;
  }

  /**
   * Takes one RTP packet; returns the JPEG its marker completes, else null. Throws RtpFormatError
   * on a malformed or unsupported payload; the frame in progress is then dropped.
   */
  push(packet: Buffer): JpegPicture | null {
    const header = readRtpHeader(packet);
    let p = header.payloadOffset;
    const end = p + header.payloadLength;

    const seq = header.sequenceNumber;
    if (this.expectedSeq >= 0 && seq !== this.expectedSeq) {
      const ahead = (seq - this.expectedSeq) & 0xffff;
      if (ahead >= 0x10000 - MAX_MISORDER) return null;
      this.lost += ahead;
      this.dropFrame();
    }
    this.expectedSeq = (seq + 1) & 0xffff;

    if (end - p < MAIN_HEADER_SIZE) return this.fail('RTP/JPEG packet shorter than its main header');
    const fragmentOffset = (packet[p + 1] << 16) | (packet[p + 2] << 8) | packet[p + 3];
    const type = packet[p + 4];
    const q = packet[p + 5];
    const width = packet[p + 6] * 8;
    const height = packet[p + 7] * 8;
    p += MAIN_HEADER_SIZE;
    if ((type & 63) > 1 || type > 127) return this.fail(`RTP/JPEG type ${type} is not supported`);
    if (q === 0) return this.fail('RTP/JPEG Q of 0 is reserved');
    let restartInterval = 0;
    if (type >= 64) {
      if (end - p < RESTART_HEADER_SIZE) return this.fail('RTP/JPEG restart marker header cut off');
      restartInterval = (packet[p] << 8) | packet[p + 1];
      p += RESTART_HEADER_SIZE;
    }

    if (fragmentOffset === 0) {
      this.dropFrame();
      let tables: [QuantTable, QuantTable];
      if (q >= 128) {
        if (end - p < QUANT_HEADER_SIZE) return this.fail('RTP/JPEG quantization table header cut off');
        const precision = packet[p + 1];
        const length = (packet[p + 2] << 8) | packet[p + 3];
        p += QUANT_HEADER_SIZE;
        if (length === 0) {
          const known = q < 255 ? this.staticTables.get(q) : undefined;
          if (known === undefined) return this.fail(`RTP/JPEG Q=${q} without tables`);
          tables = known;
        } else {
          const lumaSize = precision & 1 ? 128 : 64;
          const chromaSize = precision & 2 ? 128 : 64;
          // One table only (ffmpeg's encoder, whose JPEGs carry a single DQT): both components use it.
          const single = length === lumaSize;
          if ((!single && length < lumaSize + chromaSize) || end - p < length) {
            return this.fail('RTP/JPEG quantization tables cut off');
          }
          const luma: QuantTable = {
            precision: lumaSize === 128 ? 1 : 0,
            data: Buffer.from(packet.subarray(p, p + lumaSize)),
          };
          tables = single
            ? [luma, luma]
            : [
                luma,
                {
                  precision: chromaSize === 128 ? 1 : 0,
                  data: Buffer.from(packet.subarray(p + lumaSize, p + lumaSize + chromaSize)),
                },
              ];
          if (q < 255) this.staticTables.set(q, tables);
          p += length;
        }
      } else {
        const [luma, chroma] = quantTablesForQ(q);
        tables = [
          { precision: 0, data: luma },
          { precision: 0, data: chroma },
        ];
      }
      this.frame = {
        timestamp: header.timestamp,
        type,
        q,
        width,
        height,
        restartInterval,
        tables,
        parts: [],
        length: 0,
      };
    } else {
      const frame = this.frame;
      if (frame === null || frame.timestamp !== header.timestamp || frame.length !== fragmentOffset) {
        this.dropFrame(); // its first packet, or one in the middle, was lost
        return null;
      }
    }

    const frame = this.frame!;
    const data = packet.subarray(p, end);
    frame.parts.push(data);
    frame.length += data.length;
    if (!header.marker) return null;

    this.frame = null;
    const head = buildJpegHeader({
      type: (frame.type & 1) as 0 | 1,
      width: frame.width,
      height: frame.height,
      quantTables: frame.tables,
      restartInterval: frame.restartInterval,
    });
    const scan = Buffer.concat(frame.parts, frame.length);
    const endsWithEoi = scan.length >= 2 && scan[scan.length - 2] === 0xff && scan[scan.length - 1] === EOI;
    const jpeg = Buffer.concat([head, scan, endsWithEoi ? Buffer.alloc(0) : Buffer.from([0xff, EOI])]);
    return {
      jpeg,
      timestamp: frame.timestamp,
      width: frame.width,
      height: frame.height,
      type: frame.type,
      q: frame.q,
    };
  }

  private dropFrame(): void {
    if (this.frame !== null) {
      this.dropped++;
      this.frame = null;
    }
  }

  private fail(message: string): never {
    this.dropFrame();
    throw new RtpFormatError(message);
  }
}
