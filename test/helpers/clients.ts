// Real RTSP clients as the interop tests run them: what they decoded and what they complained about.
import { run } from './tools.js';

export interface DecodeResult {
  /** Decoded frames of the first stream (video, or the only stream). */
  frames: number;
  /** Decoded frames per output stream index. */
  framesByStream: number[];
  /** Presentation time (seconds) of each decoded frame of the first stream, in output order. */
  pts: number[];
  /** What the client printed at `-v error` (ffmpeg), or its ERROR/WARNING lines while streaming (GStreamer). */
  errors: string;
  code: number | null;
  stdout: string;
}

/** Decodes `seconds` of `url` with ffmpeg into framecrc lines (one per decoded frame). */
export async function ffmpegDecode(
  url: string,
  transport: string,
  seconds: number,
  options: { audio?: boolean; inputArgs?: string[] } = {},
): Promise<DecodeResult> {
  const r = await run(
    'ffmpeg',
    [
      '-nostdin',
      '-v',
      'error',
      ...(options.inputArgs ?? []),
      '-rtsp_transport',
      transport,
      '-i',
      url,
      '-t',
      String(seconds),
      ...(options.audio ? [] : ['-an']),
      '-f',
      'framecrc',
      '-',
    ],
    (seconds + 15) * 1000,
  );
  const stdout = r.stdout.toString();
  const framesByStream: number[] = [];
  const pts: number[] = [];
  // "#tb 0: 1/25", then "stream, dts, pts, duration, size, crc" per frame.
  const timeBase = /^#tb 0: (\d+)\/(\d+)$/m.exec(stdout);
  for (const line of stdout.split('\n')) {
    const m = /^(\d+),\s*-?\d+,\s*(-?\d+),/.exec(line);
    if (!m) continue;
    framesByStream[Number(m[1])] = (framesByStream[Number(m[1])] ?? 0) + 1;
    if (m[1] === '0' && timeBase) pts.push((Number(m[2]) * Number(timeBase[1])) / Number(timeBase[2]));
  }
  return {
    frames: framesByStream[0] ?? 0,
    framesByStream,
    pts,
    errors: r.stderr.trim(),
    code: r.code,
    stdout,
  };
}

/** What a gst-launch-1.0 run printed, split where it began to stop itself. */
export interface GstRun {
  /** stdout and stderr, interleaved as printed (GLib flushes every print). */
  output: string;
  /** ERROR, CRITICAL and "WARNING: from element" lines, each with the lines after it, printed while streaming. */
  errors: string;
  /** The same, printed once gst-launch had begun to tear the pipeline down. */
  shutdownErrors: string;
  code: number | null;
}

/** gst-launch-1.0 prints this right before it takes the pipeline to NULL. */
const TEARDOWN_MARK = 'Setting pipeline to NULL';

/**
 * Runs `gst-launch-1.0 -e ARGS` for `seconds`, then stops it with SIGINT (so it ends cleanly).
 *
 * Errors printed after the teardown began are kept apart: rtspsrc (GStreamer 1.22) sends PAUSE and,
 * a moment later, CLOSE from the state change to NULL; when CLOSE comes while PAUSE is still being
 * written, it flushes the connection under it and the interrupted write is posted as "Could not
 * write to resource (Received end-of-file)", although the server never closed anything and gets
 * the TEARDOWN that follows. That is the client stopping, not the stream failing.
 */
export async function gstLaunch(args: string[], seconds: number): Promise<GstRun> {
  const r = await run(
    'sh',
    ['-c', 'exec timeout -s INT "$@" 2>&1', 'sh', String(seconds), 'gst-launch-1.0', '-e', ...args],
    (seconds + 15) * 1000,
  );
  const output = r.stdout.toString();
  const cut = output.indexOf(TEARDOWN_MARK);
  const streaming = cut < 0 ? output : output.slice(0, cut);
  return {
    output,
    errors: errorLines(streaming),
    shutdownErrors: cut < 0 ? '' : errorLines(output.slice(cut)),
    code: r.code,
  };
}

/** Each error with the lines gst-launch prints after it (they name the element and the status). */
function errorLines(text: string): string {
  const lines = text.split('\n');
  return lines
    .flatMap((l, i) => (/ERROR|CRITICAL|WARNING: from element/.test(l) ? lines.slice(i, i + 4) : []))
    .join('\n');
}

/**
 * Plays `url` with `rtspsrc ! CHAIN ! fakesink` for `seconds` and counts the buffers the sink got.
 * `chain` defaults to `decodebin ! video/x-raw`.
 */
export async function gstDecode(
  url: string,
  transport: string,
  seconds: number,
  options: { rtspsrc?: string[]; chain?: string[] } = {},
): Promise<DecodeResult & { shutdownErrors: string }> {
  const r = await gstLaunch(
    [
      '-v',
      'rtspsrc',
      `location=${url}`,
      `protocols=${transport}`,
      'latency=200',
      ...(options.rtspsrc ?? []),
      '!',
      ...(options.chain ?? ['decodebin', '!', 'video/x-raw']),
      '!',
      'fakesink',
      'silent=false',
    ],
    seconds,
  );
  const chains = r.output.split('\n').filter((l) => l.includes('last-message = chain'));
  const pts = chains.flatMap((l) => {
    const m = /pts: (\d+):(\d+):(\d+(?:\.\d+)?)/.exec(l);
    return m ? [Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])] : [];
  });
  return {
    frames: chains.length,
    framesByStream: [chains.length],
    pts,
    errors: r.errors,
    shutdownErrors: r.shutdownErrors,
    code: r.code,
    stdout: r.output,
  };
}

/** What ffprobe reports of a URL's streams, one csv line per stream (`-show_entries stream=<entries>`). */
export async function ffprobeStreams(
  url: string,
  options: { transport?: string; entries?: string; timeoutMs?: number } = {},
): Promise<{ lines: string[]; stderr: string; code: number | null; timedOut: boolean }> {
  const r = await run(
    'ffprobe',
    [
      '-v',
      'error',
      '-rtsp_transport',
      options.transport ?? 'tcp',
      '-show_entries',
      `stream=${options.entries ?? 'codec_name,width,height'}`,
      '-of',
      'csv=p=0',
      url,
    ],
    options.timeoutMs ?? 20_000,
  );
  const lines = r.stdout.toString().trim().split('\n').filter(Boolean);
  return { lines, stderr: r.stderr, code: r.code, timedOut: r.timedOut };
}
