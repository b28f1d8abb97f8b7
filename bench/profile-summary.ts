// Summarises a V8 .cpuprofile (e.g. BENCH_CPU_PROFILE=x.cpuprofile npm run bench:fanout -- --only tcp-500):
// the top frames by self time and by total (inclusive) time, each as a share of all samples and of
// the busy ones (all but "(idle)": running JavaScript, native code or a system call).
// usage: node --import tsx bench/profile-summary.ts x.cpuprofile [--top 15]
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  options: { top: { type: 'string' } },
  allowPositionals: true,
});
if (positionals.length !== 1) {
  console.error('usage: bench/profile-summary.ts <file.cpuprofile> [--top 15]');
  process.exit(2);
}
const top = Number(values.top ?? 15);
const profile = JSON.parse(readFileSync(positionals[0], 'utf8')) as Profile;

const byId = new Map<number, ProfileNode>();
const parent = new Map<number, number>();
for (const n of profile.nodes) {
  byId.set(n.id, n);
  for (const c of n.children ?? []) parent.set(c, n.id);
}

function label(n: ProfileNode): string {
  const f = n.callFrame;
  const name = f.functionName || '(anonymous)';
  if (!f.url) return name;
  const file = basename(f.url.replace(/^file:\/\//, ''));
  return `${name} ${file}:${f.lineNumber + 1}`;
}

// Time per sample: the delta to the next sample (V8's own convention for self time).
const selfUs = new Map<string, number>();
const totalUs = new Map<string, number>();
let allUs = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i + 1] ?? 0;
  if (dt <= 0) continue;
  allUs += dt;
  const leaf = byId.get(profile.samples[i]);
  if (!leaf) continue;
  selfUs.set(label(leaf), (selfUs.get(label(leaf)) ?? 0) + dt);
  // Inclusive: each distinct frame on the stack once (recursion counted once).
  const seen = new Set<string>();
  for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
    const l = label(byId.get(id)!);
    if (seen.has(l)) continue;
    seen.add(l);
    totalUs.set(l, (totalUs.get(l) ?? 0) + dt);
  }
}

const busyUs = allUs - (selfUs.get('(idle)') ?? 0);

function table(title: string, m: Map<string, number>): void {
  console.log(`\n${title}: ${(allUs / 1000).toFixed(0)} ms sampled, ${(busyUs / 1000).toFixed(0)} ms busy`);
  console.log('   all    busy       ms  frame');
  const rows = [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [l, us] of rows) {
    const busy = l === '(idle)' || l === '(root)' ? '' : `${((100 * us) / busyUs).toFixed(1)}%`;
    const all = `${((100 * us) / allUs).toFixed(1)}%`;
    console.log(`${all.padStart(6)} ${busy.padStart(7)} ${(us / 1000).toFixed(0).padStart(8)}  ${l}`);
  }
}

table('self time', selfUs);
table('total time', totalUs);
