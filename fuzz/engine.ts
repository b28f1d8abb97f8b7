/**
 * A small coverage-guided fuzzer built on V8's precise block coverage (no native addon needed).
 *
 * Coverage: a `node:inspector` Session on the fuzzing thread runs `Profiler.startPreciseCoverage`
 * with call counts and block granularity; `Profiler.takePreciseCoverage` after an input returns the
 * counts since the previous call (and resets them). Only scripts under `src/` are looked at. V8
 * reports a nested block only when its count differs from the enclosing range, so the engine keeps a
 * catalogue of every block ever reported per function and gives each one the count of the innermost
 * reported range around a point just inside it. A feature is (block, hit-count bucket), as in AFL.
 *
 * A coverage snapshot costs ~0.5-1 ms whatever ran, so inputs are mostly run in batches: the blocks
 * hit by a batch are the union of the blocks each input hits, so a batch that hits no new block
 * holds no input with a new block. When it does, the batch is bisected down to the inputs
 * responsible. Every batch is followed by one input run alone, which also catches new hit-count
 * buckets.
 *
 * Coverage is only deterministic without TurboFan (optimised code does not count calls, inlined
 * functions disappear from the report): run.ts sets `--no-opt` before starting the worker.
 *
 * The invariant is checked by the target itself: `run()` returns normally when the input was
 * accepted or rejected with an RtspError, and throws anything else (a finding).
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { MediaFormatError } from '../src/codecs/errors.js';
import { RtspError } from '../src/protocol/errors.js';

// ---------------------------------------------------------------------------------------------
// Targets

/** Returns a mutated copy of `data` (at most `maxLen` bytes); target-specific structure fixes. */
export type CustomMutator = (data: Buffer, rng: Rng, maxLen: number) => Buffer;

export interface FuzzTarget {
  readonly name: string;
  readonly description: string;
  /** Longest input the mutator produces. */
  readonly maxLen: number;
  /** Tokens the mutator inserts or overwrites with. */
  readonly dictionary: readonly (string | Uint8Array)[];
  /** Extra structure-aware mutations, picked now and then among the generic ones. */
  readonly mutators?: readonly CustomMutator[];
  /**
   * Runs one input. Returns normally when every call under test succeeded or threw an RtspError;
   * throws anything else (a bug) or an InvariantViolation (a differential or consistency check).
   * Must be deterministic: the same input always takes the same path.
   */
  run(data: Buffer): void;
  /** Slower, more thorough checks for the corpus replay test (e.g. byte-by-byte chunking). */
  runThorough?(data: Buffer): void;
}

/** A check of the target's own failed (differential mismatch, round-trip, impossible output). */
export class InvariantViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantViolation';
  }
}

/**
 * Calls `fn`; an RtspError (our typed error) is an accepted outcome and gives `undefined`. Any
 * other exception propagates: it is what the fuzzer is looking for.
 */
export function typed<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RtspError) return undefined;
    throw err;
  }
}

/**
 * Like `typed`, for codec code (parameter sets, fmtp, depacketizers): its own MediaFormatError is
 * accepted too, as are the RtspErrors of the RTP and SDP parsing it relies on.
 */
export function codecTyped<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (err instanceof MediaFormatError || err instanceof RtspError) return undefined;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Random numbers (sfc32: small, fast, seedable so a run can be repeated)

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.next();
  }

  /** Uniform 32-bit unsigned integer. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Integer in [0, n). */
  below(n: number): number {
    return Math.floor((this.next() / 4294967296) * n);
  }

  chance(p: number): boolean {
    return this.next() / 4294967296 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
}

/** FNV-1a over the bytes: a cheap deterministic seed derived from an input. */
export function hashBytes(data: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i], 0x01000193);
  return h >>> 0;
}

export function sha1(data: Uint8Array): string {
  return createHash('sha1').update(data).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Coverage

interface CoverageRange {
  startOffset: number;
  endOffset: number;
  count: number;
}
interface CoverageFunction {
  functionName: string;
  ranges: CoverageRange[];
}
interface CoverageScript {
  url: string;
  functions: CoverageFunction[];
}

/**
 * Blocks ever reported inside one function, each by a representative source position. V8 does not
 * always cut ranges at the same places (two adjacent blocks may share their boundary character, and
 * a batch may split a range one input reported whole), but the count at an interior position is
 * the same however the ranges are cut, and it adds up over inputs run together.
 */
interface FunctionBlocks {
  self: number;
  points: number[];
  ids: number[];
  index: Map<number, number>;
}

/** 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+ → 0..7. */
function bucket(count: number): number {
  if (count <= 3) return count - 1;
  if (count < 8) return 3;
  if (count < 16) return 4;
  if (count < 32) return 5;
  if (count < 128) return 6;
  return 7;
}

/** Bucket → coarse bucket: 1 | 2-3 | 4-15 | 16+. */
const COARSE = [0, 1, 1, 2, 2, 3, 3, 3];

const OFFSET_SCALE = 1e7; // (start, end) → one number: source offsets stay far below 1e7

export class Coverage {
  private readonly session = new Session();
  private readonly scripts = new Map<string, Map<number, FunctionBlocks>>();
  /** Human-readable name of every block id, `file:function:start-end`. */
  readonly blockNames: string[] = [];
  private everHit = new Uint8Array(4096);
  private seen = new Uint8Array(32768);
  /** Features and hit blocks of the last `collect()`. */
  readonly features: number[] = [];
  readonly blocks: number[] = [];
  /** Distinct features and blocks committed so far. */
  featureTotal = 0;
  blockTotal = 0;
  /** Snapshots taken (for the status line). */
  snapshots = 0;

  /** `prefix`: URL prefix of the scripts to look at, e.g. `file:///path/to/smolrtsp/src/`. */
  constructor(private readonly prefix: string) {}

  start(): void {
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
    this.discard();
  }

  stop(): void {
    this.post('Profiler.stopPreciseCoverage');
    this.session.disconnect();
  }

  // In-thread sessions dispatch synchronously: the callback has run when post() returns.
  private post(method: string, params: object = {}): { result?: CoverageScript[] } {
    let error: Error | null = null;
    let answer: { result?: CoverageScript[] } | undefined;
    this.session.post(method, params, (err, res) => {
      error = err;
      answer = res as { result?: CoverageScript[] };
    });
    if (error !== null) throw error;
    if (answer === undefined) throw new Error(`inspector answered ${method} asynchronously`);
    return answer;
  }

  /** Drops the counts gathered since the last snapshot (e.g. module loading). */
  discard(): void {
    this.post('Profiler.takePreciseCoverage');
  }

  /** Takes a snapshot and turns it into `features` and `blocks`. */
  collect(): void {
    const scripts = this.post('Profiler.takePreciseCoverage').result ?? [];
    this.snapshots++;
    this.features.length = 0;
    this.blocks.length = 0;
    for (const script of scripts) {
      if (!script.url.startsWith(this.prefix)) continue;
      let fns = this.scripts.get(script.url);
      if (fns === undefined) {
        fns = new Map();
        this.scripts.set(script.url, fns);
      }
      for (const fn of script.functions) {
        const ranges = fn.ranges;
        const top = ranges[0];
        if (top.count === 0) continue;
        const key = top.startOffset * OFFSET_SCALE + top.endOffset;
        let info = fns.get(key);
        if (info === undefined) {
          info = {
            self: this.newBlock(script.url, fn.functionName, top),
            points: [],
            ids: [],
            index: new Map(),
          };
          fns.set(key, info);
        }
        this.hit(info.self, top.count);
        for (let i = 1; i < ranges.length; i++) {
          const r = ranges[i];
          // Away from the edges, which adjacent ranges may share.
          const point = r.endOffset - r.startOffset > 2 ? r.startOffset + 1 : r.startOffset;
          if (!info.index.has(point)) {
            const id = this.newBlock(script.url, fn.functionName, r);
            info.index.set(point, id);
            info.points.push(point);
            info.ids.push(id);
          }
        }
        // Each known block counts as often as the innermost reported range around its point.
        for (let b = 0; b < info.ids.length; b++) {
          const point = info.points[b];
          let count = top.count;
          let width = top.endOffset - top.startOffset;
          for (let j = 1; j < ranges.length; j++) {
            const r = ranges[j];
            if (r.startOffset <= point && point < r.endOffset && r.endOffset - r.startOffset <= width) {
              width = r.endOffset - r.startOffset;
              count = r.count;
            }
          }
          if (count > 0) this.hit(info.ids[b], count);
        }
      }
    }
  }

  private newBlock(url: string, fnName: string, r: CoverageRange): number {
    const id = this.blockNames.length;
    const file = url.slice(this.prefix.length);
    this.blockNames.push(`${file}:${fnName || '<anonymous>'}:${r.startOffset}-${r.endOffset}`);
    if (id >= this.everHit.length) {
      const grown = new Uint8Array(this.everHit.length * 2);
      grown.set(this.everHit);
      this.everHit = grown;
      const seen = new Uint8Array(this.seen.length * 2);
      seen.set(this.seen);
      this.seen = seen;
    }
    return id;
  }

  private hit(id: number, count: number): void {
    this.blocks.push(id);
    this.features.push(id * 8 + bucket(count));
  }

  /**
   * How finely hit counts are told apart: 'buckets' (1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+) while
   * fuzzing; 'coarse' (1, 2-3, 4-15, 16+) or 'blocks' (hit or not) keep a minimised corpus small.
   */
  granularity: 'buckets' | 'coarse' | 'blocks' = 'buckets';

  private feature(f: number): number {
    if (this.granularity === 'buckets') return f;
    return this.granularity === 'blocks' ? f & ~7 : (f & ~7) | COARSE[f & 7];
  }

  /** Features of the last snapshot not committed yet. */
  newFeatureCount(): number {
    let n = 0;
    for (const f of this.features) if (this.seen[this.feature(f)] === 0) n++;
    return n;
  }

  /** True when the last snapshot hit a block never hit before. */
  hasNewBlocks(): boolean {
    for (const b of this.blocks) if (this.everHit[b] === 0) return true;
    return false;
  }

  /** Records the last snapshot's features and blocks as seen; returns how many features were new. */
  commit(): number {
    let n = 0;
    for (const raw of this.features) {
      const f = this.feature(raw);
      if (this.seen[f] === 0) {
        this.seen[f] = 1;
        n++;
      }
    }
    this.featureTotal += n;
    for (const b of this.blocks) {
      if (this.everHit[b] === 0) {
        this.everHit[b] = 1;
        this.blockTotal++;
      }
    }
    return n;
  }

  /** Forgets what was seen (the block catalogue stays): for corpus minimisation. */
  forgetSeen(): void {
    this.seen.fill(0);
    this.everHit.fill(0);
    this.featureTotal = 0;
    this.blockTotal = 0;
  }

  /** Known blocks never hit (by file), for the end-of-run report. */
  unhitBlocks(): string[] {
    const out: string[] = [];
    for (let id = 0; id < this.blockNames.length; id++)
      if (this.everHit[id] === 0) out.push(this.blockNames[id]);
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Mutation

const INTERESTING_BYTES = [
  0x00, 0x01, 0x02, 0x03, 0x07, 0x08, 0x09, 0x0a, 0x0d, 0x10, 0x1f, 0x20, 0x22, 0x24, 0x2c, 0x2d, 0x2e, 0x2f,
  0x30, 0x31, 0x39, 0x3a, 0x3b, 0x3d, 0x40, 0x41, 0x5b, 0x5d, 0x61, 0x7e, 0x7f, 0x80, 0x81, 0xc0, 0xc3, 0xe4,
  0xfe, 0xff,
];
const INTERESTING_16 = [
  0, 1, 2, 3, 4, 7, 8, 12, 16, 31, 32, 64, 100, 127, 128, 255, 256, 512, 1024, 4096, 32767, 32768, 65534,
  65535,
];
const INTERESTING_NUMBERS = [
  ...'0 1 -1 00 01 007 9 10 59 60 99 100 127 128 255 256 999 1000 8191 8192 32767 32768'.split(' '),
  ...'65534 65535 65536 2147483647 2147483648 4294967295 4294967296 9007199254740991 9007199254740993'.split(
    ' ',
  ),
  ...'9999999999999999 99999999999999999 1e3 0x10 1.5 .5 5. +1'.split(' '),
  '',
  ' 1',
  '1 ',
];

/** A mutation engine for one target: generic byte-level mutations plus its dictionary and extras. */
export class Mutator {
  private readonly tokens: Buffer[];

  constructor(
    private readonly rng: Rng,
    private readonly maxLen: number,
    dictionary: readonly (string | Uint8Array)[],
    private readonly custom: readonly CustomMutator[] = [],
  ) {
    this.tokens = dictionary.map((t) => (typeof t === 'string' ? Buffer.from(t, 'latin1') : Buffer.from(t)));
  }

  /** A mutated copy of `data`; `other` is a second corpus entry for crossover. */
  mutate(data: Buffer, other: Buffer): Buffer {
    const rng = this.rng;
    let out = data;
    const rounds = 1 + (rng.chance(0.5) ? 0 : rng.below(rng.chance(0.5) ? 4 : 12));
    for (let i = 0; i < rounds; i++) {
      if (this.custom.length > 0 && rng.chance(0.08)) out = rng.pick(this.custom)(out, rng, this.maxLen);
      else out = this.once(out, other);
    }
    if (out.length > this.maxLen) out = out.subarray(0, this.maxLen);
    return out === data ? this.once(Buffer.from(data), other) : out;
  }

  /** Random tokens and bytes from scratch: now and then, so the corpus is not the only source. */
  generate(): Buffer {
    const parts: Buffer[] = [];
    const n = 1 + this.rng.below(12);
    for (let i = 0; i < n; i++)
      parts.push(
        this.rng.chance(0.7) && this.tokens.length > 0
          ? this.rng.pick(this.tokens)
          : this.randomBytes(1 + this.rng.below(8)),
      );
    const out = Buffer.concat(parts);
    return out.length > this.maxLen ? out.subarray(0, this.maxLen) : out;
  }

  private randomBytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.rng.below(256);
    return b;
  }

  private once(data: Buffer, other: Buffer): Buffer {
    const rng = this.rng;
    const len = data.length;
    const pos = (extra = 0): number => rng.below(len + extra);
    switch (len === 0 ? 4 + rng.below(3) : rng.below(20)) {
      case 0: {
        const b = Buffer.from(data);
        const p = pos();
        b[p] ^= 1 << rng.below(8);
        return b;
      }
      case 1: {
        const b = Buffer.from(data);
        b[pos()] = rng.below(256);
        return b;
      }
      case 2: {
        const b = Buffer.from(data);
        b[pos()] = rng.pick(INTERESTING_BYTES);
        return b;
      }
      case 3: {
        const b = Buffer.from(data);
        const p = pos();
        b[p] = (b[p] + (rng.chance(0.5) ? 1 : -1) * (1 + rng.below(4))) & 0xff;
        return b;
      }
      case 4:
        return this.insert(data, pos(1), this.randomBytes(1 + rng.below(rng.chance(0.8) ? 4 : 32)));
      case 5: {
        const n = 1 + rng.below(rng.chance(0.8) ? 8 : 128);
        return this.insert(data, pos(1), Buffer.alloc(n, rng.pick(INTERESTING_BYTES)));
      }
      case 6:
      case 7:
        return this.insert(data, pos(1), this.token());
      case 8: {
        // Overwrite with a token.
        const t = this.token();
        const p = pos();
        const b = Buffer.from(data);
        t.copy(b, p, 0, Math.min(t.length, len - p));
        return b;
      }
      case 9: {
        // Erase a range.
        const p = pos();
        const n = 1 + rng.below(Math.max(1, rng.chance(0.7) ? Math.min(8, len - p) : len - p));
        return Buffer.concat([data.subarray(0, p), data.subarray(p + n)]);
      }
      case 10: {
        // Duplicate a range somewhere.
        const p = pos();
        const n = 1 + rng.below(Math.min(len - p, 64));
        return this.insert(data, pos(1), data.subarray(p, p + n));
      }
      case 11: {
        // Copy a range over another.
        const from = pos();
        const to = pos();
        const n = 1 + rng.below(Math.min(len - from, len - to, 64));
        const b = Buffer.from(data);
        data.copy(b, to, from, from + n);
        return b;
      }
      case 12: {
        // Splice with another corpus entry.
        if (other.length === 0) return this.insert(data, pos(1), this.token());
        const cut = pos(1);
        const o = rng.below(other.length);
        return rng.chance(0.5)
          ? Buffer.concat([data.subarray(0, cut), other.subarray(o)])
          : this.insert(data, cut, other.subarray(o, o + 1 + rng.below(Math.min(other.length - o, 128))));
      }
      case 13:
        return this.replaceNumber(data);
      case 14: {
        // 16-bit integer (lengths in binary formats), either byte order.
        if (len < 2) return this.insert(data, pos(1), this.randomBytes(2));
        const b = Buffer.from(data);
        const p = rng.below(len - 1);
        const v = rng.chance(0.5)
          ? rng.pick(INTERESTING_16)
          : (b.readUInt16BE(p) + rng.below(33) - 16) & 0xffff;
        if (rng.chance(0.7)) b.writeUInt16BE(v, p);
        else b.writeUInt16LE(v, p);
        return b;
      }
      case 15:
        return this.lineMutation(data);
      case 16:
        return data.subarray(0, pos());
      case 17: {
        // Swap two bytes.
        const b = Buffer.from(data);
        const p = pos();
        const q = pos();
        const t = b[p];
        b[p] = b[q];
        b[q] = t;
        return b;
      }
      case 18: {
        // Change the case of a letter (header names and tokens are compared case-insensitively).
        const b = Buffer.from(data);
        const p = pos();
        if ((b[p] | 0x20) >= 0x61 && (b[p] | 0x20) <= 0x7a) b[p] ^= 0x20;
        return b;
      }
      default: {
        // Insert a 32-bit value.
        const b = Buffer.alloc(4);
        b.writeUInt32BE(rng.chance(0.5) ? rng.next() : rng.pick([0, 1, 0x7fffffff, 0x80000000, 0xffffffff]));
        return this.insert(data, pos(1), b);
      }
    }
  }

  private token(): Buffer {
    if (this.tokens.length === 0 || this.rng.chance(0.1))
      return Buffer.from(this.rng.pick(INTERESTING_NUMBERS), 'latin1');
    return this.rng.pick(this.tokens);
  }

  private insert(data: Buffer, at: number, piece: Uint8Array): Buffer {
    return Buffer.concat([data.subarray(0, at), piece, data.subarray(at)]);
  }

  /** Replaces a run of ASCII digits with an interesting number, or nudges it. */
  private replaceNumber(data: Buffer): Buffer {
    const rng = this.rng;
    const runs: [number, number][] = [];
    for (let i = 0; i < data.length; ) {
      if (data[i] >= 0x30 && data[i] <= 0x39) {
        const s = i;
        while (i < data.length && data[i] >= 0x30 && data[i] <= 0x39) i++;
        runs.push([s, i]);
      } else i++;
    }
    if (runs.length === 0)
      return this.insert(data, rng.below(data.length + 1), Buffer.from(rng.pick(INTERESTING_NUMBERS)));
    const [s, e] = rng.pick(runs);
    let text: string;
    if (rng.chance(0.6)) text = rng.pick(INTERESTING_NUMBERS);
    else {
      const n = Number(data.toString('latin1', s, e)) + rng.below(5) - 2;
      text = String(Math.max(0, n));
    }
    return Buffer.concat([data.subarray(0, s), Buffer.from(text, 'latin1'), data.subarray(e)]);
  }

  /** Duplicates, deletes or swaps whole lines (text formats). */
  private lineMutation(data: Buffer): Buffer {
    const rng = this.rng;
    const starts = [0];
    for (let i = 0; i < data.length; i++) if (data[i] === 0x0a && i + 1 < data.length) starts.push(i + 1);
    const line = (k: number): Buffer =>
      data.subarray(starts[k], k + 1 < starts.length ? starts[k + 1] : data.length);
    const k = rng.below(starts.length);
    const lines = starts.map((_, i) => line(i));
    switch (rng.below(3)) {
      case 0:
        lines.splice(rng.below(lines.length + 1), 0, line(k));
        break;
      case 1:
        lines.splice(k, 1);
        break;
      default: {
        const j = rng.below(lines.length);
        [lines[k], lines[j]] = [lines[j], lines[k]];
      }
    }
    return Buffer.concat(lines);
  }
}

// ---------------------------------------------------------------------------------------------
// Watchdog link: the input being executed, visible to the main thread while this one is stuck.

/** Layout: int32 [execCount, length, executing] then the input bytes. */
export class ExecSlot {
  static byteLength(maxLen: number): number {
    return 12 + maxLen;
  }

  private readonly header: Int32Array;
  private readonly bytes: Uint8Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.header = new Int32Array(buffer, 0, 3);
    this.bytes = new Uint8Array(buffer, 12);
  }

  begin(data: Uint8Array): void {
    const n = Math.min(data.length, this.bytes.length);
    this.bytes.set(n === data.length ? data : data.subarray(0, n));
    Atomics.store(this.header, 1, n);
    Atomics.store(this.header, 2, 1);
    Atomics.add(this.header, 0, 1);
  }

  end(): void {
    Atomics.store(this.header, 2, 0);
  }

  get execCount(): number {
    return Atomics.load(this.header, 0);
  }

  get executing(): boolean {
    return Atomics.load(this.header, 2) === 1;
  }

  /** A copy of the input currently (or last) executed. */
  current(): Buffer {
    return Buffer.from(this.bytes.subarray(0, Atomics.load(this.header, 1)));
  }
}

// ---------------------------------------------------------------------------------------------
// Findings

export interface Finding {
  kind: 'crash' | 'invariant' | 'timeout' | 'oom';
  file: string;
  hex: string;
  stack: string;
}

/** Short description of the error, stable across inputs that hit the same bug. */
export function errorSignature(err: unknown): string {
  if (!(err instanceof Error)) return `non-Error thrown: ${typeof err}`;
  // The message up to its first quoted or parenthesised detail, which is input-dependent.
  const message = err.message.split('\n', 1)[0].split(/["'(]/, 1)[0].replace(/\d+/g, '_');
  const frame = (err.stack ?? '').split('\n').find((l) => /\/(src|fuzz)\//.test(l)) ?? '';
  return `${err.name}: ${message} @ ${frame.trim().replace(/:\d+:\d+\)?$/, '')}`;
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return `non-Error thrown: ${String(err)}`;
}

/** Saves `data` as `<dir>/<sha1>` and the report as `<dir>/<sha1>.txt`; returns the input's path. */
export function saveFinding(dir: string, kind: Finding['kind'], data: Buffer, stack: string): Finding {
  mkdirSync(dir, { recursive: true });
  const name = sha1(data);
  const file = join(dir, name);
  writeFileSync(file, data);
  const hex = data.toString('hex');
  writeFileSync(`${file}.txt`, `kind: ${kind}\nlength: ${data.length}\nhex: ${hex}\n\n${stack}\n`);
  return { kind, file, hex, stack };
}

// ---------------------------------------------------------------------------------------------
// Corpus

const GENERATED_NAME = /^[0-9a-f]{40}$/;

/** Corpus file names: hand-written seeds keep their names; generated entries are named by sha1. */
export function isGeneratedName(name: string): boolean {
  return GENERATED_NAME.test(name);
}

export function readCorpus(dir: string): { name: string; data: Buffer }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => !n.startsWith('.') && !n.endsWith('.md'))
    .sort()
    .map((name) => ({ name, data: readFileSync(join(dir, name)) }));
}

interface Entry {
  data: Buffer;
  /** Selection weight: novelty when added, smaller inputs preferred. */
  weight: number;
}

// ---------------------------------------------------------------------------------------------
// The fuzzing loop

export interface FuzzOptions {
  corpusDir: string;
  findingsDir: string;
  /** URL prefix of the code under test (`file:///.../src/`). */
  coveragePrefix: string;
  seed: number;
  /** Wall-clock budget in milliseconds. */
  budgetMs: number;
  /** Maximum number of executions (Infinity for none). */
  maxRuns: number;
  /**
   * Inputs per coverage snapshot in batch rounds (1: every input alone; 0: adaptive, so that a
   * batch's executions take about as long as a snapshot).
   */
  batch: number;
  maxLen: number;
  /** Write new corpus entries to corpusDir. */
  save: boolean;
  /** Prune corpusDir to the entries carrying unique features at the end. */
  minimise: boolean;
  /** Feature granularity for that pruning (see Coverage.granularity). */
  minimiseBy: Coverage['granularity'];
  slot?: ExecSlot;
  log(line: string): void;
  onFinding?(finding: Finding): void;
}

export interface FuzzStats {
  execs: number;
  seconds: number;
  execsPerSecond: number;
  corpusSize: number;
  corpusFiles: number;
  features: number;
  blocks: number;
  knownBlocks: number;
  findings: Finding[];
  duplicateFindings: number;
  slowestMs: number;
  slowestHex: string;
  unhit: string[];
}

export class Fuzzer {
  readonly coverage: Coverage;
  private readonly rng: Rng;
  private readonly mutator: Mutator;
  private readonly corpus: Entry[] = [];
  private readonly corpusHashes = new Set<string>();
  private totalWeight = 0;
  private readonly signatures = new Set<string>();
  readonly findings: Finding[] = [];
  private duplicateFindings = 0;
  private execs = 0;
  private slowestMs = 0;
  private slowest: Buffer = Buffer.alloc(0);
  /** Batches that hit a new block and were bisected. */
  private bisections = 0;
  /** Moving averages: one execution, one coverage snapshot (ms). */
  private execMs = 0.1;
  private snapshotMs = 1;

  constructor(
    private readonly target: FuzzTarget,
    private readonly options: FuzzOptions,
  ) {
    this.coverage = new Coverage(options.coveragePrefix);
    this.rng = new Rng(options.seed);
    this.mutator = new Mutator(this.rng, options.maxLen, target.dictionary, target.mutators ?? []);
  }

  /** Runs one input under the watchdog; false (and a finding recorded) when it broke an invariant. */
  private exec(data: Buffer): boolean {
    const slot = this.options.slot;
    slot?.begin(data);
    const t0 = performance.now();
    let ok = true;
    try {
      this.target.run(data);
    } catch (err) {
      ok = false;
      this.report(err instanceof InvariantViolation ? 'invariant' : 'crash', data, err);
    }
    const ms = performance.now() - t0;
    slot?.end();
    this.execs++;
    if (ms > this.slowestMs) {
      this.slowestMs = ms;
      this.slowest = data;
    }
    return ok;
  }

  private report(kind: Finding['kind'], data: Buffer, err: unknown): void {
    const signature = errorSignature(err);
    if (this.signatures.has(signature)) {
      this.duplicateFindings++;
      return;
    }
    this.signatures.add(signature);
    const finding = saveFinding(
      join(this.options.findingsDir, this.target.name),
      kind,
      data,
      describeError(err),
    );
    this.findings.push(finding);
    this.options.onFinding?.(finding);
  }

  private add(data: Buffer, novelty: number, save: boolean): void {
    const hash = sha1(data);
    if (this.corpusHashes.has(hash)) return;
    this.corpusHashes.add(hash);
    const weight = (1 + Math.min(novelty, 16)) / (1 + Math.log2(1 + data.length / 64));
    this.corpus.push({ data, weight });
    this.totalWeight += weight;
    if (save && this.options.save) {
      mkdirSync(this.options.corpusDir, { recursive: true });
      const file = join(this.options.corpusDir, hash);
      if (!existsSync(file)) writeFileSync(file, data);
    }
  }

  private choose(): Buffer {
    let r = (this.rng.next() / 4294967296) * this.totalWeight;
    for (const e of this.corpus) {
      r -= e.weight;
      if (r <= 0) return e.data;
    }
    return this.corpus[this.corpus.length - 1].data;
  }

  private nextInput(): Buffer {
    if (this.rng.chance(0.005)) return this.mutator.generate();
    return this.mutator.mutate(this.choose(), this.rng.pick(this.corpus).data);
  }

  /** Loads the committed corpus: two passes, so every block range is catalogued before counting. */
  private loadCorpus(): number {
    const files = readCorpus(this.options.corpusDir);
    this.coverage.discard();
    for (const f of files) {
      this.exec(f.data);
      this.coverage.collect();
    }
    for (const f of files) {
      this.exec(f.data);
      this.coverage.collect();
      const n = this.coverage.commit();
      if (n > 0 || !isGeneratedName(f.name)) this.add(f.data, n, false);
    }
    if (this.corpus.length === 0) this.add(Buffer.alloc(0), 1, false);
    return files.length;
  }

  /**
   * Replays the open findings of this target (fuzz/findings/<target>/<sha1>) so that a bug already
   * on file is counted as a duplicate rather than saved again. Returns how many still fail.
   */
  private loadKnownFindings(): number {
    const dir = join(this.options.findingsDir, this.target.name);
    let n = 0;
    for (const f of readCorpus(dir)) {
      if (!isGeneratedName(f.name)) continue;
      // Hangs and memory exhaustion are not replayed: they would stop this run too.
      const report = join(dir, `${f.name}.txt`);
      if (existsSync(report) && /^kind: (timeout|oom)$/m.test(readFileSync(report, 'latin1'))) continue;
      this.options.slot?.begin(f.data);
      try {
        this.target.run(f.data);
      } catch (err) {
        this.signatures.add(errorSignature(err));
        n++;
      }
      this.options.slot?.end();
    }
    return n;
  }

  /** Fuzzes until the time budget or the run limit is used up. */
  run(): FuzzStats {
    const { log, budgetMs, maxRuns, batch } = this.options;
    const start = performance.now();
    // Coverage first: a function compiled before it starts has no block counters.
    this.coverage.start();
    const known = this.loadKnownFindings();
    if (known > 0) log(`${known} open findings on file still fail: not reported again`);
    const loaded = this.loadCorpus();
    log(
      `#${this.execs} loaded ${loaded} corpus files: corpus ${this.corpus.length} features ${this.coverage.featureTotal} blocks ${this.coverage.blockTotal}`,
    );
    const deadline = start + budgetMs;
    let nextStatus = performance.now() + 5000;
    const pending: Buffer[] = [];
    while (this.execs < maxRuns) {
      const now = performance.now();
      if (now >= deadline) break;
      if (now >= nextStatus) {
        nextStatus = now + 10000;
        log(this.statusLine('pulse', start));
      }
      // Batch round: one snapshot for many inputs; bisected only when something new was hit.
      const size = batch === 0 ? this.adaptiveBatch() : batch;
      if (size > 1) {
        pending.length = 0;
        const n = Math.min(size, maxRuns - this.execs - 1);
        for (let i = 0; i < n; i++) pending.push(this.nextInput());
        this.screen(pending, true);
      }
      if (this.execs < maxRuns) this.tryAlone(this.nextInput());
    }
    const seconds = (performance.now() - start) / 1000;
    log(this.statusLine('done', start));
    // The slowest run may have been a GC pause or a compilation: time that input again.
    let slowestMs = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      this.exec(this.slowest);
      slowestMs = Math.min(slowestMs, performance.now() - t0);
    }
    this.coverage.discard();
    let corpusFiles = readCorpus(this.options.corpusDir).length;
    if (this.options.minimise && this.options.save) {
      corpusFiles = this.minimise();
    }
    this.coverage.stop();
    return {
      execs: this.execs,
      seconds,
      execsPerSecond: this.execs / seconds,
      corpusSize: this.corpus.length,
      corpusFiles,
      features: this.coverage.featureTotal,
      blocks: this.coverage.blockTotal,
      knownBlocks: this.coverage.blockNames.length,
      findings: this.findings,
      duplicateFindings: this.duplicateFindings,
      slowestMs,
      slowestHex: this.slowest.subarray(0, 256).toString('hex'),
      unhit: this.coverage.unhitBlocks(),
    };
  }

  /** A batch size whose executions take about as long as one coverage snapshot. */
  private adaptiveBatch(): number {
    return Math.max(16, Math.min(1024, Math.round(this.snapshotMs / Math.max(this.execMs, 1e-4))));
  }

  private tryAlone(input: Buffer): void {
    const ok = this.exec(input);
    this.coverage.collect();
    this.keepIfNew(input, ok);
  }

  /** After a snapshot of `input` alone: adds it to the corpus when it has new features and passed. */
  private keepIfNew(input: Buffer, ok: boolean): void {
    const n = this.coverage.newFeatureCount();
    if (n > 0 && ok) {
      this.coverage.commit();
      this.add(input, n, true);
    }
  }

  /**
   * Runs `inputs` under one snapshot; when they hit a block never hit before, splits them in two
   * and looks again, down to the single inputs responsible (which are then added to the corpus).
   */
  private screen(inputs: Buffer[], first: boolean): void {
    let ok = true;
    const t0 = performance.now();
    for (const input of inputs) ok = this.exec(input) && ok;
    const t1 = performance.now();
    this.coverage.collect();
    if (first) {
      // Moving averages for adaptiveBatch().
      this.execMs += 0.1 * ((t1 - t0) / inputs.length - this.execMs);
      this.snapshotMs += 0.1 * (performance.now() - t1 - this.snapshotMs);
    }
    if (inputs.length === 1) {
      this.keepIfNew(inputs[0], ok);
      return;
    }
    if (!this.coverage.hasNewBlocks()) return;
    if (first) this.bisections++;
    const half = inputs.length >>> 1;
    this.screen(inputs.slice(0, half), false);
    this.screen(inputs.slice(half), false);
  }

  private statusLine(what: string, start: number): string {
    const s = (performance.now() - start) / 1000;
    return (
      `#${this.execs} ${what} blocks: ${this.coverage.blockTotal}/${this.coverage.blockNames.length} ` +
      `ft: ${this.coverage.featureTotal} corp: ${this.corpus.length} exec/s: ${Math.round(this.execs / s)} ` +
      `findings: ${this.findings.length} (+${this.duplicateFindings} dup) bisected: ${this.bisections} ` +
      `batch: ${this.options.batch === 0 ? this.adaptiveBatch() : this.options.batch} time: ${s.toFixed(0)}s`
    );
  }

  /**
   * Keeps hand-written seeds plus, smallest first, the generated files that add a feature; deletes
   * the rest. Returns the number of files left. (Greedy, like libFuzzer's -merge=1.)
   */
  minimise(): number {
    const dir = this.options.corpusDir;
    const files = readCorpus(dir);
    const seeds = files.filter((f) => !isGeneratedName(f.name));
    const generated = files
      .filter((f) => isGeneratedName(f.name))
      .sort((a, b) => a.data.length - b.data.length || (a.name < b.name ? -1 : 1));
    this.coverage.discard();
    for (const f of files) {
      this.exec(f.data);
      this.coverage.collect();
    }
    this.coverage.forgetSeen();
    this.coverage.granularity = this.options.minimiseBy;
    let kept = 0;
    for (const f of [...seeds, ...generated]) {
      this.exec(f.data);
      this.coverage.collect();
      const n = this.coverage.commit();
      if (n > 0 || !isGeneratedName(f.name)) kept++;
      else rmSync(join(dir, f.name));
    }
    this.options.log(
      `minimised ${files.length} files to ${kept} (${seeds.length} seeds) by ${this.options.minimiseBy}: ` +
        `features ${this.coverage.featureTotal} blocks ${this.coverage.blockTotal}`,
    );
    this.coverage.granularity = 'buckets';
    return kept;
  }
}
