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

let prometheusParserFound: boolean | undefined;

/** True when SYSTEM_PYTHON has the Prometheus client's parser (python3-prometheus-client). */
export function hasPrometheusParser(): boolean {
  prometheusParserFound ??=
    spawnSync(SYSTEM_PYTHON, ['-c', 'import prometheus_client.parser'], { stdio: 'ignore', timeout: 10_000 })
      .status === 0;
  return prometheusParserFound;
}

/** Like requireTools, for the Prometheus text parser used to read /metrics as Prometheus would. */
export function requirePrometheusParser(t: TestContext): boolean {
  if (hasPrometheusParser()) return true;
  return skipOrFail(
    t,
    `${SYSTEM_PYTHON} with prometheus_client not found: install python3-prometheus-client to run this test`,
  );
}

/** One sample of a parsed exposition. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  /** The value; NaN and infinities come as the strings 'nan', 'inf', '-inf' (JSON has no such number). */
  value: number | string;
}

/**
 * Parses a Prometheus text exposition with the Prometheus client's own parser
 * (text_string_to_metric_families); rejects with the parser's error when it cannot.
 */
export function parsePrometheusText(text: string): Promise<PromSample[]> {
  const script =
    'import sys, json, math\n' +
    'from prometheus_client.parser import text_string_to_metric_families\n' +
    'out = []\n' +
    'for family in text_string_to_metric_families(sys.stdin.read()):\n' +
    '    for s in family.samples:\n' +
    '        value = s.value if math.isfinite(s.value) else str(s.value)\n' +
    '        out.append({"name": s.name, "labels": s.labels, "value": value})\n' +
    'print(json.dumps(out))\n';
  return new Promise((resolve, reject) => {
    const child = spawn(SYSTEM_PYTHON, ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out) as PromSample[]);
      else reject(new Error(`the Prometheus parser refused the exposition (exit ${code}): ${err}`));
    });
    child.stdin.end(text);
  });
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

let netnsAllowed: boolean | undefined;

/** Whether `unshare -n` works here and `ip` can configure the new namespace. */
export function canUseNetns(): boolean {
  netnsAllowed ??=
    hasTool('unshare') &&
    hasTool('ip') &&
    spawnSync('unshare', ['-n', 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'ignore', timeout: 10_000 })
      .status === 0;
  return netnsAllowed;
}

/**
 * True when this process may create a network namespace (`unshare -n`, root or a user namespace)
 * and configure it with `ip`; like requireTools otherwise. Multicast tests run only in one.
 */
export function requireNetns(t: TestContext): boolean {
  if (!hasTool('unshare') || !hasTool('ip'))
    return skipOrFail(t, 'unshare or ip not found: install util-linux and iproute2 to run this test');
  if (canUseNetns()) return true;
  return skipOrFail(t, 'cannot create a network namespace here (unshare -n refused): run as root');
}

/** Skips the test with `message`, or fails it under SMOLRTSP_REQUIRE_TOOLS=1 (CI). */
/** Debian's chromium, which the web page tests drive through playwright-core (no browser download). */
export const CHROMIUM = '/usr/bin/chromium';

/** Like requireTools, for the web page tests' browser. */
export function requireChromium(t: TestContext): boolean {
  if (existsSync(CHROMIUM)) return true;
  return skipOrFail(t, `${CHROMIUM} not found: install Debian's chromium package to run the web page tests`);
}

/**
 * Imports npm package `name` (a devDependency the test needs), or skips the test — or, with
 * SMOLRTSP_REQUIRE_TOOLS=1 (CI), fails it: a check that cannot run must not pass silently there.
 */
export async function importDevPackage<T>(t: TestContext, name: string): Promise<T | undefined> {
  try {
    // A specifier in a variable: the type checker must not need the package to be installed.
    const specifier = name;
    return (await import(specifier)) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    skipOrFail(t, `${name} not installed: run npm install (it is a devDependency)`);
    return undefined;
  }
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
