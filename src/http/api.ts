/**
 * The JSON API under /api/v1: paths (with their tracks, readers, publisher and bitrate), sessions
 * (with the clients' RTCP receiver reports), kicking a session, adding / replacing / removing a path,
 * reloading the config, and the OpenAPI document that describes all of it.
 *
 * Path names contain slashes: `/api/v1/paths/cam` is `/cam`, `/api/v1/paths/site/door` is
 * `/site/door` (each segment percent-decoded). What a path body means (the config file's schema) is
 * the caller's: the controller validates and applies it, so this module needs no schema library.
 */
import type { Stream } from '../media/stream.js';
import type { Track } from '../media/track.js';
import type { RtspServer } from '../server/rtsp-server.js';
import type { SessionInfo } from '../server/session.js';
import { type HttpContext, HttpError, type HttpServer } from './http-server.js';
import { openApiDocument } from './openapi.js';
import { webrtcCarries } from './whep.js';

/** One served path as the controller knows it: its name and what feeds it. */
export interface ApiPathEntry {
  name: string;
  /** `pattern`, `file`, `ffmpeg`, `relay`, `publish`, ... */
  kind: string;
  /** Human-readable, credentials hidden (e.g. `ffmpeg -f v4l2 -i /dev/video0`). */
  description: string;
}

/** What a reload did, path by path (the shape of the CLI's PathTable.apply). */
export interface ApiReloadResult {
  /** False when the config could not be read or is not valid (`error` says where): nothing changed (400). */
  ok?: boolean;
  error?: string;
  added: string[];
  restarted: string[];
  removed: string[];
  kept: string[];
  errors: Record<string, string>;
  /** Settings whose change only a restart applies. */
  restartNeeded?: string[];
}

/**
 * What the API asks of the application for paths. Bodies are one entry of the config file's `paths`.
 * Methods throw HttpError to choose the answer: 400 with `field` for bad input, 409 for a conflict;
 * any other error is a 400 carrying its message (a source that cannot start is the body's fault).
 */
export interface ApiController {
  list(): ApiPathEntry[];
  add(name: string, body: unknown): Promise<void>;
  /** Replaces an existing path's config: `kept` when it is the same (players stay). */
  replace(name: string, body: unknown): Promise<'kept' | 'restarted'>;
  /** False for an unknown path. */
  remove(name: string): boolean;
  /** Re-reads the config file and applies it; absent when the server has nothing to reload. */
  reload?: () => Promise<ApiReloadResult>;
  /** JSON Schema of a path body, for the OpenAPI document (any object when absent). */
  pathBodySchema?: Record<string, unknown>;
}

export interface ApiOptions {
  server: RtspServer;
  controller: ApiController;
  /** Window the bitrate is averaged over. Default 5 s (sampled once a second). */
  bitrateWindowMs?: number;
  /** WebRTC (WHEP) viewers of a path, which are readers too; none when absent. */
  webrtcReaders?: (path: string) => number;
}

export interface TrackView {
  id: number;
  control: string;
  kind: string;
  codec: string;
  clockRate: number;
  payloadType: number;
  /** What the codec knows: width, height, frameRate, profile, sampleRate, channels, fmtp parameters. */
  parameters: Record<string, string | number>;
  packets: number;
  bytes: number;
  /** Whether WebRTC carries the codec as it is (the web page's preview plays it). */
  webrtc: boolean;
}

export interface PathView {
  name: string;
  source: { kind: string; description: string };
  state: 'ready' | 'unavailable' | 'waiting';
  /** Why the path cannot be played now (unavailable, waiting). */
  reason?: string;
  tracks: TrackView[];
  /** Player sessions, RTSP and WebRTC. */
  readers: number;
  /** Of which WebRTC (WHEP). */
  webrtcReaders: number;
  publisher?: { sessionId: string; address: string; port: number; since: string } | null;
  /** RTP bits per second over the last few seconds, all tracks; null until two samples exist. */
  bitrate: number | null;
}

export interface SessionView {
  id: string;
  address: string;
  port: number;
  path: string;
  transport: 'udp' | 'tcp' | 'multicast';
  state: string;
  packets: number;
  bytes: number;
  /** Batches dropped for this client (its socket or queue could not take them). */
  drops: number;
  queuedBytes: number;
  /** Largest loss fraction (0..1) of the client's last receiver reports, null before any. */
  loss: number | null;
  /** Packets the client reports lost in all, null before any report. */
  packetsLost: number | null;
  /** Largest interarrival jitter of the client's reports, in milliseconds; null before any. */
  jitterMs: number | null;
  startedAt: string;
  lastActivityAt: string;
  tracks: Array<{
    control: string;
    transport: string;
    packets: number;
    bytes: number;
    loss: number | null;
    packetsLost: number | null;
    jitterMs: number | null;
  }>;
}

const BASE = '/api/v1';

/** The routes, in the HttpServer's pattern syntax; the OpenAPI document covers exactly these. */
export const API_ROUTES: ReadonlyArray<{ method: string; pattern: string }> = [
  { method: 'GET', pattern: `${BASE}/openapi.json` },
  { method: 'GET', pattern: `${BASE}/paths` },
  { method: 'GET', pattern: `${BASE}/paths/*name` },
  { method: 'POST', pattern: `${BASE}/paths/*name` },
  { method: 'PUT', pattern: `${BASE}/paths/*name` },
  { method: 'DELETE', pattern: `${BASE}/paths/*name` },
  { method: 'GET', pattern: `${BASE}/sessions` },
  { method: 'DELETE', pattern: `${BASE}/sessions/:id` },
  { method: 'POST', pattern: `${BASE}/config/reload` },
];

/** Registers the API's routes (all with auth action `api`); `close()` stops the bitrate sampler. */
export function registerApi(http: HttpServer, options: ApiOptions): { close(): void } {
  const { server, controller } = options;
  const meter = new BitrateMeter(options.bitrateWindowMs ?? 5000, () =>
    controller.list().map((p) => server.getStream(p.name)),
  );
  const document = openApiDocument(controller.pathBodySchema);

  const view = (p: ApiPathEntry, sessions: readonly SessionInfo[]): PathView =>
    viewPath(p, server.getStream(p.name), sessions, meter, options.webrtcReaders?.(p.name) ?? 0);
  const pathsView = (): PathView[] => {
    const sessions = server.sessions();
    return controller.list().map((p) => view(p, sessions));
  };
  const entry = (ctx: HttpContext): ApiPathEntry => {
    const name = pathName(ctx);
    const found = controller.list().find((p) => p.name === name);
    if (!found) throw new HttpError(404, `no such path: ${name}`);
    return found;
  };

  const handlers: Record<string, (ctx: HttpContext) => void | Promise<void>> = {
    [`GET ${BASE}/openapi.json`]: (ctx) => ctx.sendJson(200, document),
    [`GET ${BASE}/paths`]: (ctx) => ctx.sendJson(200, { items: pathsView() }),
    [`GET ${BASE}/paths/*name`]: (ctx) => {
      const p = entry(ctx);
      ctx.sendJson(200, view(p, server.sessions()));
    },
    [`POST ${BASE}/paths/*name`]: async (ctx) => {
      const name = pathName(ctx);
      const body = await ctx.json();
      if (controller.list().some((p) => p.name === name)) throw new HttpError(409, `${name} exists`);
      await applying(() => controller.add(name, body));
      ctx.sendJson(201, viewOf(name));
    },
    [`PUT ${BASE}/paths/*name`]: async (ctx) => {
      const name = entry(ctx).name;
      const body = await ctx.json();
      const outcome = await applying(() => controller.replace(name, body));
      ctx.sendJson(200, { ...viewOf(name), outcome });
    },
    [`DELETE ${BASE}/paths/*name`]: (ctx) => {
      const name = entry(ctx).name;
      if (!controller.remove(name)) throw new HttpError(404, `no such path: ${name}`);
      ctx.send(204, '', 'text/plain');
    },
    [`GET ${BASE}/sessions`]: (ctx) => ctx.sendJson(200, { items: server.sessions().map(viewSession) }),
    [`DELETE ${BASE}/sessions/:id`]: (ctx) => {
      // A kick: RTCP BYE on each track, then the connection closes if it carries no other session.
      if (!server.endSession(ctx.params.id)) throw new HttpError(404, `no such session: ${ctx.params.id}`);
      ctx.send(204, '', 'text/plain');
    },
    [`POST ${BASE}/config/reload`]: async (ctx) => {
      if (!controller.reload) {
        throw new HttpError(
          501,
          'reload is not available: this server was started without a config to reload',
        );
      }
      let result: ApiReloadResult;
      try {
        result = await controller.reload();
      } catch (err) {
        if (err instanceof HttpError) throw err;
        throw new HttpError(500, `reload failed: ${(err as Error).message}`);
      }
      ctx.sendJson(result.ok === false ? 400 : 200, result);
    },
  };
  const viewOf = (name: string): PathView => {
    const p = controller.list().find((e) => e.name === name);
    if (!p) throw new HttpError(500, `${name} vanished`);
    return view(p, server.sessions());
  };
  for (const { method, pattern } of API_ROUTES) http.route(method, pattern, handlers[`${method} ${pattern}`]);
  return { close: () => meter.close() };
}

/** `/api/v1/paths/site/door` → `/site/door`. */
function pathName(ctx: HttpContext): string {
  const name = `/${ctx.params.name}`;
  // An RTSP URL must carry the name as it is: no spaces, controls, query or fragment marks.
  if (/[\s\x00-\x1f\x7f?#%]/.test(name))
    throw new HttpError(400, `name: ${JSON.stringify(name)} is not a usable path`, 'name');
  return name;
}

/** Runs a controller change; an error that is not an HttpError is the body's fault (400, its message). */
async function applying<T>(change: () => Promise<T>): Promise<T> {
  try {
    return await change();
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw new HttpError(400, (err as Error).message);
  }
}

function viewPath(
  p: ApiPathEntry,
  stream: Stream | undefined,
  sessions: readonly SessionInfo[],
  meter: BitrateMeter,
  webrtcReaders: number,
): PathView {
  let readers = webrtcReaders;
  let publisher: SessionInfo | undefined;
  for (const s of sessions) {
    if (s.path !== p.name || s.state === 'ended') continue;
    if (s.state === 'recording') publisher = s;
    else readers++;
  }
  const isPublish = p.kind === 'publish';
  const reason = stream ? stream.unavailableReason : 'not started';
  const state: PathView['state'] =
    reason === undefined ? 'ready' : isPublish && !publisher ? 'waiting' : 'unavailable';
  return {
    name: p.name,
    source: { kind: p.kind, description: p.description },
    state,
    ...(reason === undefined ? {} : { reason }),
    tracks: stream ? stream.tracks.map(viewTrack) : [],
    readers,
    webrtcReaders,
    ...(isPublish
      ? {
          publisher: publisher
            ? {
                sessionId: publisher.id,
                address: publisher.remoteAddress,
                port: publisher.remotePort,
                since: publisher.createdAt,
              }
            : null,
        }
      : {}),
    bitrate: stream ? meter.bitrate(stream) : null,
  };
}

function viewTrack(track: Track): TrackView {
  const codec = track.codec;
  const sdp = codec.describe();
  const parameters: Record<string, string | number> = {};
  // Duck-typed: the video codecs know their picture from the SPS (or JPEG header), audio its channels.
  const video = (codec as { videoInfo?: { width?: number; height?: number; frameRate?: number } }).videoInfo;
  if (video?.width) parameters.width = video.width;
  if (video?.height) parameters.height = video.height;
  if (video?.frameRate) parameters.frameRate = video.frameRate;
  if (codec.kind === 'audio' && codec.clockRate > 0) parameters.sampleRate = codec.clockRate;
  const channels = sdp.channels ?? (codec as { channels?: number }).channels;
  if (channels) parameters.channels = channels;
  for (const part of (sdp.fmtp ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) parameters[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  const profile = profileName(sdp.encoding, parameters);
  if (profile) parameters.profile = profile;
  const stats = track.stats;
  return {
    id: track.id,
    control: track.control,
    kind: track.kind,
    codec: sdp.encoding,
    clockRate: sdp.clockRate,
    payloadType: sdp.payloadType,
    parameters,
    packets: stats.packets,
    bytes: stats.octets,
    webrtc: webrtcCarries(sdp.encoding),
  };
}

/** H.264 profile from profile-level-id (its first byte, plus the constraint flags for Baseline). */
function profileName(encoding: string, parameters: Record<string, string | number>): string | undefined {
  if (encoding.toUpperCase() === 'H264' && typeof parameters['profile-level-id'] === 'string') {
    const pli = parameters['profile-level-id'];
    const idc = Number.parseInt(pli.slice(0, 2), 16);
    const constraints = Number.parseInt(pli.slice(2, 4), 16);
    if (idc === 66) return constraints & 0x40 ? 'Constrained Baseline' : 'Baseline';
    const names: Record<number, string> = {
      77: 'Main',
      88: 'Extended',
      100: 'High',
      110: 'High 10',
      122: 'High 4:2:2',
      244: 'High 4:4:4',
    };
    return names[idc];
  }
  if (encoding.toUpperCase() === 'H265' && parameters['profile-id'] !== undefined) {
    const names: Record<string, string> = { '1': 'Main', '2': 'Main 10', '3': 'Main Still Picture' };
    return names[String(parameters['profile-id'])];
  }
  return undefined;
}

function viewSession(s: SessionInfo): SessionView {
  let loss: number | null = null;
  let lost: number | null = null;
  let jitter: number | null = null;
  const tracks = s.tracks.map((t) => {
    const rr = t.receiverReport;
    if (rr) {
      loss = Math.max(loss ?? 0, rr.fractionLost);
      lost = (lost ?? 0) + rr.cumulativeLost;
      jitter = Math.max(jitter ?? 0, rr.jitter * 1000);
    }
    return {
      control: t.control,
      transport: t.transport,
      packets: t.packetsSent,
      bytes: t.bytesSent,
      loss: rr ? rr.fractionLost : null,
      packetsLost: rr ? rr.cumulativeLost : null,
      jitterMs: rr ? rr.jitter * 1000 : null,
    };
  });
  return {
    id: s.id,
    address: s.remoteAddress,
    port: s.remotePort,
    path: s.path,
    transport: s.transport,
    state: s.state,
    packets: s.packetsSent,
    bytes: s.bytesSent,
    drops: s.droppedBatches,
    queuedBytes: s.queuedBytes,
    loss,
    packetsLost: lost,
    jitterMs: jitter,
    startedAt: s.createdAt,
    lastActivityAt: s.lastActivityAt,
    tracks,
  };
}

/**
 * Bits per second per stream from the tracks' own octet counters, sampled once a second into a
 * short ring per stream: nothing is added to the packet path.
 */
class BitrateMeter {
  private readonly samples = new Map<Stream, Array<{ at: number; octets: number }>>();
  private readonly timer: NodeJS.Timeout;
  private readonly keep: number;

  constructor(
    windowMs: number,
    private readonly streams: () => Array<Stream | undefined>,
  ) {
    this.keep = Math.max(2, Math.round(windowMs / 1000) + 1);
    this.timer = setInterval(() => this.sample(), 1000);
    this.timer.unref();
  }

  bitrate(stream: Stream): number | null {
    const ring = this.samples.get(stream);
    if (!ring || ring.length === 0) return null;
    const first = ring[0];
    const seconds = (performance.now() - first.at) / 1000;
    const octets = octetsOf(stream) - first.octets;
    // Fewer octets than before: the publisher replaced the tracks (new counters); wait for samples.
    if (seconds < 0.5 || octets < 0) return null;
    return Math.round((octets * 8) / seconds);
  }

  close(): void {
    clearInterval(this.timer);
  }

  private sample(): void {
    const now = performance.now();
    const seen = new Set<Stream>();
    for (const stream of this.streams()) {
      if (!stream || stream.isClosed) continue;
      seen.add(stream);
      const ring = this.samples.get(stream) ?? [];
      this.samples.set(stream, ring);
      ring.push({ at: now, octets: octetsOf(stream) });
      if (ring.length > this.keep) ring.shift();
    }
    // A replaced or removed path's old stream is forgotten.
    for (const stream of this.samples.keys()) if (!seen.has(stream)) this.samples.delete(stream);
  }
}

function octetsOf(stream: Stream): number {
  let octets = 0;
  for (const t of stream.tracks) octets += t.stats.octets;
  return octets;
}
