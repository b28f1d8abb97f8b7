// `npm run bench:footprint`: what the package costs an embedded user. Each case runs in a fresh Node
// process (bench/footprint-child.mjs, plain JavaScript, the built package from dist/), RUNS times,
// cases interleaved so a busy machine slows them alike; the medians go beside bare Node's:
// - bare Node: the same child script importing nothing;
// - import: `import('smolrtsp')`, nothing else;
// - one pushed stream: imported, a server on loopback, one H.264 stream pushed at 25 fps for SECONDS,
//   no client, then with one client playing it over TCP (an RtspClient in this process).
// Run `npm run build` first (the bench measures dist/, what an installed package loads).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { RtspClient } from '../src/client/rtsp-client.js';
import { BENCHMARKS_MD, writeBenchmarksSection } from './benchmarks-md.js';

const CHILD = fileURLToPath(new URL('./footprint-child.mjs', import.meta.url));
const ENTRY = fileURLToPath(new URL('../dist/index.js', import.meta.url));
export const FOOTPRINT_START = '<!-- footprint:start -->';
export const FOOTPRINT_END = '<!-- footprint:end -->';
const RUNS = Number(process.env.FOOTPRINT_RUNS ?? 5);
const SECONDS = Number(process.env.FOOTPRINT_SECONDS ?? 3);
const CASE_TIMEOUT_MS = (SECONDS + 20) * 1000;

type CaseName = 'bare' | 'import' | 'stream' | 'stream+client';
interface Sample {
  importMs: number;
  rssMB: number;
  heapMB: number;
  frames?: number;
  sessions?: number;
}

/** One case in a fresh process; with a client, plays the stream before the push starts. */
async function runCase(name: CaseName, entry: string): Promise<Sample> {
  const mode = name === 'stream+client' ? 'stream' : name;
  const child: ChildProcess = spawn(process.execPath, [CHILD, mode, entry, String(SECONDS)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), CASE_TIMEOUT_MS);
  let client: RtspClient | undefined;
  try {
    const lines = createInterface({ input: child.stdout! });
    for await (const line of lines) {
      const listening = /^listening (\d+)$/.exec(line);
      if (listening) {
        if (name === 'stream+client') {
          client = new RtspClient(`rtsp://127.0.0.1:${listening[1]}/footprint`, { transport: 'tcp' });
          await client.start();
        }
        child.stdin!.write('go\n');
        continue;
      }
      if (line.startsWith('{')) return JSON.parse(line) as Sample;
    }
    throw new Error(`footprint case ${name} ended without a result`);
  } finally {
    clearTimeout(killer);
    await client?.close().catch(() => {});
    if (child.exitCode === null) child.kill();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface FootprintRow {
  name: CaseName;
  importMs: number;
  rssMB: number;
  rssSpreadMB: [number, number];
  heapMB: number;
  sessions: number;
}

export async function measureFootprint(entry = ENTRY, runs = RUNS): Promise<FootprintRow[]> {
  const names: CaseName[] = ['bare', 'import', 'stream', 'stream+client'];
  const samples = new Map<CaseName, Sample[]>(names.map((n) => [n, []]));
  for (let r = 0; r < runs; r++) {
    for (const n of names) samples.get(n)!.push(await runCase(n, entry));
  }
  return names.map((name) => {
    const s = samples.get(name)!;
    return {
      name,
      importMs: median(s.map((x) => x.importMs)),
      rssMB: median(s.map((x) => x.rssMB)),
      rssSpreadMB: [Math.min(...s.map((x) => x.rssMB)), Math.max(...s.map((x) => x.rssMB))],
      heapMB: median(s.map((x) => x.heapMB)),
      sessions: Math.min(...s.map((x) => x.sessions ?? 0)),
    };
  });
}

const LABELS: Record<CaseName, string> = {
  bare: 'bare Node',
  import: "`import('smolrtsp')`",
  stream: `+ one pushed H.264 stream (${SECONDS} s, no client)`,
  'stream+client': '+ one client playing it (TCP)',
};

export function footprintTable(rows: FootprintRow[]): string {
  const bare = rows.find((r) => r.name === 'bare')!;
  const lines = [
    '| case | import | RSS (median, min–max) | over bare Node | JS heap used |',
    '|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${LABELS[r.name]} | ${r.name === 'bare' ? '—' : `${r.importMs.toFixed(0)} ms`} | ` +
        `${r.rssMB.toFixed(1)} MB (${r.rssSpreadMB[0].toFixed(1)}–${r.rssSpreadMB[1].toFixed(1)}) | ` +
        `${r.name === 'bare' ? '—' : `+${(r.rssMB - bare.rssMB).toFixed(1)} MB`} | ${r.heapMB.toFixed(1)} MB |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  if (!existsSync(ENTRY)) {
    console.error('bench/footprint.ts measures the built package: run `npm run build` first');
    process.exit(2);
  }
  const rows = await measureFootprint();
  const table = footprintTable(rows);
  console.log(table);
  const withClient = rows.find((r) => r.name === 'stream+client')!;
  if (withClient.sessions < 1) console.error('warning: the client did not reach PLAY in every run');
  const section = `${FOOTPRINT_START}
## Footprint

Produced by \`npm run bench:footprint\` (bench/footprint.ts). Last run: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}, Node ${process.version}.
Each case is a fresh Node process running bench/footprint-child.mjs against the built package (dist/),
${RUNS} runs per case, interleaved; medians. "import" is the time \`await import('smolrtsp')\` takes;
RSS is read after the import, or after ${SECONDS} s of pushing 25 fps from the sample clip to a server on
loopback. "bare Node" is the same script importing nothing. The child splits the clip with Buffer#indexOf:
a byte loop in JavaScript got optimised by V8 and its compiler's ~4 MB of RSS was counted as ours.

${table}
${FOOTPRINT_END}`;
  writeBenchmarksSection(FOOTPRINT_START, FOOTPRINT_END, section);
  console.log(`wrote the footprint section of ${BENCHMARKS_MD}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
