// What the ffmpeg source asks ffmpeg to do with each stream: copy what RTP can carry, encode the
// rest. Pure: reads ffmpeg's stderr text and builds argument lists; runs nothing.

export type FfmpegStreamKind = 'video' | 'audio' | 'subtitle' | 'data' | 'attachment';

/** One stream of ffmpeg's inputs, as its `Input #N` listing shows it. */
export interface FfmpegInputStream {
  /** `file:stream`, e.g. `0:1`. */
  id: string;
  kind: FfmpegStreamKind;
  /** ffmpeg's codec name: `h264`, `rawvideo`, `pcm_s16le`, ... */
  codec: string;
}

/** One stream of ffmpeg's output, in output order. */
export interface FfmpegOutputStream {
  index: number;
  kind: FfmpegStreamKind;
  /** The input stream it is mapped from as is; undefined when a filter graph makes it. */
  source: string | undefined;
}

export interface FfmpegStreams {
  inputs: FfmpegInputStream[];
  outputs: FfmpegOutputStream[];
}

const KINDS: Record<string, FfmpegStreamKind> = {
  Video: 'video',
  Audio: 'audio',
  Subtitle: 'subtitle',
  Data: 'data',
  Attachment: 'attachment',
};

// `  Stream #0:1[0x101](eng): Audio: aac (LC) ([15][0][0][0] / 0x000F), 48000 Hz, ...`
const STREAM_LINE = /^\s*Stream #(\d+):(\d+)(?:\[[^\]]*\])?(?:\([^)]*\))?: (\w+): ([\w-]+)/;
// `  Stream #1:0 -> #0:1 (pcm_s16le (native) -> aac (native))` or `(copy)`
const MAPPING_LINE = /^\s*Stream #(\d+:\d+) -> #\d+:(\d+)/;

/**
 * Reads the stream listings ffmpeg prints at `-loglevel info`: the input streams with their codecs
 * (the `Input #N` sections), the output streams (the `Output #0` section), and which input stream
 * each output stream copies or decodes (the `Stream mapping:` section; filter graph outputs have none).
 */
export function parseFfmpegStreams(stderr: string): FfmpegStreams {
  const inputs: FfmpegInputStream[] = [];
  const outputs: FfmpegOutputStream[] = [];
  const sources = new Map<number, string>();
  let section: 'input' | 'mapping' | 'output' | 'other' = 'other';
  for (const line of stderr.split(/\r?\n|\r/)) {
    if (/^Input #\d+/.test(line)) section = 'input';
    else if (/^Output #0/.test(line)) section = 'output';
    else if (/^Output #/.test(line)) section = 'other';
    else if (/^Stream mapping:/.test(line)) section = 'mapping';
    else if (!/^\s/.test(line)) section = 'other';
    else if (section === 'mapping') {
      const m = MAPPING_LINE.exec(line);
      if (m) sources.set(Number(m[2]), m[1]);
    } else if (section === 'input' || section === 'output') {
      const m = STREAM_LINE.exec(line);
      const kind = m ? KINDS[m[3]] : undefined;
      if (!m || !kind) continue;
      if (section === 'input') inputs.push({ id: `${m[1]}:${m[2]}`, kind, codec: m[4] });
      else outputs.push({ index: Number(m[2]), kind, source: undefined });
    }
  }
  for (const o of outputs) o.source = sources.get(o.index);
  return { inputs, outputs };
}

/**
 * The lines of ffmpeg's stderr that say what went wrong: the last few that are not part of a
 * stream listing, a progress line or a banner; `[tcp @ 0x55d0...]` prefixes lose their address.
 */
export function ffmpegErrorLines(stderr: string, max = 3): string {
  const lines = stderr
    .split(/\r?\n|\r/)
    .map((l) => l.trimEnd())
    .filter(
      (l) =>
        l !== '' &&
        !/^\s/.test(l) &&
        !/^(Input #|Output #|Stream mapping:|Press \[q\]|frame=|size=|video:\d|ffmpeg version)/.test(l),
    )
    .map((l) => redactCredentials(l.replace(/^\[([\w,.-]+) @ 0x[0-9a-f]+\] /, '[$1] ')));
  return lines.slice(-max).join('; ');
}

/** `rtsp://user:secret@cam/x` → `rtsp://***@cam/x`: reasons reach logs and 503 answers. */
export function redactCredentials(text: string): string {
  return text.replace(/\b([a-z][\w+.-]*:\/\/)[^\s/@]+@/gi, '$1***@');
}

/** What happens to one output stream. */
export interface FfmpegTrackPlan {
  /** Output stream index (the track's order in what ffmpeg sends). */
  index: number;
  kind: 'video' | 'audio';
  /** The input codec (`h264`, `rawvideo`, `pcm_s16le`), or `filtered` for a filter graph's output. */
  from: string;
  /** `copy`: passed through; `encode`: encoded here to `to`; `user`: the arguments name the codec. */
  action: 'copy' | 'encode' | 'user';
  /** The codec sent: `h264`, `hevc`, `aac`, or the codec the arguments name. */
  to: string;
}

/** Video and audio codecs that go through as they are (the MPEG-TS demuxer and RTP both carry them). */
const COPY_VIDEO = new Set(['h264', 'hevc']);
const COPY_AUDIO = new Set(['aac']);

/** The codec the user's arguments name for a kind, if any (`-c:v x`, `-vcodec x`, `-c x`, `-codec:a:0 x`). */
function userCodec(userArgs: readonly string[], kind: 'video' | 'audio'): string | undefined {
  const letter = kind === 'video' ? 'v' : 'a';
  let found: string | undefined;
  for (let i = 0; i < userArgs.length - 1; i++) {
    const m = /^-(c|codec|vcodec|acodec)(?::(.*))?$/.exec(userArgs[i]);
    if (!m) continue;
    const spec = m[2];
    const applies =
      m[1] === 'vcodec'
        ? kind === 'video'
        : m[1] === 'acodec'
          ? kind === 'audio'
          : // No stream specifier, or one not naming a kind (`-c:0`): it may cover this kind.
            spec === undefined || spec === '' || spec[0] === letter || !/^[vVas]/.test(spec);
    if (applies) found = userArgs[i + 1];
  }
  return found;
}

/** Whether the user's arguments filter this kind (streams that are filtered cannot be copied). */
function userFilters(userArgs: readonly string[], kind: 'video' | 'audio'): boolean {
  const own = kind === 'video' ? /^-(vf|filter:v.*)$/ : /^-(af|filter:a.*)$/;
  // A filter graph's outputs (`-filter_complex`) show in the mapping as having no input stream.
  return userArgs.some((a) => own.test(a) || a === '-filter');
}

/** Decides per output video/audio stream: copy, encode, or leave to the codec the arguments name. */
export function planFfmpegTracks(userArgs: readonly string[], streams: FfmpegStreams): FfmpegTrackPlan[] {
  const byId = new Map(streams.inputs.map((s) => [s.id, s]));
  const plan: FfmpegTrackPlan[] = [];
  for (const out of streams.outputs) {
    if (out.kind !== 'video' && out.kind !== 'audio') continue;
    const kind = out.kind;
    const input = out.source === undefined ? undefined : byId.get(out.source);
    const from = input?.codec ?? 'filtered';
    const named = userCodec(userArgs, kind);
    if (named !== undefined) {
      plan.push({ index: out.index, kind, from, action: 'user', to: named });
      continue;
    }
    const carriable = (kind === 'video' ? COPY_VIDEO : COPY_AUDIO).has(from) && !userFilters(userArgs, kind);
    if (carriable) plan.push({ index: out.index, kind, from, action: 'copy', to: from });
    else plan.push({ index: out.index, kind, from, action: 'encode', to: kind === 'video' ? 'h264' : 'aac' });
  }
  return plan;
}

export interface FfmpegCommandOptions {
  /** Keyframe interval of encoded video, in seconds (default 2). */
  gopSeconds?: number;
}

/** Output options for one kind's streams with `spec` (`v`, `v:1`, ...) as the stream specifier. */
function codecArgs(p: FfmpegTrackPlan, spec: string, gopSeconds: number): string[] {
  if (p.action === 'copy') return [`-c:${spec}`, 'copy'];
  if (p.kind === 'audio') return [`-c:${spec}`, 'aac'];
  // Low latency: no lookahead, no B-frames; keyframes by time since the frame rate may be unknown.
  return [
    `-c:${spec}`,
    'libx264',
    `-preset:${spec}`,
    'ultrafast',
    `-tune:${spec}`,
    'zerolatency',
    `-pix_fmt:${spec}`,
    'yuv420p',
    `-bf:${spec}`,
    '0',
    `-force_key_frames:${spec}`,
    `expr:gte(t,n_forced*${gopSeconds})`,
  ];
}

/**
 * The whole ffmpeg command line: the user's arguments, the codec options `plan` asks for, then
 * MPEG-TS on stdout with low delay. Without a plan every codec is copied unless the arguments name one.
 */
export function ffmpegCommand(
  userArgs: string[],
  plan?: readonly FfmpegTrackPlan[],
  options: FfmpegCommandOptions = {},
): string[] {
  const codecs: string[] = [];
  if (plan === undefined) {
    if (userCodec(userArgs, 'video') === undefined && userCodec(userArgs, 'audio') === undefined)
      codecs.push('-c', 'copy');
  } else {
    const gop = options.gopSeconds ?? 2;
    for (const [kind, letter] of [
      ['video', 'v'],
      ['audio', 'a'],
    ] as const) {
      const mine = plan.filter((p) => p.kind === kind && p.action !== 'user');
      if (mine.length === 0) continue;
      const same = mine.every((p) => p.action === mine[0].action);
      if (same && mine.length === plan.filter((p) => p.kind === kind).length) {
        codecs.push(...codecArgs(mine[0], letter, gop));
      } else {
        // Mixed: address each stream by its place among this kind's output streams.
        plan
          .filter((p) => p.kind === kind)
          .forEach((p, n) => {
            if (p.action !== 'user') codecs.push(...codecArgs(p, `${letter}:${n}`, gop));
          });
      }
    }
    // Only video and audio are served; other streams could stop MPEG-TS muxing.
    codecs.push('-sn', '-dn');
  }
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    ...userArgs,
    ...codecs,
    '-f',
    'mpegts',
    '-muxdelay',
    '0',
    '-muxpreload',
    '0',
    '-flush_packets',
    '1',
    'pipe:1',
  ];
}

/** The probe: opens the inputs as the real run will, encodes nothing (`-t 0`), lists the streams. */
export function ffmpegProbeCommand(userArgs: string[]): string[] {
  return ['-hide_banner', '-nostdin', '-loglevel', 'info', ...userArgs, '-t', '0', '-f', 'null', '-'];
}

/** One line per track for logs: `track 0 video rawvideo → h264 (encoded)`. */
export function describePlan(p: FfmpegTrackPlan): string {
  if (p.action === 'copy') return `track ${p.index} ${p.kind} ${p.from} (copied)`;
  if (p.action === 'encode') return `track ${p.index} ${p.kind} ${p.from} → ${p.to} (encoded)`;
  return `track ${p.index} ${p.kind} ${p.from} → ${p.to} (as the arguments say)`;
}
