// Builds bench/load-client.c (bench/c-build.ts) and drives it: start N sessions, mark the window, end it, read the JSON it reports.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { buildCProgram } from './c-build.js';

const SOURCE = fileURLToPath(new URL('./load-client.c', import.meta.url));

/** What the C client prints once every session answered PLAY (or failed) and has a first packet. */
export interface CPlaying {
  clients: number;
  playing: number;
  setupP50Ms: number;
  setupMaxMs: number;
  playP50Ms: number;
  playMaxMs: number;
  firstPacketKeyframe: number;
  errors: Record<string, number>;
}

/** The C client's report after the window: packets of exactly the window's sequence range. */
export interface CResult {
  playing: number;
  windowExpected: number;
  windowRecvMin: number;
  windowRecvMax: number;
  lost: number;
  gapClients: number;
  late: number;
  gapListsFull: number;
  totalRecvMin: number;
  totalRecvMax: number;
  /** ms after `end` until every client had the window's last packet; -1: not within 3 s. */
  tailMs: number;
  /** The client's own CPU (user + system) from `mark` to `end`. */
  cpuS: number;
  rtcp: number;
  tornDown: number;
  errors: Record<string, number>;
}

/** Path of the compiled client, or a reason it is not there (no `cc`, or it failed). */
export function buildCLoadClient(): { path: string } | { skipped: string } {
  return buildCProgram(SOURCE);
}

export interface CClientOptions {
  binary: string;
  port: number;
  path: string;
  clients: number;
  transport: 'tcp' | 'udp';
  ramp: number;
  timeoutMs: number;
}

export class CLoadClient {
  private readonly child: ChildProcess;
  private readonly lines: string[] = [];
  private wake: (() => void) | undefined;
  readonly exited: Promise<number | null>;

  constructor(o: CClientOptions) {
    const args = ['--port', String(o.port), '--path', o.path, '--clients', String(o.clients)];
    args.push('--ramp', String(o.ramp), '--timeout-ms', String(o.timeoutMs));
    if (o.transport === 'udp') args.push('--udp');
    this.child = spawn(o.binary, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    void this.exited.then(() => this.wake?.());
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      this.wake?.();
    });
    this.child.stdin!.on('error', () => {});
  }

  /** The next JSON line with this `event`, or an error after `timeoutMs` or if the client exits. */
  private async next<T>(event: string, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.lines.findIndex((l) => l.includes(`"event":"${event}"`));
      if (i >= 0) return JSON.parse(this.lines.splice(i, 1)[0]) as T;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(
          `the C load client exited (${this.child.exitCode ?? this.child.signalCode}) before "${event}"`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the C load client did not report "${event}" in ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1000));
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  playing(timeoutMs: number): Promise<CPlaying> {
    return this.next<CPlaying>('playing', timeoutMs);
  }

  /** Window start; `nextSeq` is the server's next RTP sequence number. */
  mark(nextSeq: number): void {
    this.child.stdin!.write(`mark ${nextSeq}\n`);
  }

  /** Window end: waits for the tail (≤ 3 s) and the teardowns (≤ 5 s), then the report. */
  end(nextSeq: number): Promise<CResult> {
    this.child.stdin!.write(`end ${nextSeq}\n`);
    return this.next<CResult>('result', 15_000);
  }

  /** Closes its stdin (it exits at once) and kills it, this one process, if it lingers. */
  async close(): Promise<void> {
    this.child.stdin!.end();
    const done = await Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 3000)),
    ]);
    if (!done) this.child.kill('SIGKILL');
  }
}
