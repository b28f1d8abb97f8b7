/**
 * The tables RFC 2435 relies on: the example quantization tables of ITU-T T.81 Annex K.1 with the
 * Q-factor scaling of RFC 2435 Appendix A, and the typical Huffman tables of Annex K.3, which every
 * RTP/JPEG frame is assumed to use (the format has no way to carry others).
 */
import { Buffer } from 'node:buffer';

/** ZIGZAG[k] = natural (row-major) index of the k-th coefficient in zig-zag order. */
export const ZIGZAG: readonly number[] = (() => {
  const order: number[] = [];
  for (let sum = 0; sum < 15; sum++) {
    // Odd diagonals run top-right to bottom-left, even ones the other way.
    const cells: number[] = [];
    for (let row = 0; row < 8; row++) {
      const col = sum - row;
      if (col >= 0 && col < 8) cells.push(row * 8 + col);
    }
    if (sum % 2 === 0) cells.reverse();
    order.push(...cells);
  }
  return order;
})();

/** T.81 Table K.1, natural order. */
const LUMA_QUANT_NATURAL = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22,
  29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103,
  121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/** T.81 Table K.2, natural order. */
const CHROMA_QUANT_NATURAL = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99,
  99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/**
 * The luma and chroma tables (8-bit, zig-zag order, as in a DQT) that Q = 1..99 stands for
 * (RFC 2435 section 4.2 and Appendix A: libjpeg's quality scaling of the Annex K tables).
 */
export function quantTablesForQ(q: number): [luma: Buffer, chroma: Buffer] {
  const factor = Math.min(Math.max(Math.trunc(q), 1), 99);
  const scale = factor < 50 ? Math.trunc(5000 / factor) : 200 - factor * 2;
  const make = (natural: readonly number[]): Buffer => {
    const table = Buffer.alloc(64);
    for (let k = 0; k < 64; k++) {
      const value = Math.trunc((natural[ZIGZAG[k]] * scale + 50) / 100);
      table[k] = Math.min(Math.max(value, 1), 255);
    }
    return table;
  };
  return [make(LUMA_QUANT_NATURAL), make(CHROMA_QUANT_NATURAL)];
}

export interface HuffmanTable {
  /** 0 = DC, 1 = AC. */
  tableClass: number;
  /** Destination 0 (luma) or 1 (chroma). */
  id: number;
  /** BITS: number of codes of each length 1..16. */
  counts: Buffer;
  /** HUFFVAL. */
  symbols: Buffer;
}

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** T.81 Annex K.3 tables in DHT order: DC luma, AC luma, DC chroma, AC chroma. */
export const STANDARD_HUFFMAN_TABLES: readonly HuffmanTable[] = [
  {
    tableClass: 0,
    id: 0,
    counts: hex('00 01 05 01 01 01 01 01 01 00 00 00 00 00 00 00'),
    symbols: hex('00 01 02 03 04 05 06 07 08 09 0a 0b'),
  },
  {
    tableClass: 1,
    id: 0,
    counts: hex('00 02 01 03 03 02 04 03 05 05 04 04 00 00 01 7d'),
    symbols: hex(
      '01 02 03 00 04 11 05 12 21 31 41 06 13 51 61 07 22 71 14 32 81 91 a1 08 23 42 b1 c1 15 52 d1 f0' +
        '24 33 62 72 82 09 0a 16 17 18 19 1a 25 26 27 28 29 2a 34 35 36 37 38 39 3a 43 44 45 46 47 48 49' +
        '4a 53 54 55 56 57 58 59 5a 63 64 65 66 67 68 69 6a 73 74 75 76 77 78 79 7a 83 84 85 86 87 88 89' +
        '8a 92 93 94 95 96 97 98 99 9a a2 a3 a4 a5 a6 a7 a8 a9 aa b2 b3 b4 b5 b6 b7 b8 b9 ba c2 c3 c4 c5' +
        'c6 c7 c8 c9 ca d2 d3 d4 d5 d6 d7 d8 d9 da e1 e2 e3 e4 e5 e6 e7 e8 e9 ea f1 f2 f3 f4 f5 f6 f7 f8' +
        'f9 fa',
    ),
  },
  {
    tableClass: 0,
    id: 1,
    counts: hex('00 03 01 01 01 01 01 01 01 01 01 00 00 00 00 00'),
    symbols: hex('00 01 02 03 04 05 06 07 08 09 0a 0b'),
  },
  {
    tableClass: 1,
    id: 1,
    counts: hex('00 02 01 02 04 04 03 04 07 05 04 04 00 01 02 77'),
    symbols: hex(
      '00 01 02 03 11 04 05 21 31 06 12 41 51 07 61 71 13 22 32 81 08 14 42 91 a1 b1 c1 09 23 33 52 f0' +
        '15 62 72 d1 0a 16 24 34 e1 25 f1 17 18 19 1a 26 27 28 29 2a 35 36 37 38 39 3a 43 44 45 46 47 48' +
        '49 4a 53 54 55 56 57 58 59 5a 63 64 65 66 67 68 69 6a 73 74 75 76 77 78 79 7a 82 83 84 85 86 87' +
        '88 89 8a 92 93 94 95 96 97 98 99 9a a2 a3 a4 a5 a6 a7 a8 a9 aa b2 b3 b4 b5 b6 b7 b8 b9 ba c2 c3' +
        'c4 c5 c6 c7 c8 c9 ca d2 d3 d4 d5 d6 d7 d8 d9 da e2 e3 e4 e5 e6 e7 e8 e9 ea f2 f3 f4 f5 f6 f7 f8' +
        'f9 fa',
    ),
  },
];

/** The standard table for (class, id), or undefined when there is none (id > 1). */
export function standardHuffmanTable(tableClass: number, id: number): HuffmanTable | undefined {
  return STANDARD_HUFFMAN_TABLES.find((t) => t.tableClass === tableClass && t.id === id);
}
