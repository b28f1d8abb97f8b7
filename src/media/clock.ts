/**
 * The presentation timeline of one stream, anchored to the wall clock. All tracks of a stream share
 * it, so RTCP sender reports of audio and video map their RTP times to one wall clock and clients
 * can line them up, however bursty the source delivers. The anchor is the first access unit; when
 * the source's timeline and the wall clock part by more than `maxSkewMs` (a stall, a restart, a
 * clock that runs off) it is re-anchored so reports stay near the truth.
 */
export class StreamClock {
  private originPtsUs: number | undefined;
  private originWallMs = 0;

  constructor(private readonly maxSkewMs = 1000) {}

  get anchored(): boolean {
    return this.originPtsUs !== undefined;
  }

  /** Notes that the access unit with presentation time `ptsUs` is being sent at `nowMs`. */
  observe(ptsUs: number, nowMs: number): void {
    if (this.originPtsUs === undefined) {
      this.originPtsUs = ptsUs;
      this.originWallMs = nowMs;
      return;
    }
    const expectedWallMs = this.originWallMs + (ptsUs - this.originPtsUs) / 1000;
    if (Math.abs(nowMs - expectedWallMs) > this.maxSkewMs) {
      this.originWallMs = nowMs - (ptsUs - this.originPtsUs) / 1000;
    }
  }

  /** Microseconds since the anchor on the presentation timeline for `ptsUs`. */
  elapsedUsAtPts(ptsUs: number): number {
    return ptsUs - (this.originPtsUs ?? ptsUs);
  }

  /** Microseconds since the anchor on the presentation timeline at wall-clock `wallMs`. */
  elapsedUsAtWall(wallMs: number): number {
    if (this.originPtsUs === undefined) return 0;
    return (wallMs - this.originWallMs) * 1000;
  }
}
