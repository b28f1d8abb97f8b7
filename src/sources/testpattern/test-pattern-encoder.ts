import type { Buffer } from 'node:buffer';
import { MediaFormatError } from '../../codecs/errors.js';
import { H264LosslessEncoder, type PictureStats } from '../../codecs/h264/encoder/encoder.js';
import { profileLevelId } from '../../codecs/h264/encoder/parameter-sets.js';
import { type CroppedYuv420, cropPicture } from '../../codecs/h264/encoder/picture.js';
import { writeTimestampSei } from '../../codecs/h264/encoder/sei.js';
import { TestPatternCanvas } from './draw.js';

export interface TestPatternOptions {
  width?: number;
  height?: number;
  fps?: number;
  /** An IDR every this many frames (frameIndex % gopFrames === 0). */
  gopFrames?: number;
  /** Text burned into the picture, e.g. the stream path. */
  label?: string;
  /** frame_num bits (4..16); tests lower it to exercise wrapping. */
  log2MaxFrameNum?: number;
}

export interface EncodedTestFrame {
  /** NAL units without start codes: IDR = [SPS, PPS, SEI, slice], P = [SEI, slice]. */
  nalus: Buffer[];
  keyframe: boolean;
}

/**
 * The default live stream: draws the test pattern for a frame and encodes it as H.264
 * Constrained Baseline. Pure - the caller supplies frame number and wall-clock time and decides
 * when to call.
 */
export class TestPatternEncoder {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly gopFrames: number;
  readonly sps: Buffer;
  readonly pps: Buffer;
  /** RFC 6184 profile-level-id, e.g. "42c01e". */
  readonly profileLevelId: string;
  private readonly canvas: TestPatternCanvas;
  private readonly encoder: H264LosslessEncoder;
  private framesSinceIdr = -1;
  private keyframeRequested = false;

  constructor(opts: TestPatternOptions = {}) {
    this.width = opts.width ?? 640;
    this.height = opts.height ?? 480;
    this.fps = opts.fps ?? 25;
    this.gopFrames = opts.gopFrames ?? 50;
    if (!Number.isInteger(this.gopFrames) || this.gopFrames < 1)
      throw new MediaFormatError(`gopFrames must be a positive integer, got ${this.gopFrames}`);
    this.encoder = new H264LosslessEncoder({
      width: this.width,
      height: this.height,
      fps: this.fps,
      log2MaxFrameNum: opts.log2MaxFrameNum,
    });
    this.canvas = new TestPatternCanvas({
      width: this.width,
      height: this.height,
      fps: this.fps,
      label: opts.label ?? '/test',
    });
    this.sps = this.encoder.sps;
    this.pps = this.encoder.pps;
    this.profileLevelId = profileLevelId(this.encoder.params);
  }

  /** Makes the next frame an IDR (e.g. when a client joins mid-GOP). */
  requestKeyframe(): void {
    this.keyframeRequested = true;
  }

  /** Draws and encodes one frame. `wallClockMs` is shown in the picture and sent in the SEI. */
  encodeFrame(frameIndex: number, wallClockMs: number): EncodedTestFrame {
    const keyframe =
      this.framesSinceIdr < 0 ||
      this.keyframeRequested ||
      frameIndex % this.gopFrames === 0 ||
      this.framesSinceIdr + 1 >= this.gopFrames;
    this.keyframeRequested = false;
    this.framesSinceIdr = keyframe ? 0 : this.framesSinceIdr + 1;

    this.canvas.draw(frameIndex, wallClockMs);
    const slice = this.encoder.encodePicture(this.canvas.picture, {
      idr: keyframe,
      changedMbs: this.canvas.changedMbs,
    });
    this.canvas.clearChanged();
    const sei = writeTimestampSei(wallClockMs, frameIndex);
    return { nalus: keyframe ? [this.sps, this.pps, sei, slice] : [sei, slice], keyframe };
  }

  /** Macroblock counts and slice size of the last frame. */
  get lastStats(): PictureStats {
    return this.encoder.lastStats;
  }

  /** The display-size picture the last frame showed (what a decoder must output), as copies. */
  lastPicture(): CroppedYuv420 {
    return cropPicture(this.canvas.picture);
  }
}
