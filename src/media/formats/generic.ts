/**
 * A track of any format the application packetizes itself: one frame per push, or ready RTP
 * payloads (one Buffer per packet; an array is one access unit).
 */
import type { Buffer } from 'node:buffer';
import { GenericPacketizer } from '../../codecs/generic/packetizer.js';
import type { SdpMediaDescription } from '../../protocol/sdp.js';
import type { RtpBatchWriter, RtpPacketBatch } from '../../rtp/batch.js';
import type { TrackCodec } from '../track.js';

export interface GenericTrackOptions {
  kind: 'video' | 'audio' | 'application';
  /** rtpmap encoding name, e.g. 'L16', 'VP8', 'x-my-format'. */
  encoding: string;
  clockRate: number;
  channels?: number;
  payloadType: number;
  /** fmtp parameters, written as given. */
  fmtp?: string;
  /** Largest RTP payload passed to `packetize` (default 1400). */
  mtu?: number;
  /** Frame → RTP payloads of one access unit (marker on the last). Without it, pushes are payloads. */
  packetize?: (frame: Buffer, mtu: number) => Buffer[];
  /** Random access point test; default: every access unit is one. */
  keyframe?: (frame: Buffer) => boolean;
  /** Extra a= lines of the media section. */
  attributes?: Array<[string, string | undefined]>;
}

/**
 * Any payload format: the application supplies the rtpmap/fmtp and either a packetize function or
 * ready RTP payloads (one Buffer per packet; an array is one access unit).
 */
export class GenericTrackCodec implements TrackCodec {
  readonly encoding: string;
  readonly clockRate: number;
  readonly kind: 'video' | 'audio' | 'application';
  readonly ready = true;
  readonly payloadType: number;
  private readonly options: GenericTrackOptions;
  private readonly packetizer: GenericPacketizer;

  constructor(options: GenericTrackOptions) {
    if (!['video', 'audio', 'application'].includes(options.kind)) {
      throw new RangeError(`kind must be video, audio or application, got ${String(options.kind)}`);
    }
    if (!/^[A-Za-z0-9\-_.]+$/.test(options.encoding))
      throw new RangeError(`bad encoding name "${options.encoding}"`);
    if (!Number.isInteger(options.clockRate) || options.clockRate <= 0) {
      throw new RangeError(`clockRate must be a positive integer, got ${options.clockRate}`);
    }
    this.options = options;
    this.kind = options.kind;
    this.encoding = options.encoding;
    this.clockRate = options.clockRate;
    this.payloadType = options.payloadType;
    this.packetizer = new GenericPacketizer({
      mtu: options.mtu,
      packetize: options.packetize,
      keyframe: options.keyframe,
    });
  }

  toUnits(data: Buffer | Buffer[]): Buffer[] {
    return Array.isArray(data) ? data : [data];
  }

  packetize(units: Buffer[], rtpTimestamp: number, writer: RtpBatchWriter): RtpPacketBatch | null {
    if (units.length === 0) return null;
    return this.packetizer.packetize(units, rtpTimestamp, writer);
  }

  describe(): Omit<SdpMediaDescription, 'control'> {
    const o = this.options;
    return {
      kind: o.kind,
      payloadType: o.payloadType,
      encoding: o.encoding,
      clockRate: o.clockRate,
      ...(o.channels === undefined ? {} : { channels: o.channels }),
      ...(o.fmtp === undefined ? {} : { fmtp: o.fmtp }),
      attributes: o.attributes ?? [],
    };
  }
}
