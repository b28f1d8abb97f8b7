/** Motion JPEG for a track (RFC 2435): one JPEG per push. */
import { Buffer } from 'node:buffer';
import { MjpegPacketizer } from '../../codecs/mjpeg/packetizer.js';
import type { SdpMediaDescription } from '../../protocol/sdp.js';
import type { RtpBatchWriter, RtpPacketBatch } from '../../rtp/batch.js';
import type { TrackCodec } from '../track.js';

export interface MjpegTrackOptions {
  /** Default 26 (static JPEG). */
  payloadType?: number;
  /** Largest RTP payload (default 1400). */
  mtu?: number;
}

/** Motion JPEG (RFC 2435): one JPEG per push, every frame a keyframe, 90 kHz clock. */
export class MjpegTrackCodec implements TrackCodec {
  readonly encoding = 'JPEG';
  readonly clockRate = 90000;
  readonly kind = 'video' as const;
  readonly ready = true;
  readonly payloadType: number;
  private readonly packetizer: MjpegPacketizer;

  constructor(options: MjpegTrackOptions) {
    this.payloadType = options.payloadType ?? 26;
    this.packetizer = new MjpegPacketizer({
      mtu: options.mtu,
    });
  }

  /** Picture size of the last frame, once one was pushed. */
  get videoInfo(): { width?: number; height?: number } {
    const d = this.packetizer.dimensions;
    return d ? { width: d.width, height: d.height } : {};
  }

  toUnits(data: Buffer | Buffer[]): Buffer[] {
    return [Array.isArray(data) ? Buffer.concat(data) : data];
  }

  packetize(units: Buffer[], rtpTimestamp: number, writer: RtpBatchWriter): RtpPacketBatch | null {
    const jpeg = units.length === 1 ? units[0] : Buffer.concat(units);
    if (jpeg.length === 0) return null;
    return this.packetizer.packetize(jpeg, rtpTimestamp, writer);
  }

  describe(): Omit<SdpMediaDescription, 'control'> {
    const d = this.packetizer.dimensions;
    return {
      kind: 'video',
      payloadType: this.payloadType,
      encoding: this.encoding,
      clockRate: 90000,
      // GStreamer's depayloader takes the exact size from here (the RTP header has it in 8-pixel units).
      attributes: d ? [['x-dimensions', `${d.width},${d.height}`]] : [],
    };
  }
}
