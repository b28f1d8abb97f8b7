// BENCHMARKS.md is written by several benches, each owning one section between its markers
// (`<!-- name:start -->` … `<!-- name:end -->`): a bench replaces its own and keeps the rest.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const BENCHMARKS_MD = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));

/** Replaces the section `section` starts with `start` and ends with `end` (appended if absent). */
export function writeBenchmarksSection(start: string, end: string, section: string): void {
  let text = readFileSync(BENCHMARKS_MD, 'utf8');
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  text =
    a >= 0 && b > a
      ? text.slice(0, a) + section + text.slice(b + end.length)
      : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(BENCHMARKS_MD, text);
}
