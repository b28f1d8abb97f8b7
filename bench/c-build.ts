// Builds one of the bench's C programs with the system C compiler, once per source version: into
// $TMPDIR/smolrtsp-bench, named by the source's hash, so an edit rebuilds and a rerun does not.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/** Path of the compiled program, or why there is none (no `cc`, or it failed). */
export function buildCProgram(
  source: string,
  libraries: string[] = [],
): { path: string } | { skipped: string } {
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), 'smolrtsp-bench');
  const out = join(dir, `${basename(source, '.c')}-${hash}`);
  if (existsSync(out)) return { path: out };
  mkdirSync(dir, { recursive: true });
  const tmp = `${out}.${process.pid}`;
  const r = spawnSync('cc', ['-O2', '-o', tmp, source, ...libraries], { encoding: 'utf8' });
  if (r.error) return { skipped: `no C compiler (cc: ${r.error.message})` };
  if (r.status !== 0) return { skipped: `cc failed: ${r.stderr.trim().split('\n').slice(0, 3).join(' ')}` };
  renameSync(tmp, out);
  return { path: out };
}
