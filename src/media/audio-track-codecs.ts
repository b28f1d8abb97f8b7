/**
 * TrackCodecs for the formats besides H.264: AAC (RFC 3640), Opus (RFC 7587), G.711 (RFC 3551),
 * Motion JPEG (RFC 2435), and a generic one for any format the application packetizes itself.
 *
 *   const stream = server.addStream('/a', { tracks: [new AacTrackCodec({}, rtpRandom)] });
 *   stream.tracks[0].push(adtsBytes, { pts: microseconds });
 *
 * What one push holds: AAC — one or more ADTS frames (or raw AUs with `input: 'raw'`), consecutive;
 * Opus — one Opus packet (an array: consecutive packets); G.711 — any number of samples, cut into
 * `samplesPerPacket` packets; MJPEG — one JPEG; generic — one frame, or ready RTP payloads.
 * Audio batches are always random access points.
 */
import { Buffer } from 'node:buffer';
import { adtsAudioSpecificConfig, isAdts, splitAdts } from '../codecs/aac/adts.js';
import { type AudioSpecificConfig, parseAudioSpecificConfig } from '../codecs/aac/config.js';
import { AacPacketizer } from '../codecs/aac/packetizer.js';
import { aacFmtp } from '../codecs/aac/sdp.js';
import { encodeAlaw, encodeMulaw } from '../codecs/g711/g711.js';
import { type G711Law, G711Packetizer } from '../codecs/g711/packetizer.js';
import { GenericPacketizer } from '../codecs/generic/packetizer.js';
import { MjpegPacketizer } from '../codecs/mjpeg/packetizer.js';
import { OpusPacketizer } from '../codecs/opus/packetizer.js';
import { opusFmtp } from '../codecs/opus/sdp.js';
import { MediaFormatError } from '../protocol/errors.js';
import type { SdpMediaDescription } from '../protocol/sdp.js';
import type { RtpPacketBatch } from '../rtp/batch.js';
import type { TrackCodec } from './track.js';

/** Source of the random SSRC and first sequence number (`rtpRandom` from stream.ts). */
export interface RtpRandomSource {
  uint32(): number;
  uint16(): number;
}

export type { G711Law };

// ---------------------------------------------------------------------------------------------
// AAC

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
  readonly ssrc: number;
  private readonly input: 'adts' | 'raw';
  private readonly mtu: number;
  private readonly initialSequence: number;
  private packetizer: AacPacketizer | undefined;
  private config: Buffer | undefined;
  private info: AudioSpecificConfig | undefined;
  private configFromAdts = false;

  constructor(options: AacTrackOptions, random: RtpRandomSource) {
    this.payloadType = options.payloadType ?? 97;
    this.input = options.input ?? 'adts';
    this.mtu = options.mtu ?? 1400;
    this.ssrc = random.uint32();
    this.initialSequence = random.uint16();
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

  get nextSequence(): number {
    return this.packetizer?.nextSequence ?? this.initialSequence;
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

  packetize(units: Buffer[], rtpTimestamp: number): RtpPacketBatch | null {
    if (units.length === 0) return null;
    if (this.packetizer === undefined) {
      // Units that skipped toUnits may still be ADTS frames.
      if (this.input === 'adts' && isAdts(units[0])) return this.packetize(this.toUnits(units), rtpTimestamp);
      throw new MediaFormatError('AAC track has no AudioSpecificConfig yet');
    }
    return this.packetizer.packetize(units, rtpTimestamp);
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
      payloadType: this.payloadType,
      ssrc: this.ssrc,
      initialSequence: this.initialSequence,
      mtu: this.mtu,
      samplesPerFrame: info.frameLength,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Opus

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
  readonly ssrc: number;
  readonly channels: 1 | 2;
  private readonly packetizer: OpusPacketizer;

  constructor(options: OpusTrackOptions, random: RtpRandomSource) {
    this.payloadType = options.payloadType ?? 111;
    this.channels = options.channels ?? 2;
    if (this.channels !== 1 && this.channels !== 2) {
      throw new MediaFormatError(`Opus over RTP carries 1 or 2 channels, not ${String(this.channels)}`);
    }
    this.ssrc = random.uint32();
    this.packetizer = new OpusPacketizer({
      payloadType: this.payloadType,
      ssrc: this.ssrc,
      initialSequence: random.uint16(),
    });
  }

  get nextSequence(): number {
    return this.packetizer.nextSequence;
  }

  get continuesAt(): number | undefined {
    return this.packetizer.nextTimestamp;
  }

  toUnits(data: Buffer | Buffer[]): Buffer[] {
    return Array.isArray(data) ? data : [data];
  }

  packetize(units: Buffer[], rtpTimestamp: number): RtpPacketBatch | null {
    if (units.length === 0) return null;
    return this.packetizer.packetize(units, rtpTimestamp);
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

// ---------------------------------------------------------------------------------------------
// G.711

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
  readonly ssrc: number;
  private readonly input: 'g711' | 's16le';
  private readonly packetizer: G711Packetizer;

  constructor(options: G711TrackOptions, random: RtpRandomSource) {
    this.ssrc = random.uint32();
    this.packetizer = new G711Packetizer({
      law: options.law,
      payloadType: options.payloadType,
      ssrc: this.ssrc,
      initialSequence: random.uint16(),
      samplesPerPacket: options.samplesPerPacket,
    });
    this.encoding = options.law === 'mulaw' ? 'PCMU' : 'PCMA';
    this.payloadType = this.packetizer.payloadType;
    this.input = options.input ?? 'g711';
  }

  get nextSequence(): number {
    return this.packetizer.nextSequence;
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

  packetize(units: Buffer[], rtpTimestamp: number): RtpPacketBatch | null {
    const samples = units.length === 1 ? units[0] : Buffer.concat(units);
    if (samples.length === 0) return null;
    return this.packetizer.packetize(samples, rtpTimestamp);
  }

  describe(): Omit<SdpMediaDescription, 'control'> {
    return { kind: 'audio', payloadType: this.payloadType, encoding: this.encoding, clockRate: 8000 };
  }
}

// ---------------------------------------------------------------------------------------------
// Motion JPEG

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
  readonly ssrc: number;
  private readonly packetizer: MjpegPacketizer;

  constructor(options: MjpegTrackOptions, random: RtpRandomSource) {
    this.payloadType = options.payloadType ?? 26;
    this.ssrc = random.uint32();
    this.packetizer = new MjpegPacketizer({
      payloadType: this.payloadType,
      ssrc: this.ssrc,
      initialSequence: random.uint16(),
      mtu: options.mtu,
    });
  }

  get nextSequence(): number {
    return this.packetizer.nextSequence;
  }

  /** Picture size of the last frame, once one was pushed. */
  get videoInfo(): { width?: number; height?: number } {
    const d = this.packetizer.dimensions;
    return d ? { width: d.width, height: d.height } : {};
  }

  toUnits(data: Buffer | Buffer[]): Buffer[] {
    return [Array.isArray(data) ? Buffer.concat(data) : data];
  }

  packetize(units: Buffer[], rtpTimestamp: number): RtpPacketBatch | null {
    const jpeg = units.length === 1 ? units[0] : Buffer.concat(units);
    if (jpeg.length === 0) return null;
    return this.packetizer.packetize(jpeg, rtpTimestamp);
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

// ---------------------------------------------------------------------------------------------
// Generic

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
  readonly ssrc: number;
  private readonly options: GenericTrackOptions;
  private readonly packetizer: GenericPacketizer;

  constructor(options: GenericTrackOptions, random: RtpRandomSource) {
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
    this.ssrc = random.uint32();
    this.packetizer = new GenericPacketizer({
      payloadType: options.payloadType,
      ssrc: this.ssrc,
      initialSequence: random.uint16(),
      mtu: options.mtu,
      packetize: options.packetize,
      keyframe: options.keyframe,
    });
  }

  get nextSequence(): number {
    return this.packetizer.nextSequence;
  }

  toUnits(data: Buffer | Buffer[]): Buffer[] {
    return Array.isArray(data) ? data : [data];
  }

  packetize(units: Buffer[], rtpTimestamp: number): RtpPacketBatch | null {
    if (units.length === 0) return null;
    return this.packetizer.packetize(units, rtpTimestamp);
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
