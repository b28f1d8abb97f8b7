import type { AuthOptions } from './auth.js';
import type { DispatcherHooks } from './dispatcher.js';
import type { IpFilterOptions } from './ip-filter.js';

export interface RtspServerOptions {
  /** TCP port for RTSP (default 8554; 0 picks a free one). */
  port?: number;
  /** Address to listen on (default 0.0.0.0). */
  host?: string;
  /** UDP ports handed out for RTP/RTCP pairs (default 20000-29999). */
  rtpPortRange?: [number, number];
  /** Session timeout advertised to clients, seconds (default 60). */
  sessionTimeoutSec?: number;
  /** Most sessions at once; SETUP beyond it gets 503 (default 1000). */
  maxSessions?: number;
  /** Most RTSP connections at once; beyond it new ones are closed at once (default 2000). */
  maxConnections?: number;
  /** Most connections from one address at once (default 200). */
  maxConnectionsPerAddress?: number;
  /** Most sessions on one stream path; SETUP beyond it gets 503 (default 1000). */
  maxSessionsPerPath?: number;
  /**
   * Most sessions one connection (default 16) and one address (default 200) may hold; SETUP beyond
   * them gets 503. Without them one client could take every session and UDP port pair.
   */
  maxSessionsPerConnection?: number;
  maxSessionsPerAddress?: number;
  /** A request must arrive whole within this long of its first byte, else 408 and close (default 10 s). */
  requestTimeoutMs?: number;
  /** A connection with no session and no request for this long is closed (default 60 s). */
  idleTimeoutMs?: number;
  /**
   * RTSP over HTTP: tunnel GETs waiting for their POST, at most (default 64; more get 503). Each waits
   * `requestTimeoutMs` at most.
   */
  maxPendingTunnels?: number;
  /**
   * RTSPS: RTSP over TLS on its own port (default 8322) with this certificate and key (PEM). Clients
   * use `rtsps://` and interleaved TCP inside the TLS connection.
   */
  tls?: RtspsOptions;
  /** Built-in authentication (Basic/Digest, per path and action). Runs before `hooks.authorize`. */
  auth?: AuthOptions;
  /**
   * The open-descriptor limit the server plans for (default: the process's soft RLIMIT_NOFILE, read
   * at start; Infinity: none). Client sockets stay below it by a reserve kept for UDP pairs and
   * files; a connection beyond gets 503 and a \`refused\` event instead of a failed accept.
   */
  maxOpenFiles?: number;
  /** Addresses allowed / denied (CIDRs); a denied client's connection is closed at once. */
  ipFilter?: IpFilterOptions;
  /** Largest header block of a request (default 8 KiB) and body (default 64 KiB). */
  maxHeaderBytes?: number;
  maxBodyBytes?: number;
  /**
   * Bytes a TCP client may have queued in its socket before it skips to the next keyframe
   * (default 2 MiB), and how long it may stay behind before it is dropped (default 10 s).
   */
  maxBufferedBytes?: number;
  maxLagMs?: number;
  /**
   * Longest the other tracks of a session (audio) wait for its video's first keyframe before they
   * start without it (default 5 s). PLAY itself is answered at once.
   */
  playStartTimeoutMs?: number;
  /** Longest DESCRIBE waits for a new source's parameter sets (default 3 s). */
  describeWaitMs?: number;
  /** RTCP sender report interval (default 5 s). */
  rtcpIntervalMs?: number;
  hooks?: DispatcherHooks;
}

export interface RtspsOptions {
  cert: string | Buffer;
  key: string | Buffer;
  /** TLS port (default 8322; 0 picks a free one). */
  port?: number;
  /**
   * Let TLS clients choose plain UDP for the media (default false): the control channel would be
   * private but the video would not, which is rarely what an operator who enabled TLS wants.
   */
  allowUdp?: boolean;
}

/** The options that have a default: every number, the address and the port range. */
export type DefaultedServerOptions = Required<
  Omit<RtspServerOptions, 'hooks' | 'tls' | 'auth' | 'ipFilter' | 'maxOpenFiles'>
>;

/** The RTSPS port when `tls` is given without one. */
export const DEFAULT_TLS_PORT = 8322;

/** The one table of defaults (the README and the CLI quote it). */
export const SERVER_DEFAULTS: Readonly<DefaultedServerOptions> = Object.freeze({
  port: 8554,
  host: '0.0.0.0',
  rtpPortRange: [20000, 29999] as [number, number],
  sessionTimeoutSec: 60,
  maxSessions: 1000,
  maxConnections: 2000,
  maxConnectionsPerAddress: 200,
  maxSessionsPerPath: 1000,
  maxSessionsPerConnection: 16,
  maxSessionsPerAddress: 200,
  requestTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
  maxPendingTunnels: 64,
  maxHeaderBytes: 8192,
  maxBodyBytes: 65536,
  maxBufferedBytes: 2 * 1024 * 1024,
  maxLagMs: 10_000,
  playStartTimeoutMs: 5000,
  describeWaitMs: 3000,
  rtcpIntervalMs: 5000,
});

/** A server's options with every default filled in (`auth` and `ipFilter` are read where they are used). */
export type ResolvedServerOptions = DefaultedServerOptions & {
  hooks: DispatcherHooks;
  tls: RtspsOptions | undefined;
};

/** Fills in the defaults; an option given as `undefined` takes its default too. */
export function resolveServerOptions(options: RtspServerOptions = {}): ResolvedServerOptions {
  const resolved = { ...SERVER_DEFAULTS } as DefaultedServerOptions;
  for (const key of Object.keys(SERVER_DEFAULTS) as Array<keyof DefaultedServerOptions>) {
    const value = options[key];
    if (value !== undefined) (resolved as Record<string, unknown>)[key] = value;
  }
  resolved.rtpPortRange = [...resolved.rtpPortRange] as [number, number];
  return { ...resolved, hooks: options.hooks ?? {}, tls: options.tls };
}
