// Prometheus metrics of a running `smolrtsp serve` (GET /metrics). Gauges and the per-path traffic
// counters are computed at scrape time from server.sessions(): nothing is counted on the media path.
// Labels are bounded: path, transport, and closed sets (end reason, status, refusal code); never a
// session id or a client address.
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { HttpServer } from '../http/http-server.js';
import type { MulticastSenderInfo } from '../server/multicast.js';
import type { RefusalInfo, RtspServer } from '../server/rtsp-server.js';
import type { EndReason, SessionInfo } from '../server/session.js';
import type { PathTable } from './paths.js';

export type Transport = SessionInfo['transport'];
const TRANSPORTS: readonly Transport[] = ['tcp', 'udp', 'multicast'];

/** RTP packets and bytes sent to players, and batches dropped for players that lagged. */
export interface SentFigures {
  packets: number;
  bytes: number;
  droppedBatches: number;
}

/** What the sessions of one path over one transport amount to right now. */
export interface PathTransportSummary extends SentFigures {
  path: string;
  transport: Transport;
  /** Open sessions (players and publishers, in any state). */
  sessions: number;
  /** Sessions playing. */
  readers: number;
  /** Sessions recording (publishers). */
  publishers: number;
}

/** The worst of the players' latest RTCP receiver reports on one path. */
export interface PathReceptionSummary {
  path: string;
  /** Largest fraction lost (0..1) any player reported last. */
  lossRatio: number;
  /** Cumulative packets lost, summed over the players now on the path. */
  lostPackets: number;
  /** Largest interarrival jitter, in seconds. */
  jitterSeconds: number;
}

export interface SessionSummary {
  byPathTransport: PathTransportSummary[];
  /** Only paths whose players have sent a receiver report. */
  reception: PathReceptionSummary[];
}

const keyOf = (path: string, transport: Transport) => `${transport} ${path}`;

/**
 * Sums sessions per path and transport. Every path of `paths` appears for every transport, with
 * zeros when no one is there: a series that stays is easier to graph than one that comes and goes.
 * Multicast traffic is the groups' (`senders`): each packet is sent once for all the readers, and
 * a reader's own figures are what went to its group while it played, so summing them would count
 * one send once per reader.
 */
export function summarizeSessions(
  sessions: readonly SessionInfo[],
  paths: Iterable<string>,
  senders: readonly MulticastSenderInfo[] = [],
): SessionSummary {
  const rows = new Map<string, PathTransportSummary>();
  const row = (path: string, transport: Transport) => {
    const key = keyOf(path, transport);
    let r = rows.get(key);
    if (!r) {
      r = {
        path,
        transport,
        sessions: 0,
        readers: 0,
        publishers: 0,
        packets: 0,
        bytes: 0,
        droppedBatches: 0,
      };
      rows.set(key, r);
    }
    return r;
  };
  for (const path of paths) for (const t of TRANSPORTS) row(path, t);
  const reception = new Map<string, PathReceptionSummary>();
  for (const s of sessions) {
    const r = row(s.path, s.transport);
    r.sessions++;
    if (s.state === 'playing') r.readers++;
    if (s.state === 'recording') r.publishers++;
    if (s.transport !== 'multicast') {
      r.packets += s.packetsSent;
      r.bytes += s.bytesSent;
      r.droppedBatches += s.droppedBatches;
    }
    for (const t of s.tracks) {
      const rr = t.receiverReport;
      if (!rr) continue;
      let p = reception.get(s.path);
      if (!p) {
        p = { path: s.path, lossRatio: 0, lostPackets: 0, jitterSeconds: 0 };
        reception.set(s.path, p);
      }
      p.lossRatio = Math.max(p.lossRatio, rr.fractionLost);
      // RFC 3550 allows a negative cumulative count (duplicates): it does not make up for others' loss.
      p.lostPackets += Math.max(0, rr.cumulativeLost);
      p.jitterSeconds = Math.max(p.jitterSeconds, rr.jitter);
    }
  }
  for (const g of senders) {
    const r = row(g.path, 'multicast');
    r.packets += g.packets;
    r.bytes += g.bytes;
  }
  return { byPathTransport: [...rows.values()], reception: [...reception.values()] };
}

/**
 * Per-path totals of what was sent, for counters that must never go down while sessions come and
 * go: an ended session's final figures are kept (absorb), and a total is never reported below what
 * was reported before (a transport replaced by a re-SETUP takes its figures with it).
 */
export class SentTotals {
  private readonly ended = new Map<string, SentFigures>();
  private readonly reported = new Map<string, SentFigures>();

  /** A session ended: its figures stay in its path's totals (a multicast one's are its group's). */
  absorb(info: SessionInfo): void {
    if (info.transport === 'multicast') return;
    this.add(info.path, info.transport, {
      packets: info.packetsSent,
      bytes: info.bytesSent,
      droppedBatches: info.droppedBatches,
    });
  }

  /** A multicast sender closed (its last reader left): what it sent to its group stays. */
  absorbMulticast(info: MulticastSenderInfo): void {
    this.add(info.path, 'multicast', { packets: info.packets, bytes: info.bytes, droppedBatches: 0 });
  }

  private add(path: string, transport: Transport, f: SentFigures): void {
    const key = keyOf(path, transport);
    const e = this.ended.get(key) ?? { packets: 0, bytes: 0, droppedBatches: 0 };
    e.packets += f.packets;
    e.bytes += f.bytes;
    e.droppedBatches += f.droppedBatches;
    this.ended.set(key, e);
  }

  /**
   * Totals per path and transport: the ended sessions' plus the live ones' (`live`, as summarized
   * now), each at least what it was last time. Paths that only ended sessions ever saw stay listed.
   */
  totals(live: readonly PathTransportSummary[]): Array<SentFigures & { path: string; transport: Transport }> {
    const out = new Map<string, SentFigures & { path: string; transport: Transport }>();
    const add = (path: string, transport: Transport, f: SentFigures) => {
      const key = keyOf(path, transport);
      const o = out.get(key) ?? { path, transport, packets: 0, bytes: 0, droppedBatches: 0 };
      o.packets += f.packets;
      o.bytes += f.bytes;
      o.droppedBatches += f.droppedBatches;
      out.set(key, o);
    };
    for (const r of live) add(r.path, r.transport, r);
    for (const [key, f] of this.ended) {
      const [transport, ...rest] = key.split(' ');
      add(rest.join(' '), transport as Transport, f);
    }
    for (const [key, o] of out) {
      const before = this.reported.get(key);
      if (before) {
        o.packets = Math.max(o.packets, before.packets);
        o.bytes = Math.max(o.bytes, before.bytes);
        o.droppedBatches = Math.max(o.droppedBatches, before.droppedBatches);
      }
      this.reported.set(key, { packets: o.packets, bytes: o.bytes, droppedBatches: o.droppedBatches });
    }
    return [...out.values()];
  }
}

export interface ServeMetrics {
  readonly registry: Registry;
  /** The exposition, in the registry's content type. */
  scrape(): Promise<string>;
  readonly contentType: string;
  /** A failed login elsewhere than on the RTSP port (the HTTP API, metrics, page). */
  countAuthFailure(): void;
}

/**
 * The registry of a running server: sessions, traffic, RTCP reception, refusals, source restarts
 * of `table`'s paths, and the Node.js process metrics (event-loop lag among them).
 */
export function createServeMetrics(server: RtspServer, table: PathTable): ServeMetrics {
  const registry = new Registry();
  // The standard process_* and nodejs_* names (nodejs_eventloop_lag_seconds...), unprefixed so the
  // usual Node.js dashboards read them as they are.
  collectDefaultMetrics({ register: registry });

  const totals = new SentTotals();
  // One walk over the sessions per scrape, shared by every metric that collect() fills in; dropped
  // once the scrape's synchronous collect round is over.
  let cached: SessionSummary | undefined;
  const summary = (): SessionSummary => {
    if (!cached) {
      const paths = table.list().map((p) => server.getStream(p.path)?.path ?? p.path);
      cached = summarizeSessions(server.sessions(), paths, server.multicastSenders());
      setImmediate(() => {
        cached = undefined;
      });
    }
    return cached;
  };
  let cachedTotals: ReturnType<SentTotals['totals']> | undefined;
  const sent = () => {
    if (!cachedTotals) {
      cachedTotals = totals.totals(summary().byPathTransport);
      setImmediate(() => {
        cachedTotals = undefined;
      });
    }
    return cachedTotals;
  };

  const perPathTransport = (
    name: string,
    help: string,
    pick: (r: PathTransportSummary) => number,
  ): Gauge<'path' | 'transport'> =>
    new Gauge({
      name,
      help,
      labelNames: ['path', 'transport'],
      registers: [registry],
      collect() {
        this.reset();
        for (const r of summary().byPathTransport)
          this.set({ path: r.path, transport: r.transport }, pick(r));
      },
    });
  perPathTransport(
    'smolrtsp_sessions',
    'Open RTSP sessions (players and publishers, any state).',
    (r) => r.sessions,
  );
  perPathTransport('smolrtsp_readers', 'Sessions playing.', (r) => r.readers);
  perPathTransport('smolrtsp_publishers', 'Sessions recording (publishers).', (r) => r.publishers);

  const sentCounter = (name: string, help: string, pick: (f: SentFigures) => number) =>
    new Counter({
      name,
      help,
      labelNames: ['path', 'transport'],
      registers: [registry],
      collect() {
        // SentTotals never goes down: setting the absolute value keeps the counter monotonic.
        this.reset();
        for (const t of sent()) this.inc({ path: t.path, transport: t.transport }, pick(t));
      },
    });
  sentCounter('smolrtsp_sent_packets_total', 'RTP packets sent to players.', (f) => f.packets);
  sentCounter(
    'smolrtsp_sent_bytes_total',
    'Bytes of RTP sent to players (over TCP with the 4-byte interleaved framing).',
    (f) => f.bytes,
  );
  sentCounter(
    'smolrtsp_dropped_batches_total',
    'Packet batches dropped for players that could not keep up.',
    (f) => f.droppedBatches,
  );

  const perPath = (name: string, help: string, pick: (r: PathReceptionSummary) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['path'],
      registers: [registry],
      collect() {
        this.reset();
        for (const r of summary().reception) this.set({ path: r.path }, pick(r));
      },
    });
  perPath(
    'smolrtsp_rtcp_loss_ratio',
    "Largest fraction lost (0..1) in the players' latest RTCP receiver reports.",
    (r) => r.lossRatio,
  );
  perPath(
    'smolrtsp_rtcp_lost_packets',
    'Cumulative packets lost, from the RTCP receiver reports of the players now on the path.',
    (r) => r.lostPackets,
  );
  perPath(
    'smolrtsp_rtcp_jitter_seconds',
    "Largest interarrival jitter in the players' latest RTCP receiver reports.",
    (r) => r.jitterSeconds,
  );

  new Gauge({
    name: 'smolrtsp_connections',
    help: 'Open RTSP connections.',
    registers: [registry],
    collect() {
      this.set(server.connectionCount);
    },
  });

  const ended = new Counter({
    name: 'smolrtsp_sessions_ended_total',
    help: 'Sessions ended, by reason (reason="slow": players disconnected for not keeping up).',
    labelNames: ['path', 'reason'],
    registers: [registry],
  });
  const authFailures = new Counter({
    name: 'smolrtsp_auth_failures_total',
    help: 'RTSP and HTTP requests with wrong credentials (failed logins).',
    registers: [registry],
  });
  const refusedRequests = new Counter({
    name: 'smolrtsp_refused_requests_total',
    help: 'RTSP requests answered with an error status (401 challenges included).',
    labelNames: ['status'],
    registers: [registry],
  });
  const refusedConnections = new Counter({
    name: 'smolrtsp_refused_connections_total',
    help: 'RTSP connections closed before any request (IP filter, connection limits), by code.',
    labelNames: ['code'],
    registers: [registry],
  });
  const restarts = new Counter({
    name: 'smolrtsp_source_restarts_total',
    help: 'Times a source went down and retried (ffmpeg, relay).',
    labelNames: ['path'],
    registers: [registry],
  });
  // Start at zero rather than appear with the first failure: rate() needs the zero.
  authFailures.inc(0);

  server.on('sessionEnd', (info: SessionInfo, reason: EndReason) => {
    totals.absorb(info);
    ended.inc({ path: info.path, reason });
  });
  server.on('multicastSenderClosed', (info) => totals.absorbMulticast(info));
  server.on('refused', (r: RefusalInfo) => {
    if (r.code === 'ERR_RTSP_AUTH_FAILED') authFailures.inc();
    if (r.status === undefined) refusedConnections.inc({ code: r.code });
    else refusedRequests.inc({ status: String(r.status) });
  });
  table.on('sourceRestart', (path) => restarts.inc({ path }));

  return {
    registry,
    get contentType() {
      return registry.contentType;
    },
    scrape: () => registry.metrics(),
    countAuthFailure: () => authFailures.inc(),
  };
}

/**
 * `GET /metrics` on `http`, with the default access (action `api`): when users exist, Prometheus
 * needs credentials too (basic_auth in its scrape config, with the `basic` method enabled).
 */
export function routeMetrics(http: HttpServer, server: RtspServer, table: PathTable): ServeMetrics {
  const metrics = createServeMetrics(server, table);
  http.route('GET', '/metrics', async (ctx) => ctx.send(200, await metrics.scrape(), metrics.contentType));
  http.on('request', (r) => {
    if (r.code === 'ERR_RTSP_AUTH_FAILED') metrics.countAuthFailure();
  });
  return metrics;
}
