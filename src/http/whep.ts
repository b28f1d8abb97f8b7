/**
 * WHEP (WebRTC-HTTP Egress Protocol, draft-ietf-wish-whep, built like WHIP's RFC 9725): a browser
 * POSTs an SDP offer to `/whep/{path}` and gets an answer; the stream's H.264 and Opus/G.711 go to
 * it over WebRTC as they are (the RTP packets the track already made, re-stamped by werift with the
 * negotiated payload type and SSRC). No transcoding, so H.265, AAC and MJPEG are refused (415).
 *
 * Non-trickle: all of the server's ICE candidates are in the answer, so PATCH answers 405.
 * werift is loaded on the first offer, or earlier by warmUp() (the CLI calls it once the HTTP port
 * listens, the page route when it serves the page), so importing the library stays light while a
 * preview does not wait for it.
 */
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import sdpTransform from 'sdp-transform';
import type { Stream } from '../media/stream.js';
import type { Track, TrackSink } from '../media/track.js';
import type { RtpPacketBatch } from '../rtp/batch.js';
import type { RtspServer } from '../server/rtsp-server.js';
import { type HttpContext, HttpError, type HttpServer } from './http-server.js';

type Werift = typeof import('../vendor/werift.js');
type PeerConnection = InstanceType<Werift['RTCPeerConnection']>;
type WeriftTrack = InstanceType<Werift['MediaStreamTrack']>;

export interface WhepOptions {
  /**
   * The one address WebRTC media uses (ICE host candidate, bound to it), e.g. the HTTP server's:
   * on 127.0.0.1 no packet leaves the machine. Default: every interface's address (LAN viewers).
   */
  iceAddress?: string;
  /** Most WHEP sessions at once; more answer 503. Default 32. */
  maxSessions?: number;
  /** A session whose peer connection is not up this long after the answer ends. Default 15 s. */
  connectTimeoutMs?: number;
  /** How long a disconnected peer may come back before its session ends. Default 5 s. */
  disconnectGraceMs?: number;
  /** How long an offer waits for a stream that is starting (on-demand source, parameter sets). Default 5 s. */
  streamWaitMs?: number;
}

/** Codecs WebRTC carries, by our track encoding: werift's mime type and clock rate. */
const WEBRTC_CODECS: Record<string, { mimeType: string; clockRate: number; channels?: number }> = {
  H264: { mimeType: 'video/H264', clockRate: 90_000 },
  opus: { mimeType: 'audio/opus', clockRate: 48_000, channels: 2 },
  PCMU: { mimeType: 'audio/PCMU', clockRate: 8000 },
  PCMA: { mimeType: 'audio/PCMA', clockRate: 8000 },
};

/** Whether WebRTC can carry a track's encoding without transcoding (for the web page). */
export function webrtcCarries(encoding: string): boolean {
  return WEBRTC_CODECS[encoding] !== undefined || WEBRTC_CODECS[encoding.toUpperCase()] !== undefined;
}

function codecOf(track: Track): (typeof WEBRTC_CODECS)[string] | undefined {
  const e = track.codec.encoding;
  return WEBRTC_CODECS[e] ?? WEBRTC_CODECS[e.toUpperCase()] ?? WEBRTC_CODECS[e.toLowerCase()];
}

/** What the endpoint tells about its sessions (for logs and tests). */
export interface WhepSessionInfo {
  id: string;
  path: string;
  state: 'connecting' | 'connected' | 'ended';
  packets: number;
  bytes: number;
}

/** One track of a WHEP session: the stream's packets to werift's track, from a keyframe on. */
class WhepSink implements TrackSink {
  active = false;
  started = false;
  packets = 0;
  bytes = 0;

  constructor(
    readonly track: Track,
    readonly out: WeriftTrack,
    /** Audio waits for the session's video to start, so both begin together. */
    private readonly after: WhepSink | undefined,
  ) {}

  deliver(batch: RtpPacketBatch): void {
    if (!this.active) return;
    if (!this.started) {
      if (this.track.kind === 'video' && !batch.keyframe) return;
      if (this.after && !this.after.started) return;
      this.started = true;
    }
    for (const p of batch.packets) {
      this.out.writeRtp(p);
      this.packets++;
      this.bytes += p.length;
    }
  }
}

class WhepSession {
  readonly id = randomUUID();
  state: WhepSessionInfo['state'] = 'connecting';
  readonly sinks: WhepSink[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly onStreamClose = () => this.end('stream ended');

  constructor(
    readonly path: string,
    readonly stream: Stream,
    readonly pc: PeerConnection,
    private readonly ended: (s: WhepSession, reason: string) => void,
    private readonly options: { connectTimeoutMs: number; disconnectGraceMs: number },
  ) {
    stream.sessionOpened();
    stream.once('close', this.onStreamClose);
    pc.connectionStateChange.subscribe((state) => this.onState(state));
    this.arm(options.connectTimeoutMs, 'peer connection not established in time');
  }

  info(): WhepSessionInfo {
    let packets = 0;
    let bytes = 0;
    for (const s of this.sinks) {
      packets += s.packets;
      bytes += s.bytes;
    }
    return { id: this.id, path: this.path, state: this.state, packets, bytes };
  }

  private onState(state: string): void {
    if (this.state === 'ended') return;
    if (state === 'connected') {
      this.state = 'connected';
      this.disarm();
      for (const s of this.sinks) s.active = true;
      for (const s of this.sinks) if (s.track.kind === 'video') s.track.requestKeyframe();
    } else if (state === 'disconnected') {
      // ICE consent lost: a network hiccup may heal; a closed tab does not.
      this.arm(this.options.disconnectGraceMs, 'peer disconnected');
    } else if (state === 'failed' || state === 'closed') {
      this.end(`peer connection ${state}`);
    }
  }

  private arm(ms: number, reason: string): void {
    this.disarm();
    this.timer = setTimeout(() => this.end(reason), ms);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  end(reason: string): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.disarm();
    for (const s of this.sinks) {
      s.active = false;
      s.track.unsubscribe(s);
    }
    this.stream.off('close', this.onStreamClose);
    this.stream.sessionClosed();
    void this.pc.close().catch(() => {});
    this.ended(this, reason);
  }
}

/**
 * The WHEP endpoint: `POST /whep/{path}` (auth: `read` of the path) creates a session and answers
 * 201 with the SDP answer and its resource in `Location`; `DELETE` of that resource ends it.
 */
export class WhepEndpoint {
  private readonly sessions = new Map<string, WhepSession>();
  private readonly options: Required<Omit<WhepOptions, 'iceAddress'>> & Pick<WhepOptions, 'iceAddress'>;
  private werift: Promise<Werift> | undefined;
  private warm = false;
  private closed = false;
  /** Told when a session ends, with why. */
  onSessionEnd: ((info: WhepSessionInfo, reason: string) => void) | undefined;
  /** Told when a session starts. */
  onSessionStart: ((info: WhepSessionInfo) => void) | undefined;

  constructor(
    private readonly server: RtspServer,
    options: WhepOptions = {},
  ) {
    this.options = {
      iceAddress: options.iceAddress,
      maxSessions: options.maxSessions ?? 32,
      connectTimeoutMs: options.connectTimeoutMs ?? 15_000,
      disconnectGraceMs: options.disconnectGraceMs ?? 5000,
      streamWaitMs: options.streamWaitMs ?? 5000,
    };
  }

  /** Adds the WHEP routes to `http`. */
  register(http: HttpServer): this {
    const pathOf = (ctx: HttpContext) => `/${ctx.params.path}`;
    const sessionPath = (ctx: HttpContext) => this.sessions.get(ctx.params.id)?.path;
    http.route('POST', '/whep/*path', (ctx) => this.offer(ctx), { action: 'read', path: pathOf });
    http.route('DELETE', '/whep-sessions/:id', (ctx) => this.remove(ctx), {
      action: 'read',
      path: sessionPath,
    });
    http.route(
      'PATCH',
      '/whep-sessions/:id',
      () => {
        // Every candidate is in the answer (non-trickle): there is nothing to add (RFC 9725 4.3.1).
        throw new HttpError(405, 'trickle ICE is not supported: the answer has every candidate', undefined, {
          Allow: 'DELETE',
        });
      },
      { action: 'read', path: sessionPath },
    );
    return this;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  list(): WhepSessionInfo[] {
    return [...this.sessions.values()].map((s) => s.info());
  }

  /** WHEP sessions on one path. */
  countOn(path: string): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.path === path) n++;
    return n;
  }

  /** Ends every session (server shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    const pcs = [...this.sessions.values()].map((s) => s.pc);
    for (const s of [...this.sessions.values()]) s.end('shutdown');
    await Promise.allSettled(pcs.map((pc) => pc.close()));
  }

  private async offer(ctx: HttpContext): Promise<void> {
    if (this.closed) throw new HttpError(503, 'the server is shutting down');
    const type = (ctx.req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/sdp') throw new HttpError(415, 'the offer must be application/sdp');
    const path = `/${ctx.params.path}`;
    const stream = this.server.getStream(path);
    if (!stream) throw new HttpError(404, `no stream at ${path}`);
    if (this.sessions.size >= this.options.maxSessions) {
      throw new HttpError(503, 'too many WebRTC sessions', undefined, { 'Retry-After': '5' });
    }
    const offerSdp = (await ctx.body()).toString('utf8');
    let offer: sdpTransform.SessionDescription;
    try {
      offer = sdpTransform.parse(offerSdp);
    } catch {
      throw new HttpError(400, 'the offer is not SDP');
    }
    if (!offer.media?.length) throw new HttpError(400, 'the offer has no media section');

    if (stream.unavailableReason !== undefined) {
      stream.want();
      if (!(await stream.whenAvailable(this.options.streamWaitMs))) {
        throw new HttpError(503, `${path} is not available: ${stream.unavailableReason}`, undefined, {
          'Retry-After': '2',
        });
      }
    }
    const carried = stream.tracks.filter((t) => codecOf(t));
    if (carried.length === 0) {
      const codecs = stream.tracks.map((t) => t.codec.encoding).join(', ') || 'none yet';
      throw new HttpError(415, `WebRTC cannot carry the codecs of ${path} (${codecs})`);
    }
    // The answer's fmtp comes from the offer, but our profile decides which H.264 entry fits.
    await Promise.all(carried.map((t) => t.whenReady(this.options.streamWaitMs)));

    const chosen = chooseCodecs(offer, carried);
    if (chosen.size === 0) throw new HttpError(400, 'the offer has no codec the stream can send');
    const iceAddress = this.options.iceAddress;
    if (iceAddress && isLoopback(iceAddress)) keepLoopbackCandidates(offer);
    const w = await this.loadWerift();
    if (this.closed) throw new HttpError(503, 'the server is shutting down');

    const pc = new w.RTCPeerConnection({
      // No STUN server: werift's default would ask Google's; host candidates are what a LAN needs.
      iceServers: [],
      ...(iceAddress
        ? {
            // Only this address, and the socket bound to it (werift would add every interface's).
            iceUseIpv4: false,
            iceUseIpv6: false,
            iceAdditionalHostAddresses: [iceAddress],
            iceInterfaceAddresses: isIP(iceAddress) === 6 ? { udp6: iceAddress } : { udp4: iceAddress },
          }
        : { iceUseIpv6: false }),
      codecs: {
        video: [...chosen.values()]
          .filter((c) => c.kind === 'video')
          .map((c) => new w.RTCRtpCodecParameters(c.params)),
        audio: [...chosen.values()]
          .filter((c) => c.kind === 'audio')
          .map((c) => new w.RTCRtpCodecParameters(c.params)),
      },
    });
    const session = new WhepSession(
      path,
      stream,
      pc,
      (s, reason) => this.sessionEnded(s, reason),
      this.options,
    );
    this.sessions.set(session.id, session);
    try {
      const video = carried.find((t) => t.kind === 'video' && chosen.has(t));
      let videoSink: WhepSink | undefined;
      for (const track of [
        ...(video ? [video] : []),
        ...carried.filter((t) => t !== video && chosen.has(t)),
      ]) {
        const out = new w.MediaStreamTrack({ kind: track.kind === 'video' ? 'video' : 'audio' });
        const transceiver = pc.addTransceiver(out, { direction: 'sendonly' });
        const sink = new WhepSink(track, out, track === video ? undefined : videoSink);
        if (track === video) {
          videoSink = sink;
          // The browser asks for a picture it can decode (a loss, a decoder reset): a keyframe.
          transceiver.sender.onPictureLossIndication.subscribe(() => track.requestKeyframe());
        }
        session.sinks.push(sink);
        track.subscribe(sink);
      }
      await pc.setRemoteDescription({ type: 'offer', sdp: sdpTransform.write(offer) });
      await pc.setLocalDescription(await pc.createAnswer());
      await gathered(pc, this.options.streamWaitMs);
      const answer = pc.localDescription?.sdp;
      if (!answer) throw new HttpError(500, 'no answer');
      if (session.state === 'ended') throw new HttpError(503, 'the session ended before it was answered');
      this.onSessionStart?.(session.info());
      ctx.send(201, answer, 'application/sdp', {
        Location: `/whep-sessions/${session.id}`,
        'Access-Control-Expose-Headers': 'Location',
      });
    } catch (err) {
      session.end('offer failed');
      if (err instanceof HttpError) throw err;
      throw new HttpError(400, `cannot answer the offer: ${(err as Error).message}`);
    }
  }

  private remove(ctx: HttpContext): void {
    const session = this.sessions.get(ctx.params.id);
    if (!session) throw new HttpError(404, 'no such WHEP session');
    session.end('deleted by the client');
    ctx.send(200, '', 'text/plain');
  }

  private sessionEnded(session: WhepSession, reason: string): void {
    this.sessions.delete(session.id);
    this.onSessionEnd?.(session.info(), reason);
  }

  /**
   * Loads werift and makes its DTLS certificate in the background, so the first offer waits for
   * neither (together most of a second on a busy machine). Idempotent; failures show at the offer.
   */
  warmUp(): void {
    if (this.werift || this.closed) return;
    this.loadWerift()
      .then((w) => w.RTCDtlsTransport.SetupCertificate())
      .then(() => {
        this.warm = true;
      })
      .catch(() => {});
  }

  /** Whether warmUp() has finished: an offer now waits for neither werift nor a certificate. */
  get ready(): boolean {
    return this.warm;
  }

  private loadWerift(): Promise<Werift> {
    this.werift ??= import('../vendor/werift.js');
    return this.werift;
  }
}

interface ChosenCodec {
  kind: 'video' | 'audio';
  params: {
    mimeType: string;
    clockRate: number;
    channels?: number;
    payloadType: number;
    parameters?: string;
    rtcpFeedback: { type: string; parameter?: string }[];
  };
}

/**
 * Narrows each media section of the offer to the one payload type our track can fill (werift would
 * answer with every entry of the same name, and Chrome offers H.264 in several profiles and
 * packetization modes; we send FU-A, so mode 1). Returns the pick per track.
 */
function chooseCodecs(offer: sdpTransform.SessionDescription, tracks: Track[]): Map<Track, ChosenCodec> {
  const chosen = new Map<Track, ChosenCodec>();
  for (const m of offer.media) {
    if (m.type !== 'video' && m.type !== 'audio') continue;
    const track = tracks.find((t) => t.kind === m.type && !chosen.has(t));
    const want = track && codecOf(track);
    if (!track || !want) continue;
    const encoding = want.mimeType.split('/')[1].toLowerCase();
    const candidates = m.rtp.filter((r) => r.codec.toLowerCase() === encoding && r.rate === want.clockRate);
    const fmtpOf = (pt: number) => m.fmtp.find((f) => f.payload === pt)?.config ?? '';
    let pick: (typeof candidates)[number] | undefined;
    if (encoding === 'h264') {
      const profile = /profile-level-id=([0-9a-f]{2})/i.exec(track.describe().fmtp ?? '')?.[1]?.toLowerCase();
      const mode1 = candidates.filter((r) => /packetization-mode=1/.test(fmtpOf(r.payload)));
      pick =
        mode1.find(
          (r) => profile && new RegExp(`profile-level-id=${profile}`, 'i').test(fmtpOf(r.payload)),
        ) ?? mode1[0];
    } else {
      pick = candidates[0];
    }
    if (!pick) continue;
    const pt = pick.payload;
    m.payloads = String(pt);
    m.rtp = [pick];
    m.fmtp = m.fmtp.filter((f) => f.payload === pt);
    m.rtcpFb = m.rtcpFb?.filter((f) => f.payload === pt);
    const parameters = fmtpOf(pt) || undefined;
    chosen.set(track, {
      kind: m.type,
      params: {
        mimeType: want.mimeType,
        clockRate: want.clockRate,
        ...(want.channels ? { channels: want.channels } : {}),
        payloadType: pt,
        parameters,
        rtcpFeedback: (m.rtcpFb ?? [])
          .filter((f) => ['nack', 'ccm'].includes(f.type))
          .map((f) => ({ type: f.type, ...(f.subtype ? { parameter: f.subtype } : {}) })),
      },
    });
  }
  return chosen;
}

function isLoopback(host: string): boolean {
  return host.startsWith('127.') || host === '::1';
}

/** Drops the offer's candidates we would not reach from loopback (and mDNS names we would resolve on the LAN). */
function keepLoopbackCandidates(offer: sdpTransform.SessionDescription): void {
  for (const m of offer.media) if (m.candidates) m.candidates = m.candidates.filter((c) => isLoopback(c.ip));
}

/** Resolves once ICE gathering is complete (every candidate is then in the local description). */
function gathered(pc: PeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    const sub = pc.iceGatheringStateChange.subscribe((state) => {
      if (state === 'complete') done();
    });
    function done() {
      clearTimeout(timer);
      sub.unSubscribe();
      resolve();
    }
  });
}
