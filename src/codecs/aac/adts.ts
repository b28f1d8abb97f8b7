/**
 * ADTS (ISO/IEC 14496-3 1.A.2, also MPEG-2 AAC 13818-7): the self-framing AAC stream `ffmpeg -f adts`
 * writes. Each frame is a 7-byte header (9 with a CRC) and one raw_data_block, which is what RTP
 * carries as an access unit; the header goes, its fields become the SDP's AudioSpecificConfig.
 */
import type { Buffer } from 'node:buffer';
import { MediaFormatError } from '../errors.js';
import { AAC_SAMPLE_RATES, buildAudioSpecificConfig, channelsForConfiguration } from './config.js';

/** Header length without CRC. */
export const ADTS_HEADER_SIZE = 7;

export interface AdtsHeader {
  /** ID bit: 4 for MPEG-4, 2 for MPEG-2. */
  mpegVersion: 2 | 4;
  /** False when a 16-bit CRC follows the header (protection_absent = 0). */
  protectionAbsent: boolean;
  /** profile_ObjectType + 1: the MPEG-4 audio object type (2 = AAC LC). */
  objectType: number;
  samplingFrequencyIndex: number;
  sampleRate: number;
  /** 0 means a program_config_element in the payload defines the channels. */
  channelConfiguration: number;
  channels: number;
  /** aac_frame_length: the whole frame, header included. */
  frameLength: number;
  /** 7, or 9 with the CRC. */
  headerLength: number;
  bufferFullness: number;
  /** number_of_raw_data_blocks_in_frame + 1. */
  rawDataBlocks: number;
}

export interface AdtsFrame {
  header: AdtsHeader;
  /** The raw_data_block without header or CRC: one AAC access unit. A view of the input. */
  data: Buffer;
  /** Offset of the frame (its header) in the input. */
  offset: number;
}

/** True when `buf` starts with the 12-bit ADTS syncword and layer 0. */
export function isAdts(buf: Uint8Array, offset = 0): boolean {
  return buf.length - offset >= 2 && buf[offset] === 0xff && (buf[offset + 1] & 0xf6) === 0xf0;
}

/** Reads the header at `offset`. Throws MediaFormatError when it is not a usable ADTS header. */
export function parseAdtsHeader(buf: Uint8Array, offset = 0): AdtsHeader {
  if (buf.length - offset < ADTS_HEADER_SIZE) {
    throw new MediaFormatError(`ADTS header truncated at offset ${offset}`);
  }
  if (!isAdts(buf, offset)) throw new MediaFormatError(`no ADTS syncword at offset ${offset}`);
  const b1 = buf[offset + 1];
  const b2 = buf[offset + 2];
  const b3 = buf[offset + 3];
  const protectionAbsent = (b1 & 0x01) === 1;
  const samplingFrequencyIndex = (b2 >>> 2) & 0x0f;
  const sampleRate = AAC_SAMPLE_RATES[samplingFrequencyIndex];
  if (sampleRate === undefined) {
    throw new MediaFormatError(`ADTS: reserved sampling frequency index ${samplingFrequencyIndex}`);
  }
  const channelConfiguration = ((b2 & 0x01) << 2) | (b3 >>> 6);
  const frameLength = ((b3 & 0x03) << 11) | (buf[offset + 4] << 3) | (buf[offset + 5] >>> 5);
  const headerLength = protectionAbsent ? ADTS_HEADER_SIZE : ADTS_HEADER_SIZE + 2;
  const rawDataBlocks = (buf[offset + 6] & 0x03) + 1;
  if (frameLength < headerLength) {
    throw new MediaFormatError(
      `ADTS frame length ${frameLength} shorter than its ${headerLength}-byte header`,
    );
  }
  if (rawDataBlocks > 1) {
    // Their boundaries are only known with a CRC (raw_data_block_position); ffmpeg does not write them.
    throw new MediaFormatError(`ADTS frames with ${rawDataBlocks} raw data blocks are not supported`);
  }
  return {
    mpegVersion: (b1 & 0x08) !== 0 ? 2 : 4,
    protectionAbsent,
    objectType: (b2 >>> 6) + 1,
    samplingFrequencyIndex,
    sampleRate,
    channelConfiguration,
    channels: channelsForConfiguration(channelConfiguration),
    frameLength,
    headerLength,
    bufferFullness: ((buf[offset + 5] & 0x1f) << 6) | (buf[offset + 6] >>> 2),
    rawDataBlocks,
  };
}

/**
 * Splits ADTS bytes into frames, stopping before a frame that is cut off at the end. `rest` is that
 * incomplete tail (empty when the input ends on a frame boundary): prepend it to the next chunk.
 * Throws MediaFormatError when the bytes where a frame should start are not an ADTS header.
 */
export function splitAdts(data: Buffer): { frames: AdtsFrame[]; rest: Buffer } {
  const frames: AdtsFrame[] = [];
  let pos = 0;
  while (pos < data.length) {
    if (data.length - pos < ADTS_HEADER_SIZE) {
      // A cut-off header must at least begin like one.
      const partial = data[pos] === 0xff && (data.length - pos < 2 || isAdts(data, pos));
      if (!partial) throw new MediaFormatError(`no ADTS syncword at offset ${pos}`);
      break;
    }
    const header = parseAdtsHeader(data, pos);
    if (pos + header.frameLength > data.length) break;
    frames.push({
      header,
      data: data.subarray(pos + header.headerLength, pos + header.frameLength),
      offset: pos,
    });
    pos += header.frameLength;
  }
  return { frames, rest: data.subarray(pos) };
}

/** Every frame of a complete ADTS buffer. Throws MediaFormatError when it ends inside a frame. */
export function parseAdts(data: Buffer): AdtsFrame[] {
  const { frames, rest } = splitAdts(data);
  if (rest.length > 0) {
    throw new MediaFormatError(
      `ADTS data ends inside a frame (${rest.length} bytes left at ${frames.length})`,
    );
  }
  return frames;
}

/** The AudioSpecificConfig an ADTS header implies (2 bytes for the sampling rates ADTS can carry). */
export function adtsAudioSpecificConfig(header: AdtsHeader): Buffer {
  if (header.channelConfiguration === 0) {
    throw new MediaFormatError(
      'ADTS channel configuration 0 (layout in a program config element): give the config explicitly',
    );
  }
  return buildAudioSpecificConfig({
    objectType: header.objectType,
    sampleRate: header.sampleRate,
    channelConfiguration: header.channelConfiguration,
  });
}
