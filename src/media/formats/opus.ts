/**
 * Opus for a track (RFC 7587). One push holds one Opus packet (an array: consecutive packets).
 * Audio batches are always random access points.
 */
import { MediaFormatError } from '../../codecs/errors.js';
import { OpusPacketizer } from '../../codecs/opus/packetizer.js';
import { opusFmtp } from '../../codecs/opus/sdp.js';
import type { SdpMediaDescription } from '../../protocol/sdp.js';
import type { RtpBatchWriter, RtpPacketBatch } from '../../rtp/batch.js';
import type { TrackCodec } from '../track.js';

export interface OpusTrackOptions {
  /** Default 111. */
  payloadType?: number;
  /** Channels the source sends (sprop-stereo), default 2. */
  channels?: 1 | 2;
}

/** Opus (RFC 7587): `opus/48000/2` whatever the channel count, one Opus packet per RTP packet. */
export class OpusTrackCodec implements TrackCodec {
  readonly encoding = 'opus';
  readonly clockRate = 48000;
  readonly kind = 'audio' as const;
  readonly ready = true;
  readonly payloadType: number;
  readonly channels: 1 | 2;
  private readonly packetizer: OpusPacketizer;

  constructor(options: OpusTrackOptions) {
    this.payloadType = options.payloadType ?? 111;
    this.channels = options.channels ?? 2;
    if (this.channels !== 1 && this.channels !== 2) {
      throw new MediaFormatError(`Opus over RTP carries 1 or 2 channels, not ${String(this.channels)}`);
    }
    this.packetizer = new OpusPacketizer();
  }

  get continuesAt(): number | undefined {
    return this.packetizer.nextTimestamp;
  }

  toUnits(data: Buffer | Buffer[]): Buffer[] {
    return Array.isArray(data) ? data : [data];
  }

  packetize(units: Buffer[], rtpTimestamp: number, writer: RtpBatchWriter): RtpPacketBatch | null {
    if (units.length === 0) return null;
    return this.packetizer.packetize(units, rtpTimestamp, writer);
  }

  describe(): Omit<SdpMediaDescription, 'control'> {
    return {
      kind: 'audio',
      payloadType: this.payloadType,
      encoding: this.encoding,
      clockRate: 48000,
      channels: 2, // RFC 7587 7: always 2 in the rtpmap
      fmtp: opusFmtp(this.channels),
    };
  }
}
