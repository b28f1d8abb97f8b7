/** Fuzzing thread: runs the engine on one target and reports to run.ts (the watchdog) by messages. */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { ExecSlot, Fuzzer } from './engine.js';
import { TARGETS } from './targets/index.js';

export interface WorkerData {
  target: string;
  root: string;
  corpusDir: string;
  findingsDir: string;
  seed: number;
  budgetMs: number;
  maxRuns: number;
  batch: number;
  maxLen: number;
  save: boolean;
  minimise: boolean;
  minimiseBy: 'buckets' | 'coarse' | 'blocks';
  minimiseOnly: boolean;
  slot: SharedArrayBuffer;
}

export type WorkerMessage =
  | { type: 'log'; line: string }
  | { type: 'finding'; kind: string; file: string; hex: string; stack: string }
  | { type: 'done'; stats: import('./engine.js').FuzzStats };

const data = workerData as WorkerData;
const port = parentPort!;
const send = (m: WorkerMessage): void => port.postMessage(m);
const target = TARGETS[data.target];

const fuzzer = new Fuzzer(target, {
  corpusDir: data.corpusDir,
  findingsDir: data.findingsDir,
  coveragePrefix: `${pathToFileURL(join(data.root, 'src')).href}/`,
  seed: data.seed,
  budgetMs: data.budgetMs,
  maxRuns: data.maxRuns,
  batch: data.batch,
  maxLen: data.maxLen,
  save: data.save,
  minimise: data.minimise,
  minimiseBy: data.minimiseBy,
  slot: new ExecSlot(data.slot),
  log: (line) => send({ type: 'log', line }),
  onFinding: (f) => send({ type: 'finding', ...f }),
});

if (data.minimiseOnly) {
  fuzzer.coverage.start();
  fuzzer.minimise();
  fuzzer.coverage.stop();
  port.close();
} else {
  send({ type: 'done', stats: fuzzer.run() });
}
