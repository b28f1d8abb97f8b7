// Push → last write, per access unit: how long from the moment a frame is handed to the fan-out until
// the last client's write has returned, in wall time and in CPU time (process.cpuUsage: the same
// without the waits for a core), kept apart for keyframes and the frames between them (an IDR is
// three times a P frame's bytes here). Shared by bench/server.ts and bench/floor.ts so the two
// measure the same thing the same way.
import type { PushTimesSnapshot } from './ipc.js';

const CAPACITY = 4096;

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

export class PushTimes {
  private readonly wall = new Float64Array(CAPACITY);
  private readonly cpu = new Float64Array(CAPACITY);
  private readonly keyframe = new Uint8Array(CAPACITY);
  private count = 0;

  /** One push: its wall time (ms), its CPU time (ms, user + system) and whether it was a keyframe. */
  record(keyframe: boolean, wallMs: number, cpuMs: number): void {
    const i = this.count;
    if (i >= CAPACITY) return;
    this.wall[i] = wallMs;
    this.cpu[i] = cpuMs;
    this.keyframe[i] = keyframe ? 1 : 0;
    this.count = i + 1;
  }

  /** The figures since the previous take, then forgets them. */
  take(): PushTimesSnapshot {
    const n = this.count;
    this.count = 0;
    const wall = this.wall.slice(0, n).sort();
    const cpu = this.cpu.slice(0, n).sort();
    let keys = 0;
    for (let i = 0; i < n; i++) keys += this.keyframe[i];
    const keyWall = new Float64Array(keys);
    const deltaWall = new Float64Array(n - keys);
    for (let i = 0, k = 0, d = 0; i < n; i++) {
      if (this.keyframe[i]) keyWall[k++] = this.wall[i];
      else deltaWall[d++] = this.wall[i];
    }
    keyWall.sort();
    deltaWall.sort();
    return {
      pushes: n,
      pushToLastWriteP50Ms: percentile(wall, 0.5),
      pushToLastWriteP99Ms: percentile(wall, 0.99),
      pushToLastWriteMaxMs: percentile(wall, 1),
      pushCpuP50Ms: percentile(cpu, 0.5),
      pushCpuP99Ms: percentile(cpu, 0.99),
      pushDeltaP50Ms: percentile(deltaWall, 0.5),
      pushDeltaP99Ms: percentile(deltaWall, 0.99),
      pushKeyframeP50Ms: percentile(keyWall, 0.5),
      pushKeyframeMaxMs: percentile(keyWall, 1),
    };
  }
}

/** CPU time (user + system) since `at` (process.cpuUsage()), ms. */
export function cpuMsSince(at: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(at);
  return (used.user + used.system) / 1000;
}
