/**
 * MPEG-4 AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1): the `config=` of an RFC 3640 fmtp line.
 * Only the leading fields matter for RTP: object type, sampling rate, channel configuration and
 * (for GA object types) the frame length flag.
 */
import { Buffer } from 'node:buffer';
import { MediaFormatError } from '../errors.js';

/** samplingFrequencyIndex 0..12 (13, 14 reserved; 15 = explicit 24-bit frequency). */
export const AAC_SAMPLE_RATES: readonly number[] = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/** Channels of channelConfiguration 1..7 (0 = defined by a program_config_element in the stream). */
const CHANNELS_BY_CONFIGURATION = [0, 1, 2, 3, 4, 5, 6, 8];

/** Object types whose GASpecificConfig starts with frameLengthFlag (960 vs 1024 samples). */
const GA_OBJECT_TYPES = new Set([1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23]);

export interface AudioSpecificConfig {
  /** audioObjectType as written first: 2 = AAC LC, 5 = SBR (HE-AAC), 29 = PS (HE-AACv2), ... */
  objectType: number;
  /** 0..12, or 15 when the frequency is written out. */
  samplingFrequencyIndex: number;
  /** Core sampling rate in Hz. */
  sampleRate: number;
  /** 0..7; 0 means the channel layout is in a program config element. */
  channelConfiguration: number;
  /** Channel count implied by channelConfiguration, or 0 when it is 0. */
  channels: number;
  /** Output rate of explicitly signalled SBR (object type 5 or 29), else undefined. */
  extensionSampleRate?: number;
  /** Samples per access unit at the core rate: 1024, or 960 when frameLengthFlag is set. */
  frameLength: number;
}

/** Index of `rate` in the sampling frequency table, or 15 (explicit) when it is not there. */
export function samplingFrequencyIndex(rate: number): number {
  const index = AAC_SAMPLE_RATES.indexOf(rate);
  return index >= 0 ? index : 15;
}

/** Channel count for a channelConfiguration (0 when the configuration is 0 or unknown). */
export function channelsForConfiguration(channelConfiguration: number): number {
  return CHANNELS_BY_CONFIGURATION[channelConfiguration] ?? 0;
}

/**
 * Writes an AudioSpecificConfig: objectType (5 bits, escaped above 30), samplingFrequencyIndex
 * (4 bits, + 24-bit frequency when 15), channelConfiguration (4 bits), then for GA object types a
 * GASpecificConfig of frameLengthFlag, dependsOnCoreCoder and extensionFlag all 0 — what ADTS
 * streams carry. 44.1 kHz stereo AAC LC gives 12 10.
 */
export function buildAudioSpecificConfig(options: {
  objectType: number;
  sampleRate: number;
  channelConfiguration: number;
}): Buffer {
  const { objectType, sampleRate, channelConfiguration } = options;
  if (!Number.isInteger(objectType) || objectType < 1 || objectType > 95) {
    throw new MediaFormatError(`AAC object type must be 1..95, got ${objectType}`);
  }
  if (!Number.isInteger(sampleRate) || sampleRate < 1 || sampleRate > 0xffffff) {
    throw new MediaFormatError(`AAC sample rate must be 1..16777215 Hz, got ${sampleRate}`);
  }
  if (!Number.isInteger(channelConfiguration) || channelConfiguration < 0 || channelConfiguration > 15) {
    throw new MediaFormatError(`AAC channel configuration must be 0..15, got ${channelConfiguration}`);
  }
  const bits: Array<[value: number, width: number]> = [];
  if (objectType > 30) bits.push([31, 5], [objectType - 32, 6]);
  else bits.push([objectType, 5]);
  const index = samplingFrequencyIndex(sampleRate);
  bits.push([index, 4]);
  if (index === 15) bits.push([sampleRate, 24]);
  bits.push([channelConfiguration, 4]);
  if (GA_OBJECT_TYPES.has(objectType)) bits.push([0, 3]);
  return packBits(bits);
}

function packBits(fields: ReadonlyArray<[number, number]>): Buffer {
  let total = 0;
  for (const [, width] of fields) total += width;
  const out = Buffer.alloc(Math.ceil(total / 8));
  let pos = 0;
  for (const [value, width] of fields) {
    for (let b = width - 1; b >= 0; b--) {
      if (Math.floor(value / 2 ** b) % 2 === 1) out[pos >>> 3] |= 0x80 >>> (pos & 7);
      pos++;
    }
  }
  return out;
}

/** Reads an AudioSpecificConfig (as bytes, or hex as in `config=`). Throws MediaFormatError. */
export function parseAudioSpecificConfig(config: Buffer | string): AudioSpecificConfig {
  let data: Buffer;
  if (typeof config === 'string') {
    if (!/^([0-9A-Fa-f]{2})+$/.test(config)) {
      throw new MediaFormatError(`AudioSpecificConfig "${config}" is not hex`);
    }
    data = Buffer.from(config, 'hex');
  } else {
    data = config;
  }
  let pos = 0;
  const read = (width: number): number => {
    if (pos + width > data.length * 8) throw new MediaFormatError('AudioSpecificConfig truncated');
    let value = 0;
    for (let i = 0; i < width; i++, pos++) value = value * 2 + ((data[pos >>> 3] >>> (7 - (pos & 7))) & 1);
    return value;
  };
  const readObjectType = (): number => {
    const type = read(5);
    return type === 31 ? 32 + read(6) : type;
  };
  const readRate = (): [index: number, rate: number] => {
    const index = read(4);
    if (index === 15) return [index, read(24)];
    const rate = AAC_SAMPLE_RATES[index];
    if (rate === undefined) throw new MediaFormatError(`reserved AAC sampling frequency index ${index}`);
    return [index, rate];
  };

  const objectType = readObjectType();
  if (objectType === 0) throw new MediaFormatError('AudioSpecificConfig with object type 0');
  const [index, sampleRate] = readRate();
  if (sampleRate === 0) throw new MediaFormatError('AudioSpecificConfig with a 0 Hz sampling rate');
  const channelConfiguration = read(4);
  let extensionSampleRate: number | undefined;
  // Explicit SBR/PS signalling: the output rate, then the object type of the core coder.
  let coreObjectType = objectType;
  if (objectType === 5 || objectType === 29) {
    extensionSampleRate = readRate()[1];
    coreObjectType = readObjectType();
  }
  let frameLength = 1024;
  if (GA_OBJECT_TYPES.has(coreObjectType) && pos < data.length * 8) frameLength = read(1) === 1 ? 960 : 1024;
  return {
    objectType,
    samplingFrequencyIndex: index,
    sampleRate,
    channelConfiguration,
    channels: channelsForConfiguration(channelConfiguration),
    ...(extensionSampleRate === undefined ? {} : { extensionSampleRate }),
    frameLength,
  };
}
