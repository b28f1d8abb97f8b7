// Messages between the benchmark runner and the server child process (Node IPC channel).

/** The server's state at one instant, taken between two frame pushes. */
export interface ServerSnapshot {
  /** process.cpuUsage(), microseconds since the process started. */
  cpuUserUs: number;
  cpuSystemUs: number;
  /** process.resourceUsage().maxRSS: peak resident set so far, KiB. */
  maxRssKiB: number;
  rssBytes: number;
  /** performance.eventLoopUtilization() so far (ms). */
  eluIdleMs: number;
  eluActiveMs: number;
  /** Sequence number the next RTP packet of the track will carry. */
  nextSeq: number;
  /** Track counters: packets and payload octets packetized, access units pushed. */
  packets: number;
  octets: number;
  frames: number;
  /** Most a frame push came after its due time since the previous snapshot, ms. */
  maxLateMs: number;
  /** How late the event loop ran a 10 ms timer since the previous snapshot (monitorEventLoopDelay less its resolution), ms. */
  loopLateP99Ms: number;
  loopLateMaxMs: number;
  sessions: number;
  playing: number;
  /** Sums over the live sessions: packets handed to their transports, batches skipped (TCP lag). */
  sessionPacketsSent: number;
  droppedBatches: number;
  connections: number;
  clientErrors: number;
  firstClientError?: string;
  /** Sessions ended so far, by reason. */
  ended: Record<string, number>;
}

export interface ServerReady {
  type: 'ready';
  port: number;
  path: string;
  fps: number;
  gop: number;
  keyframeBytes: number;
  deltaBytes: number;
  actualBitsPerSecond: number;
  /** RSS right after start-up, before any client: Node, tsx and the server code. */
  rssBytes: number;
}

export type ToServer = { type: 'snapshot'; id: number } | { type: 'shutdown' };

export type FromServer =
  | ServerReady
  | { type: 'snapshot'; id: number; snapshot: ServerSnapshot }
  | { type: 'closed'; snapshot: ServerSnapshot }
  | { type: 'fatal'; message: string };
