/**
 * The JPEG (ITU-T T.81 / JFIF) side of RFC 2435: reading what an RTP/JPEG sender needs out of a
 * baseline JPEG (size, sampling, quantization tables, restart interval, entropy-coded scan), and
 * writing the headers back in front of a received scan so any decoder takes it.
 *
 * RFC 2435 can only carry a single interleaved scan of Y, Cb, Cr with Y sampled 2x1 (type 0, 4:2:2)
 * or 2x2 (type 1, 4:2:0), chroma 1x1 sharing one quantization table, and the Annex K Huffman
 * tables. Anything else is rejected with a MediaFormatError naming what is unsupported.
 */
import { Buffer } from 'node:buffer';
import { MediaFormatError } from '../errors.js';
import { STANDARD_HUFFMAN_TABLES, standardHuffmanTable } from './tables.js';

export const SOI = 0xd8;
export const EOI = 0xd9;
export const SOF0 = 0xc0;
export const SOF1 = 0xc1;
export const DHT = 0xc4;
export const DQT = 0xdb;
export const DRI = 0xdd;
export const SOS = 0xda;

export interface QuantTable {
  /** 0: 8-bit entries (64 bytes), 1: 16-bit entries (128 bytes). */
  precision: 0 | 1;
  /** Zig-zag order, as in DQT. */
  data: Buffer;
}

export interface JpegFrame {
  width: number;
  height: number;
  /** RFC 2435 type without the restart offset: 0 = 4:2:2, 1 = 4:2:0. */
  type: 0 | 1;
  /** DRI value in MCUs; 0 when there are no restart markers. */
  restartInterval: number;
  /** [luma, chroma] tables. */
  quantTables: [QuantTable, QuantTable];
  /** Entropy-coded data from after the SOS header up to (not including) EOI: a view of the input. */
  scan: Buffer;
}

interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
}

/**
 * Reads a baseline JPEG for RTP/JPEG. Throws MediaFormatError when it is not a JPEG, is cut off,
 * or uses something RFC 2435 cannot carry (progressive or 12-bit coding, grayscale, other
 * sampling, optimized Huffman tables, several scans).
 */
export function parseJpeg(jpeg: Buffer): JpegFrame {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== SOI)
    throw new MediaFormatError('not a JPEG (no SOI)');
  const tables = new Map<number, QuantTable>();
  const huffman = new Map<number, Buffer>(); // (class << 4 | id) → counts + symbols
  let components: Component[] | null = null;
  let width = 0;
  let height = 0;
  let restartInterval = 0;
  let pos = 2;
  for (;;) {
    if (pos >= jpeg.length) throw new MediaFormatError('JPEG ends before its scan');
    if (jpeg[pos] !== 0xff) throw new MediaFormatError(`JPEG: expected a marker at ${pos}`);
    while (pos < jpeg.length && jpeg[pos] === 0xff) pos++; // fill bytes
    if (pos >= jpeg.length) throw new MediaFormatError('JPEG ends inside a marker');
    const marker = jpeg[pos++];
    if (marker === EOI) throw new MediaFormatError('JPEG has no scan');
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // standalone
    if (pos + 2 > jpeg.length) throw new MediaFormatError('JPEG segment length cut off');
    const length = jpeg.readUInt16BE(pos);
    const end = pos + length;
    if (length < 2 || end > jpeg.length) throw new MediaFormatError(`JPEG segment 0x${hex2(marker)} cut off`);
    const body = jpeg.subarray(pos + 2, end);
    pos = end;
    switch (marker) {
      case DQT:
        readDqt(body, tables);
        break;
      case DHT:
        readDht(body, huffman);
        break;
      case DRI:
        if (body.length < 2) throw new MediaFormatError('JPEG DRI segment too short');
        restartInterval = body.readUInt16BE(0);
        break;
      case SOF0:
      case SOF1: {
        if (body.length < 6) throw new MediaFormatError('JPEG SOF segment too short');
        if (body[0] !== 8)
          throw new MediaFormatError(`${body[0]}-bit JPEG samples: RTP/JPEG carries 8-bit only`);
        height = body.readUInt16BE(1);
        width = body.readUInt16BE(3);
        const count = body[5];
        if (body.length < 6 + 3 * count) throw new MediaFormatError('JPEG SOF segment too short');
        components = [];
        for (let i = 0; i < count; i++) {
          const o = 6 + 3 * i;
          components.push({ id: body[o], h: body[o + 1] >> 4, v: body[o + 1] & 15, tq: body[o + 2] });
        }
        break;
      }
      case SOS: {
        if (components === null) throw new MediaFormatError('JPEG scan before its frame header');
        const frame = components;
        checkScan(body, frame, huffman);
        const scanEnd = findScanEnd(jpeg, pos);
        const type = frameType(frame);
        if (width === 0 || height === 0)
          throw new MediaFormatError('JPEG with zero width or height (DNL unsupported)');
        const luma = tables.get(frame[0].tq);
        const chroma = tables.get(frame[1].tq);
        if (luma === undefined || chroma === undefined) {
          throw new MediaFormatError('JPEG quantization table used by a component is not defined');
        }
        return {
          width,
          height,
          type,
          restartInterval,
          quantTables: [luma, chroma],
          scan: jpeg.subarray(pos, scanEnd),
        };
      }
      default:
        if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc8 && marker !== 0xcc) {
          throw new MediaFormatError(
            `JPEG coding process 0x${hex2(marker)} (not baseline Huffman) is not supported`,
          );
        }
      // APPn, COM and others carry nothing RTP/JPEG sends.
    }
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

function readDqt(body: Buffer, tables: Map<number, QuantTable>): void {
  let p = 0;
  while (p < body.length) {
    const precision = body[p] >> 4;
    const id = body[p] & 15;
    if (precision > 1 || id > 3) throw new MediaFormatError(`bad JPEG DQT entry 0x${hex2(body[p])}`);
    const size = precision === 0 ? 64 : 128;
    if (p + 1 + size > body.length) throw new MediaFormatError('JPEG DQT table cut off');
    tables.set(id, { precision: precision as 0 | 1, data: body.subarray(p + 1, p + 1 + size) });
    p += 1 + size;
  }
}

function readDht(body: Buffer, huffman: Map<number, Buffer>): void {
  let p = 0;
  while (p < body.length) {
    if (p + 17 > body.length) throw new MediaFormatError('JPEG DHT table cut off');
    let symbols = 0;
    for (let i = 1; i <= 16; i++) symbols += body[p + i];
    const size = 17 + symbols;
    if (p + size > body.length) throw new MediaFormatError('JPEG DHT table cut off');
    huffman.set(body[p], body.subarray(p + 1, p + size));
    p += size;
  }
}

/** One interleaved scan of the frame's three components with the RFC 2435 table assignment. */
function checkScan(body: Buffer, frame: Component[], huffman: Map<number, Buffer>): void {
  if (frame.length !== 3) {
    throw new MediaFormatError(`JPEG with ${frame.length} components: RTP/JPEG carries YCbCr only`);
  }
  const count = body[0];
  if (count !== 3 || body.length < 1 + 2 * count + 3) {
    throw new MediaFormatError('JPEG with several scans (non-interleaved) is not supported');
  }
  for (let i = 0; i < 3; i++) {
    const selector = body[2 + 2 * i];
    if (body[1 + 2 * i] !== frame[i].id)
      throw new MediaFormatError('JPEG scan components out of frame order');
    const want = i === 0 ? 0 : 1;
    if (selector >> 4 !== want || (selector & 15) !== want) {
      throw new MediaFormatError('JPEG Huffman table assignment differs from the RFC 2435 one');
    }
    for (const tableClass of [0, 1]) {
      const key = (tableClass << 4) | want;
      const given = huffman.get(key);
      const standard = standardHuffmanTable(tableClass, want)!;
      if (given !== undefined && !given.equals(Buffer.concat([standard.counts, standard.symbols]))) {
        throw new MediaFormatError(
          'JPEG with non-standard Huffman tables (RTP/JPEG assumes T.81 Annex K; encode with ffmpeg -huffman default)',
        );
      }
    }
  }
  const ss = body[1 + 2 * count];
  const se = body[2 + 2 * count];
  const ahal = body[3 + 2 * count];
  if (ss !== 0 || se !== 63 || ahal !== 0) throw new MediaFormatError('JPEG scan is not sequential DCT');
}

function frameType(frame: Component[]): 0 | 1 {
  const [y, cb, cr] = frame;
  if (cb.h !== 1 || cb.v !== 1 || cr.h !== 1 || cr.v !== 1 || y.h !== 2 || (y.v !== 1 && y.v !== 2)) {
    throw new MediaFormatError(
      `JPEG sampling ${y.h}x${y.v},${cb.h}x${cb.v},${cr.h}x${cr.v}: RTP/JPEG carries 4:2:2 (2x1) or 4:2:0 (2x2)`,
    );
  }
  if (cb.tq !== cr.tq) throw new MediaFormatError('JPEG Cb and Cr use different quantization tables');
  return y.v === 1 ? 0 : 1;
}

/**
 * End of the entropy-coded segment starting at `start`: the first marker other than a stuffed
 * 0xff00 or a restart marker. It must be EOI (a single scan).
 */
function findScanEnd(jpeg: Buffer, start: number): number {
  let p = start;
  for (;;) {
    p = jpeg.indexOf(0xff, p);
    if (p < 0 || p + 1 >= jpeg.length) throw new MediaFormatError('JPEG scan has no EOI');
    const next = jpeg[p + 1];
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) {
      p += 2;
      continue;
    }
    if (next === 0xff) {
      p += 1; // fill byte before a marker
      continue;
    }
    if (next !== EOI)
      throw new MediaFormatError(`JPEG marker 0x${hex2(next)} after the scan (one scan only)`);
    // Fill bytes belong to the marker, not to the scan.
    let end = p;
    while (end > start && jpeg[end - 1] === 0xff) end--;
    return end;
  }
}

export interface JpegHeaderOptions {
  type: 0 | 1;
  width: number;
  height: number;
  quantTables: [QuantTable, QuantTable];
  restartInterval?: number;
}

/**
 * SOI, DQT (both tables), SOF0, DHT (Annex K tables), DRI when there is an interval, SOS: what goes
 * in front of an RTP/JPEG scan to make a JFIF-less but complete baseline JPEG. Components are
 * numbered 1, 2, 3 as JFIF does.
 */
export function buildJpegHeader(options: JpegHeaderOptions): Buffer {
  const { type, width, height, quantTables } = options;
  const parts: Buffer[] = [Buffer.from([0xff, SOI])];

  const dqtBody = Buffer.concat(
    quantTables.flatMap((t, id) => [Buffer.from([(t.precision << 4) | id]), t.data]),
  );
  parts.push(segment(DQT, dqtBody));

  const sof = Buffer.alloc(15);
  sof[0] = 8;
  sof.writeUInt16BE(height, 1);
  sof.writeUInt16BE(width, 3);
  sof[5] = 3;
  sof.set([1, type === 0 ? 0x21 : 0x22, 0], 6);
  sof.set([2, 0x11, 1], 9);
  sof.set([3, 0x11, 1], 12);
  parts.push(segment(SOF0, sof));

  const dht = Buffer.concat(
    STANDARD_HUFFMAN_TABLES.flatMap((t) => [Buffer.from([(t.tableClass << 4) | t.id]), t.counts, t.symbols]),
  );
  parts.push(segment(DHT, dht));

  const interval = options.restartInterval ?? 0;
  if (interval > 0) {
    const dri = Buffer.alloc(2);
    dri.writeUInt16BE(interval, 0);
    parts.push(segment(DRI, dri));
  }

  parts.push(segment(SOS, Buffer.from([3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0])));
  return Buffer.concat(parts);
}

function segment(marker: number, body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head[0] = 0xff;
  head[1] = marker;
  head.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([head, body]);
}
