import { readdirSync, readFileSync } from 'node:fs';
import { childProcessModule } from './builtins.js';

/**
 * The process's soft limit on open descriptors (RLIMIT_NOFILE), or undefined when it is unlimited or
 * cannot be read. Node has no call for it: Linux shows it in /proc/self/limits; elsewhere a shell's
 * `ulimit -n` reports the limit it inherited from us.
 */
export function openFileLimit(): number | undefined {
  try {
    const match = /^Max open files\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (match) return parseLimit(match[1]);
  } catch {
    // Not Linux: ask a shell.
  }
  try {
    return parseLimit(
      // Only where /proc is missing: node:child_process is not loaded by every `import 'smolrtsp'`.
      childProcessModule()
        .execFileSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8', timeout: 2000 })
        .trim(),
    );
  } catch {
    return undefined;
  }
}

function parseLimit(text: string): number | undefined {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** Descriptors the process has open now (Linux), or undefined where they cannot be counted. */
export function openFileCount(): number | undefined {
  try {
    // The listing itself holds one while it reads.
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return undefined;
  }
}

/** Descriptors assumed open before any client where they cannot be counted: Node's own, stdio, the listeners. */
const ASSUMED_BASELINE = 32;

/**
 * Keeps the server's client sockets within the descriptor limit, with a reserve for what else needs
 * one (UDP pairs of a SETUP on an admitted connection, files a source opens, log files): a server
 * that reaches the limit cannot accept a socket to refuse it, cannot bind a UDP pair, cannot open a
 * file. Counted, never scanned: descriptors open before the first client (the baseline), plus what
 * the server tracks (client sockets, TLS handshakes, UDP pairs, sockets being refused).
 */
export class DescriptorBudget {
  /** Descriptors kept free below the limit. */
  readonly reserve: number;
  private baseline = ASSUMED_BASELINE;

  constructor(readonly limit: number) {
    this.reserve = Math.max(8, Math.min(64, Math.floor(limit / 16)));
  }

  /** Counts what is open now, before any client: called once the server listens. */
  measureBaseline(): void {
    this.baseline = openFileCount() ?? ASSUMED_BASELINE;
  }

  /** True when one more client socket would eat into the reserve. */
  full(tracked: number): boolean {
    return this.baseline + tracked + 1 > this.limit - this.reserve;
  }

  /** Client sockets the limit leaves room for, as planned (the README's figure). */
  get clientRoom(): number {
    return Math.max(0, this.limit - this.reserve - this.baseline);
  }
}
