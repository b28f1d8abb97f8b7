import { MediaFormatError } from '../codecs/errors.js';
import type { Stream } from '../media/stream.js';
import type { Track } from '../media/track.js';
import { RtspError } from '../protocol/errors.js';
import { formatContentBase, joinControlUrl } from '../protocol/headers/content-base.js';
import { parseCSeq } from '../protocol/headers/cseq.js';
import { formatPublic } from '../protocol/headers/public.js';
import { formatRangeHeader } from '../protocol/headers/range.js';
import { formatOptionTags, parseOptionTags } from '../protocol/headers/require.js';
import { formatRtpInfo } from '../protocol/headers/rtp-info.js';
import { formatSessionHeader, parseSessionHeader } from '../protocol/headers/session.js';
import {
  formatTransportHeader,
  parseTransportHeader,
  type TransportSpec,
} from '../protocol/headers/transport.js';
import type { RtspRequest } from '../protocol/message.js';
import { parseSdp, SdpError, writeSdp } from '../protocol/sdp.js';
import { parseRtspUrl, resolveStreamAndTrack, stripUserInfo } from '../protocol/url.js';
import type { AnsweredError, ResponseSpec } from './connection.js';
import { announcedTrack, type PublishPoint, sameTrackShape } from './publish.js';
import type { Session, SessionOwner, SessionTable, SessionTrack } from './session.js';
import type { SessionTransport, TransportFactory } from './transports.js';

export type { EndReason } from './session.js';

export const SUPPORTED_METHODS = [
  'OPTIONS',
  'DESCRIBE',
  'SETUP',
  'PLAY',
  'PAUSE',
  'TEARDOWN',
  'GET_PARAMETER',
  'SET_PARAMETER',
  'ANNOUNCE',
  'RECORD',
] as const;

/** Methods RFC 2326 defines that this server knows but does not offer (405 rather than 501). */
const KNOWN_UNOFFERED = new Set(['REDIRECT']);

/** What an application's `authorize` hook is shown. */
export interface RequestInfo {
  method: string;
  uri: string;
  /** Stream path the request names (`/cam`), if any. */
  path: string | undefined;
  remoteAddress: string;
  remotePort: number;
  headers: RtspRequest['headers'];
}

/**
 * true: go on; false: 403; an object: answer with that status and headers (e.g. 401 with a
 * challenge). `reason`, `code` and `user` go into the server's `refused` event.
 */
export type AuthorizeResult =
  | boolean
  | { status: number; headers?: Array<[string, string]>; reason?: string; code?: string; user?: string };

export interface DispatcherHooks {
  authorize?: (request: RequestInfo) => AuthorizeResult | Promise<AuthorizeResult>;
}

/** What the dispatcher uses of a control connection (an RtspConnection, or a fake in tests). */
export interface DispatcherConnection extends SessionOwner {
  readonly localAddress: string;
  readonly localPort: number;
  /** True for RTSPS (TLS). */
  readonly secure: boolean;
  /** Writes an answer now (PLAY: its answer must precede the first packet). */
  writeResponse(cseq: string | undefined, spec: ResponseSpec): void;
}

/** What the dispatcher needs from the server around it. */
export interface DispatcherContext<C extends DispatcherConnection> {
  findStream(path: string): Stream | undefined;
  /** The publish state of a path that takes publishers, else undefined. */
  publishPoint?(stream: Stream): PublishPoint | undefined;
  readonly sessions: SessionTable;
  readonly transports: TransportFactory<C>;
  readonly hooks: DispatcherHooks;
  readonly limits: {
    allowUdpOverTls: boolean;
    playStartTimeoutMs: number;
    describeWaitMs: number;
  };
  sessionStarted(session: Session): void;
  sessionPlaying(session: Session): void;
  /** A fault in the server's own handling, out of any request's reach (reported, never thrown). */
  reportError(err: unknown, conn: C): void;
}

interface Target {
  stream: Stream | undefined;
  streamPath: string | undefined;
  control: string | undefined;
}

function statusError(
  status: number,
  code: string,
  message: string,
  headers?: Array<[string, string]>,
  user?: string,
) {
  const err: AnsweredError = new RtspError(status, code, message);
  if (headers) err.headers = headers;
  if (user !== undefined) err.user = user;
  return err;
}

/**
 * Answers RTSP requests: parses what a method needs, calls the session (whose state machine decides
 * what is allowed), formats the answer. Status codes as RFC 2326 says. Sockets are the transport
 * factory's business, so this runs as well against fakes.
 */
export class Dispatcher<C extends DispatcherConnection> {
  constructor(private readonly ctx: DispatcherContext<C>) {}

  async handle(request: RtspRequest, conn: C): Promise<ResponseSpec | null> {
    const cseqHeader = request.headers.get('cseq');
    if (cseqHeader === undefined) throw statusError(400, 'ERR_RTSP_NO_CSEQ', 'missing CSeq');
    parseCSeq(cseqHeader);

    for (const name of ['require', 'proxy-require']) {
      const value = request.headers.get(name);
      if (value === undefined) continue;
      const tags = parseOptionTags(value);
      // We implement no option tags: every one named is unsupported (RFC 2326 12.32).
      if (tags.length > 0) {
        throw statusError(551, 'ERR_RTSP_OPTION_NOT_SUPPORTED', 'option not supported', [
          ['Unsupported', formatOptionTags(tags)],
        ]);
      }
    }

    const method = request.method;
    if (!(SUPPORTED_METHODS as readonly string[]).includes(method)) {
      if (KNOWN_UNOFFERED.has(method)) {
        throw statusError(405, 'ERR_RTSP_METHOD_NOT_ALLOWED', `${method} not allowed`, [
          ['Allow', formatPublic([...SUPPORTED_METHODS])],
        ]);
      }
      throw statusError(501, 'ERR_RTSP_NOT_IMPLEMENTED', `${method} not implemented`);
    }

    const target = this.resolveTarget(request.uri);
    const hook = this.ctx.hooks.authorize;
    if (hook) {
      const verdict = await hook({
        method,
        uri: request.uri,
        path: target.streamPath,
        remoteAddress: conn.remoteAddress,
        remotePort: conn.remotePort,
        headers: request.headers,
      });
      if (verdict === false) throw statusError(403, 'ERR_RTSP_FORBIDDEN', 'forbidden');
      if (typeof verdict === 'object') {
        throw statusError(
          verdict.status,
          verdict.code ?? 'ERR_RTSP_NOT_AUTHORIZED',
          verdict.reason ?? 'not authorized',
          verdict.headers,
          verdict.user,
        );
      }
    }

    const session = this.sessionOf(request);
    session?.touch();

    switch (method) {
      case 'OPTIONS':
        return {
          status: 200,
          headers: [['Public', formatPublic([...SUPPORTED_METHODS])], ...sessionHeader(session)],
        };
      case 'DESCRIBE':
        return this.describe(request, target, conn);
      case 'SETUP':
        return this.setup(request, target, conn, session);
      case 'ANNOUNCE':
        return explained(() => this.announce(request, target, conn));
      case 'RECORD':
        return explained(() => this.record(target, session));
      case 'PLAY':
        return this.play(request, target, conn, this.required(session));
      case 'PAUSE':
        return this.pause(target, this.required(session));
      case 'TEARDOWN': {
        const s = this.required(session);
        s.end('teardown');
        return { status: 200, headers: sessionHeader(s) };
      }
      case 'GET_PARAMETER':
        // Keepalive; we expose no parameters, so a body naming some gets an empty answer.
        return { status: 200, headers: sessionHeader(session) };
      case 'SET_PARAMETER':
        if (request.body.length > 0) throw statusError(451, 'ERR_RTSP_PARAMETER', 'parameter not understood');
        return { status: 200, headers: sessionHeader(session) };
      default:
        throw statusError(501, 'ERR_RTSP_NOT_IMPLEMENTED', `${method} not implemented`);
    }
  }

  private resolveTarget(uri: string): Target {
    if (uri === '*') return { stream: undefined, streamPath: undefined, control: undefined };
    const url = parseRtspUrl(uri);
    let found: ReturnType<typeof resolveStreamAndTrack>;
    try {
      found = resolveStreamAndTrack(uri, (p) => this.ctx.findStream(p) !== undefined);
    } catch (err) {
      // No such stream: methods that need one answer 404 themselves; OPTIONS does not care.
      if (err instanceof RtspError && err.status === 404) {
        return { stream: undefined, streamPath: url.path, control: undefined };
      }
      throw err;
    }
    return {
      stream: this.ctx.findStream(found.streamPath),
      streamPath: found.streamPath,
      control: found.control,
    };
  }

  private sessionOf(request: RtspRequest): Session | undefined {
    const header = request.headers.get('session');
    if (header === undefined) return undefined;
    const { id } = parseSessionHeader(header);
    const session = this.ctx.sessions.get(id);
    if (!session) throw statusError(454, 'ERR_RTSP_SESSION_NOT_FOUND', 'session not found');
    return session;
  }

  private required(session: Session | undefined): Session {
    if (!session) throw statusError(454, 'ERR_RTSP_SESSION_NOT_FOUND', 'session not found');
    return session;
  }

  private async describe(request: RtspRequest, target: Target, conn: C): Promise<ResponseSpec> {
    const stream = target.stream;
    if (!stream || target.control !== undefined)
      throw statusError(404, 'ERR_RTSP_NOT_FOUND', 'stream not found');
    const accept = request.headers.get('accept');
    if (accept && !/application\/sdp|\*\/\*|application\/\*/i.test(accept)) {
      throw statusError(406, 'ERR_RTSP_NOT_ACCEPTABLE', 'only application/sdp is offered');
    }
    // An on-demand source (a relay) starts now: wait for it as for a source that has just started.
    stream.want();
    if (stream.unavailableReason !== undefined && stream.onDemand) {
      await stream.whenAvailable(this.ctx.limits.describeWaitMs);
    }
    // A source that is down: say so now rather than wait describeWaitMs for media that is not coming.
    if (stream.unavailableReason !== undefined) return unavailable(stream.unavailableReason);
    // Parameter sets go into the SDP, so wait briefly for a source that has just started.
    const ready = await Promise.all(stream.tracks.map((t) => t.whenReady(this.ctx.limits.describeWaitMs)));
    // Never echo `user:password@` from the request URL: responses end up in logs and proxies.
    const base = formatContentBase(absoluteUrl(stripUserInfo(request.uri), conn));
    let description: ReturnType<Stream['sessionDescription']>;
    try {
      description = stream.sessionDescription(conn.localAddress, String(Date.now()));
    } catch (err) {
      // A source that has not sent what its SDP needs (an AAC config) yet: a passing state, not a fault.
      if (!(err instanceof MediaFormatError)) throw err;
      if (ready.includes(false)) {
        throw statusError(503, 'ERR_RTSP_STREAM_NOT_READY', `stream not ready: ${err.message}`, [
          ['Retry-After', '1'],
        ]);
      }
      // What the source sent cannot be described: the server's fault, not the request's.
      throw statusError(500, err.code, err.message);
    }
    if (base.includes('?')) {
      // Clients disagree on resolving `trackID=0` against a base with a query (some drop the
      // query, some append): absolute control URLs leave nothing to resolve.
      for (const m of description.media) m.control = joinControlUrl(base, m.control);
    }
    const sdp = writeSdp(description);
    return {
      status: 200,
      headers: [
        ['Content-Base', base],
        ['Content-Type', 'application/sdp'],
      ],
      body: Buffer.from(sdp),
    };
  }

  private async setup(
    request: RtspRequest,
    target: Target,
    conn: C,
    existing: Session | undefined,
  ): Promise<ResponseSpec> {
    const stream = target.stream;
    if (!stream) throw statusError(404, 'ERR_RTSP_NOT_FOUND', 'stream not found');
    const transportHeader = request.headers.get('transport');
    if (!transportHeader)
      throw statusError(461, 'ERR_RTSP_UNSUPPORTED_TRANSPORT', 'Transport header missing');
    const offered = parseTransportHeader(transportHeader);
    const udpAllowed = !conn.secure || this.ctx.limits.allowUdpOverTls;
    if (offered.some(isRecordMode)) {
      // A publisher's SETUP names its own tracks, on a path players cannot use yet.
      const spec = offered.find((t) => isRecordMode(t) && isSupported(t, conn, udpAllowed, false));
      if (!spec) throw statusError(461, 'ERR_RTSP_UNSUPPORTED_TRANSPORT', 'no supported transport offered');
      return explained(() => this.setupRecord(request, target, stream, conn, existing, spec));
    }
    if (existing?.ingest)
      throw statusError(455, 'ERR_RTSP_METHOD_NOT_VALID', 'a publishing session only records');
    if (stream.unavailableReason !== undefined) return unavailable(stream.unavailableReason);
    const track =
      target.control !== undefined
        ? stream.trackByControl(target.control)
        : stream.tracks.length === 1
          ? stream.tracks[0]
          : undefined;
    if (!track) throw statusError(404, 'ERR_RTSP_NOT_FOUND', 'track not found');
    if (existing && existing.stream !== stream) {
      throw statusError(459, 'ERR_RTSP_AGGREGATE', 'a session carries one stream');
    }
    existing?.checkState('SETUP');
    // Multicast only where the path offers it: elsewhere a multicast-only SETUP gets 461.
    const multicastOffered = stream.multicast !== undefined && this.ctx.transports.multicast !== undefined;
    const spec = offered.find((t) => isSupported(t, conn, udpAllowed, multicastOffered));
    if (!spec) {
      const why = offered.some((t) => t.delivery === 'multicast') && !multicastOffered;
      throw statusError(
        461,
        'ERR_RTSP_UNSUPPORTED_TRANSPORT',
        why ? `no multicast on ${stream.path}` : 'no supported transport offered',
      );
    }
    // An authorize hook may have let time pass: a client gone meanwhile gets no session.
    if (conn.closed) throw statusError(400, 'ERR_RTSP_GONE', 'connection closed during SETUP');
    if (this.ctx.findStream(stream.path) !== stream)
      throw statusError(404, 'ERR_RTSP_NOT_FOUND', 'stream removed during SETUP');
    // PLAY names this URL (without user information) in RTP-Info: refuse now what could not be
    // written there then.
    const trackUrl = stripUserInfo(request.uri);
    try {
      formatRtpInfo([{ url: trackUrl }]);
    } catch {
      throw statusError(400, 'ERR_RTSP_BAD_REQUEST', 'request URL cannot be named in RTP-Info');
    }
    if (!existing) this.ctx.sessions.checkLimits(stream, conn);

    // Build the new transport before touching the session, so that a failure leaves the session
    // (and a track set up before) as it was, and nothing half-made behind.
    let session = existing;
    let transport: SessionTransport | undefined;
    try {
      let reply: TransportSpec;
      if (spec.lowerTransport === 'TCP') {
        session = existing ?? this.ctx.sessions.create(stream, conn);
        // Free the previous pair first: a re-SETUP may ask for the same channels.
        session.removeTrack(track.id);
        transport = this.ctx.transports.interleaved(conn, session, spec.interleaved);
        reply = {
          transport: spec.transport,
          profile: spec.profile,
          lowerTransport: 'TCP',
          delivery: 'unicast',
          interleaved: transport.channels,
          ssrc: track.sender.ssrc,
          mode: spec.mode,
          extra: [],
        };
      } else if (spec.delivery === 'multicast') {
        // The group, ports and TTL are the path's: a client asking for others gets ours (RFC 2326
        // 12.39: a server must not let a client direct a stream to an address it did not choose).
        let owner: Session | undefined;
        const reader = await this.ctx.transports.multicast!(conn, stream, track, (packet) =>
          owner?.receiveRtcp(packet),
        );
        transport = reader;
        this.checkAfterBind(conn, existing, stream);
        session = existing ?? this.ctx.sessions.create(stream, conn);
        owner = session;
        reply = {
          transport: spec.transport,
          profile: spec.profile,
          lowerTransport: 'UDP',
          delivery: 'multicast',
          destination: reader.group,
          port: reader.ports,
          ttl: reader.ttl,
          ssrc: track.sender.ssrc,
          mode: spec.mode,
          extra: [],
        };
      } else {
        let owner: Session | undefined;
        const udp = await this.ctx.transports.udp(conn, spec.clientPort!, (packet) =>
          owner?.receiveRtcp(packet),
        );
        transport = udp;
        this.checkAfterBind(conn, existing, stream);
        session = existing ?? this.ctx.sessions.create(stream, conn);
        owner = session;
        reply = {
          transport: spec.transport,
          profile: spec.profile,
          lowerTransport: spec.lowerTransport,
          delivery: 'unicast',
          destination: spec.destination === undefined ? undefined : conn.remoteAddress,
          clientPort: spec.clientPort,
          serverPort: udp.serverPorts,
          ssrc: track.sender.ssrc,
          mode: spec.mode,
          extra: [],
        };
      }
      const transportHeader = formatTransportHeader(reply);
      session.addTrack(track, transport, trackUrl);
      if (session !== existing) this.ctx.sessionStarted(session);
      return this.setupAnswer(session, transportHeader);
    } catch (err) {
      throw this.undoSetup(err, transport, session, existing, track);
    }
  }

  /**
   * ANNOUNCE: a publisher describes what it will send. The path must take publishers and be free
   * (one publisher at a time: 409 otherwise); the SDP becomes the path's tracks — the old ones are
   * kept, with their parked players, when the formats are alike.
   */
  /** The client may have gone, its session ended or the stream been removed while UDP ports were bound. */
  private checkAfterBind(conn: C, existing: Session | undefined, stream: Stream): void {
    if (conn.closed) throw statusError(400, 'ERR_RTSP_GONE', 'connection closed during SETUP');
    if (existing?.state === 'ended')
      throw statusError(454, 'ERR_RTSP_SESSION_NOT_FOUND', 'session ended during SETUP');
    if (this.ctx.findStream(stream.path) !== stream)
      throw statusError(404, 'ERR_RTSP_NOT_FOUND', 'stream removed during SETUP');
  }

  private announce(request: RtspRequest, target: Target, conn: C): ResponseSpec {
    const stream = target.stream;
    if (!stream || target.control !== undefined)
      throw statusError(404, 'ERR_RTSP_NOT_FOUND', 'stream not found');
    const point = this.ctx.publishPoint?.(stream);
    if (!point) {
      throw statusError(405, 'ERR_RTSP_NOT_PUBLISH_PATH', `${stream.path} does not take publishers`, [
        ['Allow', formatPublic(SUPPORTED_METHODS.filter((m) => m !== 'ANNOUNCE' && m !== 'RECORD'))],
      ]);
    }
    const type = request.headers.get('content-type');
    if (type === undefined || !/^\s*application\/sdp\s*(;|$)/i.test(type)) {
      throw statusError(415, 'ERR_RTSP_UNSUPPORTED_MEDIA', 'ANNOUNCE needs an application/sdp body');
    }
    if (point.owner !== undefined && point.owner !== conn) {
      if (!point.takeover) {
        throw statusError(
          409,
          'ERR_RTSP_ALREADY_PUBLISHING',
          `someone is already publishing to ${stream.path}`,
        );
      }
      // Freed first, so the old publisher's end does not park or end the players.
      const holder = point.session && this.ctx.sessions.get(point.session.id);
      point.release();
      holder?.end('replaced');
    }
    if (point.session !== undefined) {
      throw statusError(455, 'ERR_RTSP_METHOD_NOT_VALID', 'ANNOUNCE while recording');
    }
    const description = parseSdp(request.body.toString('utf8'));
    if (description.media.length === 0) throw new SdpError('SDP describes no media');
    const announced = description.media.map(announcedTrack);
    point.owner = conn;
    point.announced = announced;
    if (!sameTrackShape(stream.tracks, announced)) {
      // Other formats: players parked on the old tracks cannot follow.
      for (const s of this.ctx.sessions.ofStream(stream)) s.end('unpublished');
      stream.replaceTracks(announced.map((a) => a.codec));
    }
    return { status: 200 };
  }

  /** SETUP with mode=record: one of the announced tracks, taken over TCP interleaved or UDP. */
  private async setupRecord(
    request: RtspRequest,
    target: Target,
    stream: Stream,
    conn: C,
    existing: Session | undefined,
    spec: TransportSpec,
  ): Promise<ResponseSpec> {
    const point = this.ctx.publishPoint?.(stream);
    if (!point)
      throw statusError(405, 'ERR_RTSP_NOT_PUBLISH_PATH', `${stream.path} does not take publishers`);
    if (point.owner !== conn) {
      if (point.owner !== undefined)
        throw statusError(
          409,
          'ERR_RTSP_ALREADY_PUBLISHING',
          `someone is already publishing to ${stream.path}`,
        );
      throw statusError(455, 'ERR_RTSP_METHOD_NOT_VALID', 'SETUP for recording needs an ANNOUNCE first');
    }
    if (existing && existing !== this.ctx.sessions.get(point.session?.id ?? '')) {
      throw statusError(455, 'ERR_RTSP_METHOD_NOT_VALID', 'a playing session cannot record');
    }
    existing?.checkState('SETUP');
    const index = point.indexOf(target.control);
    const track = stream.tracks[index];
    if (index < 0 || !track) throw statusError(404, 'ERR_RTSP_NOT_FOUND', 'track not announced');
    let session = existing;
    let transport: SessionTransport | undefined;
    try {
      let reply: TransportSpec;
      if (spec.lowerTransport === 'TCP') {
        session = existing ?? this.ctx.sessions.create(stream, conn);
        session.removeTrack(track.id);
        transport = this.ctx.transports.interleaved(conn, session, spec.interleaved);
        reply = { ...spec, delivery: 'unicast', interleaved: transport.channels, ssrc: undefined, extra: [] };
      } else {
        let owner: Session | undefined;
        const udp = await this.ctx.transports.udp(
          conn,
          spec.clientPort!,
          (packet) => owner?.receiveRtcp(packet, track.id),
          (packet) => owner?.receiveRtp(track.id, packet),
        );
        transport = udp;
        if (conn.closed) throw statusError(400, 'ERR_RTSP_GONE', 'connection closed during SETUP');
        session = existing ?? this.ctx.sessions.create(stream, conn);
        owner = session;
        reply = {
          ...spec,
          delivery: 'unicast',
          destination: undefined,
          serverPort: udp.serverPorts,
          ssrc: undefined,
          extra: [],
        };
      }
      const header = formatTransportHeader(reply);
      session.addTrack(track, transport, stripUserInfo(request.uri));
      if (session !== existing) {
        const publisher = session;
        point.session = publisher;
        publisher.ingest = (trackId, packet) => point.ingests.get(trackId)?.receive(packet);
        publisher.ingestSenderReport = (trackId, report) => point.senderReport(trackId, report);
        publisher.onEnd(() => this.publisherLeft(stream, point, publisher));
        this.ctx.sessionStarted(publisher);
      }
      point.ingest(track, index);
      return this.setupAnswer(session, header);
    } catch (err) {
      throw this.undoSetup(err, transport, session, existing, track);
    }
  }

  /** RECORD: the publisher's media now reaches the path's players. */
  private record(target: Target, session: Session | undefined): ResponseSpec {
    if (!session) throw statusError(455, 'ERR_RTSP_METHOD_NOT_VALID', 'RECORD before SETUP');
    if (!session.ingest)
      throw statusError(455, 'ERR_RTSP_METHOD_NOT_VALID', 'session was not set up for recording');
    this.checkAggregate(target, session);
    session.record();
    session.stream.setAvailable();
    return { status: 200, headers: sessionHeader(session) };
  }

  /** The publisher's session ended: the path is free again; its players wait or end as configured. */
  private publisherLeft(stream: Stream, point: PublishPoint, publisher: Session): void {
    if (point.session !== publisher) return;
    point.release();
    stream.setUnavailable('no one is publishing');
    if (point.publishEnd === 'end') {
      for (const s of this.ctx.sessions.ofStream(stream)) if (s !== publisher) s.end('unpublished');
    }
  }

  /** The connection closed: an ANNOUNCE it made without a session yet frees its path. */
  connectionClosed(conn: C, streams: Iterable<Stream>): void {
    for (const stream of streams) {
      const point = this.ctx.publishPoint?.(stream);
      if (point && point.owner === conn && point.session === undefined) point.release();
    }
  }

  /** The 200 a SETUP gets: the Transport chosen and the session with its timeout. */
  private setupAnswer(session: Session, transportHeader: string): ResponseSpec {
    return {
      status: 200,
      headers: [
        ['Transport', transportHeader],
        ['Session', formatSessionHeader({ id: session.id, timeout: this.ctx.sessions.timeoutSec })],
      ],
    };
  }

  /**
   * A failed SETUP leaves nothing behind: the transport it made is closed and a session it created
   * with no track is ended. Returns the error to throw (a port failure becomes 503).
   */
  private undoSetup(
    err: unknown,
    transport: SessionTransport | undefined,
    session: Session | undefined,
    existing: Session | undefined,
    track: Track,
  ): RtspError {
    if (transport && session?.tracks.get(track.id)?.transport !== transport) transport.close();
    if (session && session !== existing && session.tracks.size === 0) session.end('teardown');
    if (err instanceof RtspError) return err;
    return statusError(503, 'ERR_RTSP_NO_PORTS', (err as Error).message);
  }
  /**
   * Answers at once and starts every track; the client's first packets come from the transports'
   * gates instead of from a delayed answer: video starts at its next keyframe (asked of the source,
   * coalesced with other joins), the other tracks with the video, so the client gets the same
   * stream it got when the answer waited for the keyframe — only the answer no longer waits.
   *
   * RTP-Info says only what is true when it is sent: every track's `url`, and `seq` for a track
   * that starts at once (the next packet its codec makes is the client's first). A gated track's
   * first sequence number and timestamp are not known yet, so they are left out, as RFC 2326
   * 12.33 allows. What clients do with them: ffmpeg (rtsp.c handle_rtp_info) uses only `rtptime`,
   * as the stream's zero pts when there are no sender reports, and without it takes the first
   * packet's timestamp; GStreamer's rtspsrc puts them in caps as seqnum-base/clock-base, and
   * rtpjitterbuffer drops packets before seqnum-base and counts the ones between it and the first
   * packet as lost (a wrong guess costs lost-packet timers), clock-base serving only rtcp-sync=rtp
   * and npt-stop; without them it starts from the first packet. libcurl passes the header to the
   * application unparsed; media-stream-library's RtspSession reads only Range from the answer and
   * times packets from sender reports.
   */
  private play(request: RtspRequest, target: Target, conn: C, session: Session): null | ResponseSpec {
    this.checkAggregate(target, session);
    session.checkState('PLAY');
    if (session.tracks.size === 0) throw statusError(455, 'ERR_RTSP_METHOD_NOT_VALID', 'no track set up');
    const base: Array<[string, string]> = [
      ['Range', formatRangeHeader({ unit: 'npt', start: 'now' })],
      ...sessionHeader(session),
    ];
    if (session.state === 'playing') return { status: 200, headers: base };

    const lead = session.stream.leadTrack;
    const leadSetup = lead && lead.kind === 'video' ? session.tracks.get(lead.id) : undefined;
    // Video starts at a keyframe; the other tracks wait for the session's video (if it has any).
    const gated = (st: SessionTrack) => st.track.kind === 'video' || leadSetup !== undefined;
    const rtpInfo = formatRtpInfo(
      [...session.tracks.values()].map((st) =>
        gated(st) ? { url: st.url } : { url: st.url, seq: st.track.sender.nextSequence },
      ),
    );
    // Written here, before any packet or sender report of this session can reach a TCP client.
    conn.writeResponse(request.headers.get('cseq'), {
      status: 200,
      headers: [...base, ['RTP-Info', rtpInfo]],
    });
    try {
      session.play(this.ctx.limits.playStartTimeoutMs);
    } catch (err) {
      // Answered already: a failure to start is this client's alone, reported, not answered twice.
      this.ctx.reportError(err, conn);
      return null;
    }
    this.ctx.sessionPlaying(session);
    return null;
  }

  private pause(target: Target, session: Session): ResponseSpec {
    this.checkAggregate(target, session);
    session.pause();
    return { status: 200, headers: sessionHeader(session) };
  }

  /** PLAY/PAUSE on one track of a multi-track session is not allowed (RFC 2326 459). */
  private checkAggregate(target: Target, session: Session): void {
    if (target.stream && target.stream !== session.stream) {
      throw statusError(459, 'ERR_RTSP_AGGREGATE', 'URL names another stream');
    }
    if (target.control !== undefined && session.tracks.size > 1) {
      throw statusError(459, 'ERR_RTSP_AGGREGATE', 'aggregate operation only');
    }
  }
}

/** Publishers' refusals carry their reason as a body too: ffmpeg and GStreamer print it. */
async function explained(answer: () => ResponseSpec | Promise<ResponseSpec>): Promise<ResponseSpec> {
  try {
    return await answer();
  } catch (err) {
    if (err instanceof RtspError) (err as AnsweredError).explain = true;
    throw err;
  }
}

/** 503 for a stream whose source is down, with the reason as a line of text. */
function unavailable(reason: string): ResponseSpec {
  return {
    status: 503,
    headers: [
      ['Retry-After', '1'],
      ['Content-Type', 'text/plain; charset=utf-8'],
    ],
    body: Buffer.from(`stream unavailable: ${reason.replace(/[\r\n]+/g, ' ')}\n`),
  };
}

function sessionHeader(session: Session | undefined): Array<[string, string]> {
  return session ? [['Session', formatSessionHeader({ id: session.id })]] : [];
}

function isRecordMode(spec: TransportSpec): boolean {
  return spec.mode?.split(',').includes('RECORD') === true;
}

function isSupported(
  spec: TransportSpec,
  conn: DispatcherConnection,
  udpAllowed: boolean,
  multicastOffered: boolean,
): boolean {
  if (spec.transport !== 'RTP' || spec.profile !== 'AVP') return false;
  if (spec.mode !== undefined && spec.mode !== 'PLAY' && !isRecordMode(spec)) return false;
  if (spec.lowerTransport === 'TCP') return true;
  if (!udpAllowed) return false;
  // No client_port needed: the group's ports are the server's choice.
  if (spec.delivery === 'multicast') return multicastOffered && !isRecordMode(spec);
  // Port 0 cannot be sent to (and would fail only once the ports were bound).
  if (!spec.clientPort || spec.clientPort[0] === 0) return false;
  // Never send to a third party named in `destination` (reflection): only to the client itself.
  if (spec.destination !== undefined && spec.destination !== conn.remoteAddress) return false;
  return true;
}

/** The request URL in absolute form (a client may send a bare path). */
function absoluteUrl(uri: string, conn: DispatcherConnection): string {
  if (/^rtsps?:\/\//i.test(uri)) return uri;
  const host = conn.localAddress.includes(':') ? `[${conn.localAddress}]` : conn.localAddress;
  return `rtsp://${host}:${conn.localPort}${uri.startsWith('/') ? '' : '/'}${uri}`;
}
