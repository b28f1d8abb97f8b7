/**
 * The Opus packet TOC byte (RFC 6716 section 3.1): enough to know how long a packet lasts, which is
 * how far the RTP timestamp (always 48 kHz, RFC 7587 4.1) moves between consecutive packets.
 */
import { MediaFormatError } from '../errors.js';

/** RTP clock of Opus whatever the coded bandwidth (RFC 7587 section 4.1). */
export const OPUS_CLOCK_RATE = 48000;
/** A packet lasts at most 120 ms (RFC 6716 3.2.5). */
const MAX_PACKET_SAMPLES = 5760;

export interface OpusPacketInfo {
  /** TOC config 0..31. */
  config: number;
  mode: 'silk' | 'hybrid' | 'celt';
  /** The s bit: the packet codes stereo. */
  stereo: boolean;
  frames: number;
  /** Samples per frame at 48 kHz (120 for 2.5 ms up to 2880 for 60 ms). */
  samplesPerFrame: number;
  /** frames x samplesPerFrame: the packet's duration in 48 kHz ticks. */
  samples: number;
}

/** Frame duration of a TOC config in 48 kHz samples. */
export function opusFrameSamples(config: number): number {
  if (config < 12) return [480, 960, 1920, 2880][config & 3]; // SILK: 10, 20, 40, 60 ms
  if (config < 16) return (config & 1) === 0 ? 480 : 960; // Hybrid: 10, 20 ms
  return [120, 240, 480, 960][config & 3]; // CELT: 2.5, 5, 10, 20 ms
}

/**
 * Reads the TOC (and the frame count byte of code 3). Throws MediaFormatError for what RFC 6716
 * 3.4 calls malformed at this level: empty packet, odd code 1 payload, code 3 without count or
 * with 0 frames, more than 120 ms.
 */
export function opusPacketInfo(packet: Uint8Array): OpusPacketInfo {
  if (packet.length < 1) throw new MediaFormatError('empty Opus packet');
  const toc = packet[0];
  const config = toc >>> 3;
  const samplesPerFrame = opusFrameSamples(config);
  let frames: number;
  switch (toc & 3) {
    case 0:
      frames = 1;
      break;
    case 1:
      if ((packet.length - 1) % 2 !== 0)
        throw new MediaFormatError('Opus code 1 packet with odd payload length');
      frames = 2;
      break;
    case 2:
      frames = 2;
      break;
    default:
      if (packet.length < 2) throw new MediaFormatError('Opus code 3 packet without a frame count byte');
      frames = packet[1] & 0x3f;
      if (frames === 0) throw new MediaFormatError('Opus code 3 packet with 0 frames');
  }
  const samples = frames * samplesPerFrame;
  if (samples > MAX_PACKET_SAMPLES) throw new MediaFormatError(`Opus packet of ${samples / 48} ms (max 120)`);
  return {
    config,
    mode: config < 12 ? 'silk' : config < 16 ? 'hybrid' : 'celt',
    stereo: (toc & 0x04) !== 0,
    frames,
    samplesPerFrame,
    samples,
  };
}

/** Duration of a packet in 48 kHz samples. */
export function opusPacketSamples(packet: Uint8Array): number {
  return opusPacketInfo(packet).samples;
}
