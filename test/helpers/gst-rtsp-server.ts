// GStreamer's RTSP server (gst-rtsp-server.py, run with the system Python) as a child of the test.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SYSTEM_PYTHON } from './tools.js';

const SERVER_SCRIPT = fileURLToPath(new URL('./gst-rtsp-server.py', import.meta.url));

export interface GstRtspServer {
  child: ChildProcessWithoutNullStreams;
  port: number;
  /** What the script printed on stderr (GStreamer warnings, Python tracebacks). */
  stderr: string;
  /** How many RTSP sessions the server's session pool holds now. */
  sessions(): Promise<number>;
  /** SIGKILL: the server vanishes without a TEARDOWN or an RTCP BYE. Resolves once it exited. */
  kill(): Promise<void>;
  /** Stops it (stdin closed, SIGTERM, SIGKILL after 3 s). Resolves once it exited. */
  stop(): Promise<void>;
}

function exited(child: ChildProcessWithoutNullStreams): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * Starts gst-rtsp-server.py serving `file` at /test with `args` (`--port`, `--shared`, `--auth` …)
 * and waits (bounded) for the "PORT n" line it prints once it listens.
 */
export function startGstRtspServer(file: string, args: string[] = []): Promise<GstRtspServer> {
  const child = spawn(SYSTEM_PYTHON, [SERVER_SCRIPT, '--file', file, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stdout = '';
  /** Waiters for the "SESSIONS n" answers, in the order the "count" lines were sent. */
  const counts: Array<(n: number) => void> = [];
  const server: GstRtspServer = {
    child,
    port: 0,
    stderr: '',
    sessions() {
      if (exited(child)) return Promise.reject(new Error('gst-rtsp-server.py is not running'));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('gst-rtsp-server.py did not answer "count"')), 5000);
        counts.push((n) => {
          clearTimeout(timer);
          resolve(n);
        });
        child.stdin.write('count\n');
      });
    },
    async kill() {
      if (!exited(child)) child.kill('SIGKILL');
      await exit;
    },
    async stop() {
      if (exited(child)) return;
      child.stdin.end();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exit;
      clearTimeout(timer);
    },
  };
  child.stdin.on('error', () => {}); // a "count" written as it dies: sessions() times out instead
  child.stderr.on('data', (d: Buffer) => {
    server.stderr += d.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('gst-rtsp-server.py did not start in 15 s')), 15_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${error.message}\n${server.stderr}`));
    };
    child.on('error', fail);
    child.on('exit', (code, signal) => {
      if (server.port === 0) fail(new Error(`gst-rtsp-server.py exited with ${code ?? signal}`));
    });
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      let newline = stdout.indexOf('\n');
      while (newline >= 0) {
        const line = stdout.slice(0, newline).trim();
        stdout = stdout.slice(newline + 1);
        newline = stdout.indexOf('\n');
        const port = /^PORT (\d+)$/.exec(line);
        if (port && server.port === 0) {
          clearTimeout(timer);
          server.port = Number(port[1]);
          resolve(server);
        }
        const sessions = /^SESSIONS (\d+)$/.exec(line);
        if (sessions) counts.shift()?.(Number(sessions[1]));
      }
    });
  });
}
