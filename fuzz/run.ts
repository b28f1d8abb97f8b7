/**
 * Coverage-guided fuzzing of the pure protocol code (see fuzz/README.md). Bounded: stops after
 * --minutes (and --runs). Not part of CI; the corpus it grows is replayed by
 * test/unit/fuzz-corpus.test.ts.
 *
 *   node --import tsx fuzz/run.ts --target rtsp-parser --minutes 5
 *   node --import tsx fuzz/run.ts --target all --minutes 2
 *   node --import tsx fuzz/run.ts --target headers --replay fuzz/findings/headers/<sha1>
 *   node --import tsx fuzz/run.ts --target headers --shrink fuzz/findings/headers/<sha1>
 *   node --import tsx fuzz/run.ts --target sdp --minimise-only
 *
 * The fuzzing runs in a worker thread; this thread is the watchdog: an input that runs longer
 * than --timeout seconds (a hang) or exhausts the worker's heap is saved as a finding.
 */
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import {
  describeError,
  ExecSlot,
  errorSignature,
  type FuzzStats,
  type FuzzTarget,
  InvariantViolation,
  saveFinding,
} from './engine.js';
import { TARGETS } from './targets/index.js';
import type { WorkerData, WorkerMessage } from './worker.js';

// Optimised code does not bump a function's call count and inlined callees vanish from the report,
// so coverage would depend on what V8 happened to optimise. Interpreter and baseline code only
// (process-wide, so it holds in the worker): about half the speed, but the same input always gives
// the same features.
setFlagsFromString('--no-opt');

const FUZZ_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(FUZZ_DIR, '..');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    target: { type: 'string', default: 'rtsp-parser' },
    minutes: { type: 'string', default: '5' },
    runs: { type: 'string' },
    seed: { type: 'string' },
    batch: { type: 'string', default: 'auto' },
    'max-len': { type: 'string' },
    timeout: { type: 'string', default: '10' },
    'max-heap-mb': { type: 'string', default: '1024' },
    corpus: { type: 'string' },
    findings: { type: 'string', default: join(FUZZ_DIR, 'findings') },
    'no-save': { type: 'boolean', default: false },
    'no-minimise': { type: 'boolean', default: false },
    'minimise-only': { type: 'boolean', default: false },
    'minimise-by': { type: 'string', default: 'blocks' },
    replay: { type: 'boolean', default: false },
    shrink: { type: 'boolean', default: false },
    'show-unhit': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

function usage(): never {
  console.log(
    `usage: node --import tsx fuzz/run.ts [--target ${Object.keys(TARGETS).join('|')}|all] [--minutes 5] [--runs N]\n` +
      '         [--seed N] [--batch auto|N] [--max-len N] [--timeout 10] [--max-heap-mb 1024] [--corpus DIR]\n' +
      '         [--findings DIR] [--no-save] [--no-minimise] [--minimise-by blocks|coarse|buckets] [--show-unhit]\n' +
      '       node --import tsx fuzz/run.ts --target T --minimise-only [--minimise-by blocks]\n' +
      '       node --import tsx fuzz/run.ts --target T --replay FILE...\n' +
      '       node --import tsx fuzz/run.ts --target T --shrink FILE...',
  );
  process.exit(2);
}

function number(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) {
    console.error(`--${name}: not a non-negative number: ${text}`);
    process.exit(2);
  }
  return n;
}

function granularity(text: string | undefined): WorkerData['minimiseBy'] {
  if (text === 'buckets' || text === 'coarse' || text === 'blocks') return text;
  console.error(`--minimise-by: buckets, coarse or blocks, not ${text}`);
  process.exit(2);
}

if (values.help) usage();
const names = values.target === 'all' ? Object.keys(TARGETS) : (values.target ?? '').split(',');
for (const name of names) {
  if (!(name in TARGETS)) {
    console.error(`unknown target '${name}'`);
    usage();
  }
}

/** Re-runs saved inputs without coverage and prints what each does: to reproduce a finding. */
function replay(): number {
  if (names.length !== 1 || positionals.length === 0) usage();
  const target = TARGETS[names[0]];
  let failed = 0;
  for (const file of positionals) {
    const data = readFileSync(file);
    try {
      (target.runThorough ?? target.run)(data);
      console.log(`${file}: ok (${data.length} bytes)`);
    } catch (err) {
      failed++;
      console.log(`${file}: FAILED (${data.length} bytes)\n${describeError(err)}\n`);
    }
  }
  return failed > 0 ? 1 : 0;
}

/** The signature of what `data` breaks in `target`, or undefined when it passes. */
function failure(target: FuzzTarget, data: Buffer): { signature: string; err: unknown } | undefined {
  try {
    target.run(data);
    return undefined;
  } catch (err) {
    return { signature: errorSignature(err), err };
  }
}

/**
 * Shrinks failing inputs: removes ever smaller ranges while the same failure (same error
 * signature) remains, then saves the result as a new finding next to the original.
 */
function shrink(): number {
  if (names.length !== 1 || positionals.length === 0) usage();
  const target = TARGETS[names[0]];
  for (const file of positionals) {
    let current = readFileSync(file);
    const original = failure(target, current);
    if (original === undefined) {
      console.log(`${file}: passes, nothing to shrink`);
      continue;
    }
    for (let size = current.length >>> 1; size >= 1; ) {
      let progressed = false;
      for (let at = 0; at + size <= current.length; ) {
        const candidate = Buffer.concat([current.subarray(0, at), current.subarray(at + size)]);
        if (failure(target, candidate)?.signature === original.signature) {
          current = candidate;
          progressed = true;
        } else at += size;
      }
      if (!progressed) size >>>= 1;
    }
    const last = failure(target, current);
    const kind = last?.err instanceof InvariantViolation ? 'invariant' : 'crash';
    const f = saveFinding(dirname(resolve(file)), kind, current, describeError(last?.err));
    console.log(`${file}: shrunk to ${current.length} bytes, saved as ${relative(process.cwd(), f.file)}`);
    console.log(
      `input (hex): ${f.hex}\ninput (text): ${JSON.stringify(current.toString('latin1'))}\n${f.stack}\n`,
    );
  }
  return 0;
}

async function fuzz(name: string): Promise<{ stats?: FuzzStats; findings: number }> {
  const target = TARGETS[name];
  const maxLen = number('max-len', values['max-len'], target.maxLen);
  const timeoutMs = number('timeout', values.timeout, 10) * 1000;
  const slot = new ExecSlot(new SharedArrayBuffer(ExecSlot.byteLength(maxLen)));
  const data: WorkerData = {
    target: name,
    root: ROOT,
    corpusDir: values.corpus === undefined ? join(FUZZ_DIR, 'corpus', name) : resolve(values.corpus),
    findingsDir: resolve(values.findings ?? join(FUZZ_DIR, 'findings')),
    seed: number('seed', values.seed, Date.now() % 0x7fffffff),
    budgetMs: number('minutes', values.minutes, 5) * 60_000,
    maxRuns: number('runs', values.runs, Number.POSITIVE_INFINITY),
    batch: values.batch === 'auto' ? 0 : Math.max(1, Math.floor(number('batch', values.batch, 1))),
    maxLen,
    save: !values['no-save'],
    minimise: !values['no-minimise'],
    minimiseBy: granularity(values['minimise-by']),
    minimiseOnly: values['minimise-only'] ?? false,
    slot: slot.buffer,
  };
  console.log(
    `[${name}] ${target.description}\n[${name}] seed ${data.seed}, ${values.minutes} min, batch ${data.batch === 0 ? 'auto' : data.batch}, ` +
      `max-len ${maxLen}, corpus ${relative(process.cwd(), data.corpusDir)}`,
  );

  // tsx's loader hooks are not inherited by workers on Node 20: register them in the worker first.
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./worker.ts', import.meta.url).href;
  const worker = new Worker(
    `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`,
    {
      eval: true,
      workerData: data,
      resourceLimits: { maxOldGenerationSizeMb: number('max-heap-mb', values['max-heap-mb'], 1024) },
    },
  );
  let stats: FuzzStats | undefined;
  let findings = 0;
  const findingsDir = join(data.findingsDir, name);

  const printFinding = (kind: string, file: string, hex: string, stack: string): void => {
    findings++;
    console.log(
      `\n[${name}] ==== FINDING (${kind}) saved to ${relative(process.cwd(), file)}\n` +
        `[${name}] input (${hex.length / 2} bytes): ${hex.length > 2048 ? `${hex.slice(0, 2048)}...` : hex}\n${stack}\n`,
    );
  };

  // Watchdog: the worker bumps slot.execCount before each input; stuck on one for too long = hang.
  let lastCount = -1;
  let stuckSince = performance.now();
  let killedFor: string | undefined;
  const timer = setInterval(() => {
    const count = slot.execCount;
    if (count !== lastCount || !slot.executing) {
      lastCount = count;
      stuckSince = performance.now();
      return;
    }
    if (performance.now() - stuckSince < timeoutMs) return;
    killedFor = 'timeout';
    const input = slot.current();
    const f = saveFinding(
      findingsDir,
      'timeout',
      input,
      `input ran for more than ${timeoutMs / 1000} s (hang)`,
    );
    printFinding('timeout', f.file, f.hex, f.stack);
    void worker.terminate();
  }, 250);

  worker.on('message', (m: WorkerMessage) => {
    if (m.type === 'log') console.log(`[${name}] ${m.line}`);
    else if (m.type === 'finding') printFinding(m.kind, m.file, m.hex, m.stack);
    else stats = m.stats;
  });
  await new Promise<void>((done) => {
    worker.on('error', (err) => {
      if (killedFor === undefined && slot.executing) {
        const kind = (err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'oom' : 'crash';
        const f = saveFinding(findingsDir, kind, slot.current(), describeError(err));
        printFinding(kind, f.file, f.hex, f.stack);
      } else if (killedFor === undefined) {
        console.error(
          `[${name}] worker failed (execs ${slot.execCount}, executing ${slot.executing}): ${describeError(err)}`,
        );
        findings++;
      }
    });
    worker.on('exit', () => done());
  });
  clearInterval(timer);

  if (stats !== undefined) {
    console.log(
      `[${name}] ${stats.execs} execs in ${stats.seconds.toFixed(1)} s (${Math.round(stats.execsPerSecond)}/s), ` +
        `corpus ${stats.corpusSize} in memory / ${stats.corpusFiles} files, features ${stats.features}, ` +
        `blocks hit ${stats.blocks} of ${stats.knownBlocks} seen, findings ${stats.findings.length} ` +
        `(+${stats.duplicateFindings} duplicates), slowest input ${stats.slowestMs.toFixed(2)} ms (re-timed)`,
    );
    if (stats.slowestMs > 5)
      console.log(`[${name}] slowest input (first 256 bytes, hex): ${stats.slowestHex}`);
    if (values['show-unhit']) for (const b of stats.unhit) console.log(`[${name}]   never hit: ${b}`);
  }
  return { stats, findings };
}

let exitCode = 0;
if (values.replay) {
  exitCode = replay();
} else if (values.shrink) {
  exitCode = shrink();
} else {
  for (const name of names) {
    const { findings } = await fuzz(name);
    if (findings > 0) exitCode = 1;
  }
}
process.exitCode = exitCode;
