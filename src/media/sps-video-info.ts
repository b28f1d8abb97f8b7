/** What a video track's SDP can say of its pictures: size and rate. */
export interface VideoInfo {
  width?: number;
  height?: number;
  frameRate?: number;
}

/**
 * Picture size and rate for the SDP, read from each new SPS a video track sees (H.264 and H.265
 * alike, each with its own SPS parser). An SPS the parser cannot read is still sent by the track;
 * only these hints are lost.
 */
export class SpsVideoInfo {
  private info: VideoInfo = {};
  private seen: Buffer | undefined;

  constructor(
    private readonly parse: (sps: Buffer) => { width: number; height: number; frameRate?: number | null },
  ) {}

  get current(): VideoInfo {
    return { width: this.info.width, height: this.info.height, frameRate: this.info.frameRate };
  }

  note(sps: Buffer): void {
    if (this.seen?.equals(sps)) return;
    this.seen = Buffer.from(sps);
    try {
      const parsed = this.parse(sps);
      this.info = { width: parsed.width, height: parsed.height, frameRate: parsed.frameRate ?? undefined };
    } catch {
      // Keep what an earlier SPS said.
    }
  }

  /** `a=framerate` and `a=x-dimensions`, for what is known. */
  sdpAttributes(): Array<[string, string | undefined]> {
    const { width, height, frameRate } = this.info;
    const attributes: Array<[string, string | undefined]> = [];
    if (frameRate) attributes.push(['framerate', String(frameRate)]);
    if (width && height) attributes.push(['x-dimensions', `${width},${height}`]);
    return attributes;
  }
}
