/**
 * Opus in SDP (RFC 7587 section 7): the rtpmap is always `opus/48000/2` whatever the channels;
 * `sprop-stereo` says whether the sender may send stereo.
 */
import { MediaFormatError } from '../errors.js';

/** `sprop-stereo=1` for stereo, `sprop-stereo=0` for mono. */
export function opusFmtp(channels: 1 | 2): string {
  if (channels !== 1 && channels !== 2)
    throw new MediaFormatError(`Opus over RTP carries 1 or 2 channels, not ${channels}`);
  return `sprop-stereo=${channels === 2 ? 1 : 0}`;
}

export interface OpusFmtp {
  /** sprop-stereo (the sender's), false when absent (RFC 7587 default). */
  spropStereo: boolean;
  /** stereo (the receiver's preference), false when absent. */
  stereo: boolean;
  maxAverageBitrate: number | null;
  parameters: Map<string, string>;
}

export function parseOpusFmtp(fmtp: string): OpusFmtp {
  const parameters = new Map<string, string>();
  for (const part of fmtp
    .trim()
    .replace(/^\d+\s+/, '')
    .split(';')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq < 0) parameters.set(item.toLowerCase(), '');
    else parameters.set(item.slice(0, eq).trim().toLowerCase(), item.slice(eq + 1).trim());
  }
  const flag = (name: string): boolean => {
    const value = parameters.get(name);
    if (value === undefined) return false;
    if (value !== '0' && value !== '1') throw new MediaFormatError(`bad ${name} "${value}"`);
    return value === '1';
  };
  const bitrate = parameters.get('maxaveragebitrate');
  if (bitrate !== undefined && !/^\d{1,9}$/.test(bitrate)) {
    throw new MediaFormatError(`bad maxaveragebitrate "${bitrate}"`);
  }
  return {
    spropStereo: flag('sprop-stereo'),
    stereo: flag('stereo'),
    maxAverageBitrate: bitrate === undefined ? null : Number(bitrate),
    parameters,
  };
}
