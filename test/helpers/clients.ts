// Real RTSP clients as the interop tests run them: what they decoded and what they complained about.
import { run } from './tools.js';

export interface DecodeResult {
  /** Decoded frames of the first stream (video, or the only stream). */
  frames: number;
  /** Decoded frames per output stream index. */
  framesByStream: number[];
  /** What the client printed at `-v error` (ffmpeg) or its ERROR/WARNING lines (GStreamer). */
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
  for (const line of stdout.split('\n')) {
    const m = /^(\d+),/.exec(line);
    if (m) framesByStream[Number(m[1])] = (framesByStream[Number(m[1])] ?? 0) + 1;
  }
  return { frames: framesByStream[0] ?? 0, framesByStream, errors: r.stderr.trim(), code: r.code, stdout };
}

/**
 * Plays `url` with `rtspsrc ! CHAIN ! fakesink` for `seconds` (stopped with SIGINT, so it ends
 * cleanly) and counts the buffers the sink got. `chain` defaults to `decodebin ! video/x-raw`.
 */
export async function gstDecode(
  url: string,
  transport: string,
  seconds: number,
  options: { rtspsrc?: string[]; chain?: string[] } = {},
): Promise<DecodeResult> {
  const r = await run(
    'timeout',
    [
      '-s',
      'INT',
      String(seconds),
      'gst-launch-1.0',
      '-v',
      '-e',
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
    (seconds + 15) * 1000,
  );
  const stdout = r.stdout.toString();
  const frames = stdout.split('\n').filter((l) => l.includes('last-message = chain')).length;
  // Each error with the lines gst-launch prints after it (they name the element and the status).
  const lines = `${stdout}\n${r.stderr}`.split('\n');
  const errors = lines
    .flatMap((l, i) => (/ERROR|CRITICAL|WARNING: from element/.test(l) ? lines.slice(i, i + 4) : []))
    .join('\n');
  return { frames, framesByStream: [frames], errors, code: r.code, stdout };
}
