import { MediaFormatError } from '../codecs/errors.js';
import { splitAnnexB } from '../codecs/h264/annexb.js';
import { AacTrackCodec } from '../media/formats/aac.js';
import { H264TrackCodec } from '../media/formats/h264.js';
import { H265TrackCodec } from '../media/formats/h265.js';
import { OpusTrackCodec } from '../media/formats/opus.js';
import type { TrackCodec } from '../media/track.js';

/**
 * What `mapInputTrack` reads of a demuxed track (mediabunny's `InputTrack` has all of it). Structural on
 * purpose: the package's declarations must not pull in mediabunny's types, which bring the WebCodecs DOM
 * types with them and break consumers that type-check without `skipLibCheck`.
 */
export interface DemuxedTrack {
  getCodec(): Promise<string | null>;
  isVideoTrack(): boolean;
  isAudioTrack(): boolean;
}

/** What video and audio tracks add (mediabunny's `InputVideoTrack` / `InputAudioTrack`). */
interface DemuxedMediaTrack extends DemuxedTrack {
  getDecoderConfig(): Promise<{ description?: AllowSharedBufferSource } | null>;
  getNumberOfChannels?(): Promise<number>;
}

/** A demuxed track made ready for a stream: its codec, and how its packets become units for it. */
export interface MappedTrack {
  kind: 'video' | 'audio';
  /** Codec name as the demuxer reports it (`avc`, `hevc`, `aac`, `opus`, ...). */
  name: string;
  codec: TrackCodec;
  /** Turns one demuxed packet's bytes into the units the codec packetizes. */
  toUnits(data: Uint8Array): Buffer[];
}

export interface MediaInputOptions {
  /** Largest RTP payload (default 1400). */
  mtu?: number;
}

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Splits AVCC/HVCC-style length-prefixed NAL units (lengthSize 1, 2 or 4 bytes). */
export function splitLengthPrefixed(data: Buffer, lengthSize: number): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos + lengthSize <= data.length) {
    const len =
      lengthSize === 4 ? data.readUInt32BE(pos) : lengthSize === 2 ? data.readUInt16BE(pos) : data[pos];
    pos += lengthSize;
    if (len === 0 || pos + len > data.length)
      throw new MediaFormatError('length-prefixed NAL unit overruns its packet');
    out.push(data.subarray(pos, pos + len));
    pos += len;
  }
  return out;
}

/** Reads an AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3): NAL length size, SPS and PPS. */
export function parseAvcC(record: Buffer): { lengthSize: number; sps: Buffer[]; pps: Buffer[] } {
  if (record.length < 7 || record[0] !== 1) throw new MediaFormatError('not an avcC record');
  const lengthSize = (record[4] & 3) + 1;
  let pos = 5;
  const take = (count: number): Buffer[] => {
    const list: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      if (pos + 2 > record.length) throw new MediaFormatError('avcC record cut short');
      const len = record.readUInt16BE(pos);
      pos += 2;
      if (pos + len > record.length) throw new MediaFormatError('avcC record cut short');
      list.push(Buffer.from(record.subarray(pos, pos + len)));
      pos += len;
    }
    return list;
  };
  const sps = take(record[pos++] & 0x1f);
  if (pos >= record.length) throw new MediaFormatError('avcC record cut short');
  const pps = take(record[pos++]);
  return { lengthSize, sps, pps };
}

/** Reads an HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 8.3.3): NAL length size and parameter sets. */
export function parseHvcC(record: Buffer): { lengthSize: number; vps?: Buffer; sps?: Buffer; pps?: Buffer } {
  if (record.length < 23 || record[0] !== 1) throw new MediaFormatError('not an hvcC record');
  const lengthSize = (record[21] & 3) + 1;
  const out: { lengthSize: number; vps?: Buffer; sps?: Buffer; pps?: Buffer } = { lengthSize };
  let pos = 23;
  for (let a = record[22]; a > 0; a--) {
    if (pos + 3 > record.length) throw new MediaFormatError('hvcC record cut short');
    const type = record[pos] & 0x3f;
    let count = record.readUInt16BE(pos + 1);
    pos += 3;
    for (; count > 0; count--) {
      if (pos + 2 > record.length) throw new MediaFormatError('hvcC record cut short');
      const len = record.readUInt16BE(pos);
      pos += 2;
      if (pos + len > record.length) throw new MediaFormatError('hvcC record cut short');
      const nal = Buffer.from(record.subarray(pos, pos + len));
      pos += len;
      if (type === 32) out.vps ??= nal;
      else if (type === 33) out.sps ??= nal;
      else if (type === 34) out.pps ??= nal;
    }
  }
  return out;
}

/**
 * Maps a demuxed track (MP4 file, MPEG-TS from ffmpeg) to a track codec, or undefined when the format
 * has no RTP mapping here. Packets from MP4 carry length-prefixed NAL units and out-of-band parameter
 * sets; from MPEG-TS, Annex-B with in-band ones: both are handled.
 */
export async function mapInputTrack(
  track: DemuxedTrack,
  options: MediaInputOptions = {},
): Promise<MappedTrack | undefined> {
  const name = (await track.getCodec()) ?? 'unknown';
  if (!track.isVideoTrack() && !track.isAudioTrack()) return undefined;
  const media = track as DemuxedMediaTrack;
  const config = await media.getDecoderConfig();
  const description = config?.description ? toBuffer(config.description) : undefined;
  if (track.isVideoTrack() && name === 'avc') {
    if (description) {
      const avcc = parseAvcC(Buffer.from(description));
      const codec = new H264TrackCodec({ mtu: options.mtu, sps: avcc.sps[0], pps: avcc.pps[0] });
      return {
        kind: 'video',
        name,
        codec,
        toUnits: (d) => splitLengthPrefixed(asBuffer(d), avcc.lengthSize),
      };
    }
    const codec = new H264TrackCodec({ mtu: options.mtu });
    return { kind: 'video', name, codec, toUnits: (d) => splitAnnexB(asBuffer(d)) };
  }
  if (track.isVideoTrack() && name === 'hevc') {
    if (description) {
      const hvcc = parseHvcC(description);
      const codec = new H265TrackCodec({ mtu: options.mtu, vps: hvcc.vps, sps: hvcc.sps, pps: hvcc.pps });
      return {
        kind: 'video',
        name,
        codec,
        toUnits: (d) => splitLengthPrefixed(asBuffer(d), hvcc.lengthSize),
      };
    }
    const codec = new H265TrackCodec({ mtu: options.mtu });
    return { kind: 'video', name, codec, toUnits: (d) => splitAnnexB(asBuffer(d)) };
  }
  if (track.isAudioTrack() && name === 'aac') {
    if (description) {
      // MP4: raw AUs, config out of band.
      const codec = new AacTrackCodec({ mtu: options.mtu, config: Buffer.from(description), input: 'raw' });
      return { kind: 'audio', name, codec, toUnits: (d) => [asBuffer(d)] };
    }
    // MPEG-TS: ADTS frames; the codec strips the headers and learns the config from the first.
    const codec = new AacTrackCodec({ mtu: options.mtu, input: 'adts' });
    return { kind: 'audio', name, codec, toUnits: (d) => codec.toUnits(asBuffer(d)) };
  }
  if (track.isAudioTrack() && name === 'opus') {
    const channels = ((await media.getNumberOfChannels?.()) ?? 1) >= 2 ? 2 : 1;
    const codec = new OpusTrackCodec({ channels });
    return { kind: 'audio', name, codec, toUnits: (d) => [asBuffer(d)] };
  }
  return undefined;
}

type AllowSharedBufferSource = ArrayBuffer | ArrayBufferView;

function toBuffer(source: AllowSharedBufferSource): Buffer {
  return ArrayBuffer.isView(source)
    ? Buffer.from(source.buffer, source.byteOffset, source.byteLength)
    : Buffer.from(source);
}
