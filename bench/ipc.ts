// Messages between the benchmark runner and the server child process (Node IPC channel).

/**
 * Per access unit pushed since the previous snapshot: from the push until the last client's write had
 * returned (the fan-out is synchronous), ms; and the CPU time (user + system) each push took.
 */
export interface PushTimesSnapshot {
  pushes: number;
  pushToLastWriteP50Ms: number;
  pushToLastWriteP99Ms: number;
  pushToLastWriteMaxMs: number;
  pushCpuP50Ms: number;
  pushCpuP99Ms: number;
  /** The same wall time, P frames and keyframes (IDR) apart. */
  pushDeltaP50Ms: number;
  pushDeltaP99Ms: number;
  pushKeyframeP50Ms: number;
  pushKeyframeMaxMs: number;
}

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
  /**
   * Event-loop delay p99 since the previous snapshot, ms: monitorEventLoopDelay's p99 minus its
   * 10 ms sampling period (what a timer, a request or a socket waited beyond its turn).
   */
  eventLoopLateP99Ms: number;
  /** Push → last write since the previous snapshot (bench/push-times.ts). */
  pushTimes?: PushTimesSnapshot;
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

/** `phase` marks the measured window's edges (a CPU profile, when asked for, covers just the window). */
export type ToServer =
  | { type: 'snapshot'; id: number; phase?: 'window-start' | 'window-end' }
  | { type: 'shutdown' };

export type FromServer =
  | ServerReady
  | { type: 'snapshot'; id: number; snapshot: ServerSnapshot }
  | { type: 'closed'; snapshot: ServerSnapshot }
  | { type: 'fatal'; message: string };
