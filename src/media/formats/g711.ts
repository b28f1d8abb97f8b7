/**
 * G.711 for a track (RFC 3551): any number of samples per push, cut into `samplesPerPacket`
 * packets. Audio batches are always random access points.
 */
import { Buffer } from 'node:buffer';
import { MediaFormatError } from '../../codecs/errors.js';
import { encodeAlaw, encodeMulaw } from '../../codecs/g711/g711.js';
import { type G711Law, G711Packetizer } from '../../codecs/g711/packetizer.js';
import type { SdpMediaDescription } from '../../protocol/sdp.js';
import type { RtpBatchWriter, RtpPacketBatch } from '../../rtp/batch.js';
import type { TrackCodec } from '../track.js';

export type { G711Law };

export interface G711TrackOptions {
  law: G711Law;
  /** Default: 0 for µ-law (PCMU), 8 for A-law (PCMA). */
  payloadType?: number;
  /** Samples per RTP packet, default 160 (20 ms). */
  samplesPerPacket?: number;
  /** What is pushed: G.711 bytes (default), or 16-bit little-endian PCM at 8 kHz to encode. */
  input?: 'g711' | 's16le';
}

/** G.711 µ-law (PCMU/8000, PT 0) or A-law (PCMA/8000, PT 8), mono. */
export class G711TrackCodec implements TrackCodec {
  readonly encoding: 'PCMU' | 'PCMA';
  readonly clockRate = 8000;
  readonly kind = 'audio' as const;
  readonly ready = true;
  readonly payloadType: number;
  private readonly input: 'g711' | 's16le';
  private readonly packetizer: G711Packetizer;

  constructor(options: G711TrackOptions) {
    this.packetizer = new G711Packetizer({
      law: options.law,
      samplesPerPacket: options.samplesPerPacket,
    });
    this.encoding = options.law === 'mulaw' ? 'PCMU' : 'PCMA';
    this.payloadType = options.payloadType ?? (options.law === 'mulaw' ? 0 : 8);
    this.input = options.input ?? 'g711';
  }

  get continuesAt(): number | undefined {
    return this.packetizer.nextTimestamp;
  }

  toUnits(data: Buffer | Buffer[]): Buffer[] {
    const chunk = Array.isArray(data) ? Buffer.concat(data) : data;
    if (this.input === 'g711') return [chunk];
    if (chunk.length % 2 !== 0) throw new MediaFormatError('s16le input with an odd number of bytes');
    return [this.encoding === 'PCMU' ? encodeMulaw(chunk) : encodeAlaw(chunk)];
  }

  packetize(units: Buffer[], rtpTimestamp: number, writer: RtpBatchWriter): RtpPacketBatch | null {
    const samples = units.length === 1 ? units[0] : Buffer.concat(units);
    if (samples.length === 0) return null;
    return this.packetizer.packetize(samples, rtpTimestamp, writer);
  }

  describe(): Omit<SdpMediaDescription, 'control'> {
    return { kind: 'audio', payloadType: this.payloadType, encoding: this.encoding, clockRate: 8000 };
  }
}
