/**
 * AAC for a track, as RFC 3640 mpeg4-generic (AAC-hbr). One push holds one or more ADTS frames (or
 * raw AUs with `input: 'raw'`), consecutive. Audio batches are always random access points.
 *
 *   const stream = server.addStream('/a', { tracks: [new AacTrackCodec({})] });
 *   stream.tracks[0].push(adtsBytes, { pts: microseconds });
 */
import { Buffer } from 'node:buffer';
import { adtsAudioSpecificConfig, isAdts, splitAdts } from '../../codecs/aac/adts.js';
import { type AudioSpecificConfig, parseAudioSpecificConfig } from '../../codecs/aac/config.js';
import { AacPacketizer } from '../../codecs/aac/packetizer.js';
import { aacFmtp } from '../../codecs/aac/sdp.js';
import { MediaFormatError } from '../../codecs/errors.js';
import type { SdpMediaDescription } from '../../protocol/sdp.js';
import type { RtpBatchWriter, RtpPacketBatch } from '../../rtp/batch.js';
import type { TrackCodec } from '../track.js';

export interface AacTrackOptions {
  /** Default 97. */
  payloadType?: number;
  /** Largest RTP payload (default 1400); bigger AUs are fragmented. */
  mtu?: number;
  /**
   * AudioSpecificConfig (bytes or hex). Optional with ADTS input: the first header gives it.
   * Required with raw input.
   */
  config?: Buffer | string;
  /** What is pushed: ADTS frames (default) or raw AUs. */
  input?: 'adts' | 'raw';
}

/** AAC as RFC 3640 mpeg4-generic, AAC-hbr. The RTP clock is the (core) sampling rate. */
export class AacTrackCodec implements TrackCodec {
  readonly encoding = 'mpeg4-generic';
  readonly kind = 'audio' as const;
  readonly payloadType: number;
  private readonly input: 'adts' | 'raw';
  private readonly mtu: number;
  private packetizer: AacPacketizer | undefined;
  private config: Buffer | undefined;
  private info: AudioSpecificConfig | undefined;
  private configFromAdts = false;

  constructor(options: AacTrackOptions) {
    this.payloadType = options.payloadType ?? 97;
    this.input = options.input ?? 'adts';
    this.mtu = options.mtu ?? 1400;
    if (options.config !== undefined) {
      const config = typeof options.config === 'string' ? Buffer.from(options.config, 'hex') : options.config;
      this.setConfig(config);
    } else if (this.input === 'raw') {
      throw new MediaFormatError('raw AAC input needs the AudioSpecificConfig (config option)');
    }
  }

  /** The AudioSpecificConfig in use, once known. */
  get audioSpecificConfig(): Buffer | undefined {
    return this.config;
  }

  /** Sampling rate, or 0 until the first ADTS header when no config was given. */
  get clockRate(): number {
    return this.info?.sampleRate ?? 0;
  }

  get channels(): number | undefined {
    return this.info?.channels || undefined;
  }

  get ready(): boolean {
    return this.config !== undefined;
  }

  toUnits(data: Buffer | Buffer[]): Buffer[] {
    if (this.input === 'raw') return Array.isArray(data) ? data : [data];
    const chunks = Array.isArray(data) ? data : [data];
    const aus: Buffer[] = [];
    for (const chunk of chunks) {
      const { frames, rest } = splitAdts(chunk);
      if (rest.length > 0) throw new MediaFormatError(`ADTS push ends inside a frame (${rest.length} bytes)`);
      for (const frame of frames) {
        this.noteConfig(adtsAudioSpecificConfig(frame.header));
        aus.push(frame.data);
      }
    }
    return aus;
  }

  packetize(units: Buffer[], rtpTimestamp: number, writer: RtpBatchWriter): RtpPacketBatch | null {
    if (units.length === 0) return null;
    if (this.packetizer === undefined) {
      // Units that skipped toUnits may still be ADTS frames.
      if (this.input === 'adts' && isAdts(units[0]))
        return this.packetize(this.toUnits(units), rtpTimestamp, writer);
      throw new MediaFormatError('AAC track has no AudioSpecificConfig yet');
    }
    return this.packetizer.packetize(units, rtpTimestamp, writer);
  }

  describe(): Omit<SdpMediaDescription, 'control'> {
    if (this.config === undefined || this.info === undefined) {
      throw new MediaFormatError('AAC track cannot be described before its AudioSpecificConfig is known');
    }
    return {
      kind: 'audio',
      payloadType: this.payloadType,
      encoding: this.encoding,
      clockRate: this.info.sampleRate,
      ...(this.info.channels > 0 ? { channels: this.info.channels } : {}),
      fmtp: aacFmtp(this.config),
    };
  }

  private noteConfig(config: Buffer): void {
    if (this.config === undefined) {
      this.setConfig(config);
      this.configFromAdts = true;
    } else if (this.configFromAdts && !this.config.equals(config)) {
      // Clients were told the first configuration; a given config (e.g. explicit HE-AAC) is kept as is.
      throw new MediaFormatError(
        `ADTS stream changed its configuration (${this.config.toString('hex')} to ${config.toString('hex')})`,
      );
    }
  }

  private setConfig(config: Buffer): void {
    const info = parseAudioSpecificConfig(config);
    this.config = Buffer.from(config);
    this.info = info;
    this.packetizer = new AacPacketizer({
      mtu: this.mtu,
      samplesPerFrame: info.frameLength,
    });
  }
}
