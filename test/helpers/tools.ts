// Finding and running the real clients (ffprobe, ffmpeg, gst-launch-1.0) the interop tests use.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';

const found = new Map<string, boolean>();

export function hasTool(name: string): boolean {
  let ok = found.get(name);
  if (ok === undefined) {
    ok = spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
    found.set(name, ok);
  }
  return ok;
}

const gstElements = new Map<string, boolean>();

/** Whether GStreamer has element `name` (a plugin package may be missing while gst-launch-1.0 is there). */
export function hasGstElement(name: string): boolean {
  let ok = gstElements.get(name);
  if (ok === undefined) {
    ok =
      hasTool('gst-inspect-1.0') &&
      spawnSync('gst-inspect-1.0', ['--exists', name], { stdio: 'ignore', timeout: 30_000 }).status === 0;
    gstElements.set(name, ok);
  }
  return ok;
}

/**
 * True when every tool is there. Otherwise the test is skipped with a message — or, with
 * SMOLRTSP_REQUIRE_TOOLS=1 (set by CI), fails: a missing client must not pass silently there.
 */
export function requireTools(t: TestContext, ...names: string[]): boolean {
  const missing = names.filter((n) => !hasTool(n));
  if (missing.length === 0) return true;
  return skipOrFail(
    t,
    `${missing.join(', ')} not found: install ffmpeg and GStreamer to run this interop test`,
  );
}

/** The system Python, which is the one Debian's python3-gi (PyGObject) is built for. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

let gstRtspServerFound: boolean | undefined;

/** True when SYSTEM_PYTHON can import GStreamer's RTSP server bindings (gir1.2-gst-rtsp-server-1.0). */
export function hasGstRtspServer(): boolean {
  if (gstRtspServerFound === undefined) {
    const check =
      "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer";
    gstRtspServerFound =
      spawnSync(SYSTEM_PYTHON, ['-c', check], { stdio: 'ignore', timeout: 10_000 }).status === 0;
  }
  return gstRtspServerFound;
}

/** Like requireTools, for GStreamer's RTSP server run from Python (test/helpers/gst-rtsp-server.py). */
export function requireGstRtspServer(t: TestContext): boolean {
  if (hasGstRtspServer()) return true;
  return skipOrFail(
    t,
    `${SYSTEM_PYTHON} with GstRtspServer not found: install python3-gi and gir1.2-gst-rtsp-server-1.0 to run this interop test`,
  );
}

/** As requireTools, for GStreamer elements (checked with `gst-inspect-1.0 --exists`). */
export function requireGstElements(t: TestContext, ...names: string[]): boolean {
  const missing = names.filter((n) => !hasGstElement(n));
  if (missing.length === 0) return true;
  return skipOrFail(
    t,
    `GStreamer element ${missing.join(', ')} not found: install its plugin package to run this interop test`,
  );
}

/** Skips the test with `message`, or fails it under SMOLRTSP_REQUIRE_TOOLS=1 (CI). */
/** Debian's chromium, which the web page tests drive through playwright-core (no browser download). */
export const CHROMIUM = '/usr/bin/chromium';

/** Like requireTools, for the web page tests' browser. */
export function requireChromium(t: TestContext): boolean {
  if (existsSync(CHROMIUM)) return true;
  return skipOrFail(t, `${CHROMIUM} not found: install Debian's chromium package to run the web page tests`);
}

function skipOrFail(t: TestContext, message: string): false {
  if (process.env.SMOLRTSP_REQUIRE_TOOLS === '1') throw new Error(message);
  t.skip(message);
  return false;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  timedOut: boolean;
}

/** Runs a command to completion (or kills it after `timeoutMs`), collecting its output. */
export function run(cmd: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: err, timedOut });
    });
  });
}
