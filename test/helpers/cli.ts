// Runs `smolrtsp serve` as a user would (through tsx), with JSON logs, for tests that read its log.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface RunningCli {
  child: ChildProcess;
  port: number;
  /** Everything printed to stdout so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** The JSON log lines so far. */
  logLines(): LogLine[];
  /** Waits until some log line satisfies `predicate`. */
  waitForLine(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  exited: Promise<number | null>;
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts `serve --host 127.0.0.1 --port P --log-json ARGS` and waits until it serves. `wrapper` runs
 * it under another command (e.g. `['prlimit', '--nofile=64:64', '--']`).
 */
export async function startCli(args: string[], wrapper: string[] = []): Promise<RunningCli> {
  const port = await freePort();
  const argv = [
    process.execPath,
    ...[
      '--import',
      'tsx',
      MAIN,
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--log-json',
      ...args,
    ],
  ];
  const command = [...wrapper, ...argv];
  const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const cli: RunningCli = {
    child,
    port,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    logLines() {
      return stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as LogLine);
    },
    async waitForLine(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = cli.logLines().find(predicate);
        if (found) return found;
        assert.ok(Date.now() < deadline, `log line not seen in time; log so far:\n${stdout}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    exited,
  };
  try {
    await cli.waitForLine((l) => l.msg === 'serving', 20_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return cli;
}
