/**
 * The H.264 SDP fmtp line (RFC 6184 section 8.1): built from SPS/PPS for DESCRIBE, parsed back for a
 * relay that pulls from another server.
 */
import { Buffer } from 'node:buffer';
import { MediaFormatError } from '../errors.js';
import { NalType } from './annexb.js';

/** profile_idc, constraint flags and level_idc of an SPS as six upper-case hex digits (as ffmpeg and live555 write). */
export function h264ProfileLevelId(sps: Buffer): string {
  if (sps.length < 4 || (sps[0] & 0x1f) !== NalType.SPS) {
    throw new MediaFormatError('profile-level-id needs an SPS NAL unit of at least 4 bytes');
  }
  return sps.toString('hex', 1, 4).toUpperCase();
}

/** `packetization-mode=1;profile-level-id=42C01E;sprop-parameter-sets=<SPS>,<PPS>` (base64). */
export function h264FmtpFromParameterSets(sps: Buffer, pps: Buffer): string {
  const profileLevelId = h264ProfileLevelId(sps);
  if (pps.length < 1 || (pps[0] & 0x1f) !== NalType.PPS) throw new MediaFormatError('not a PPS NAL unit');
  return (
    `packetization-mode=1;profile-level-id=${profileLevelId};` +
    `sprop-parameter-sets=${sps.toString('base64')},${pps.toString('base64')}`
  );
}

export interface H264Fmtp {
  /** 0 when absent (RFC 6184 default). */
  packetizationMode: number;
  /** Upper-cased, or null when absent. */
  profileLevelId: string | null;
  /** Every NAL unit of sprop-parameter-sets, in order. */
  parameterSets: Buffer[];
  /** First SPS / PPS among them, or null. */
  sps: Buffer | null;
  pps: Buffer | null;
  /** All parameters by lower-cased name, values as written. */
  parameters: Map<string, string>;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Parses the parameters of an `a=fmtp:` line for H.264. Accepts the value with or without the
 * leading payload type (`96 packetization-mode=1;...`), spaces around `;`, any parameter order.
 */
export function parseH264Fmtp(fmtp: string): H264Fmtp {
  const parameters = new Map<string, string>();
  const body = fmtp.trim().replace(/^\d+\s+/, '');
  for (const part of body.split(';')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq < 0) parameters.set(item.toLowerCase(), '');
    else parameters.set(item.slice(0, eq).trim().toLowerCase(), item.slice(eq + 1).trim());
  }

  let packetizationMode = 0;
  const mode = parameters.get('packetization-mode');
  if (mode !== undefined) {
    if (!/^[0-2]$/.test(mode)) throw new MediaFormatError(`bad packetization-mode "${mode}"`);
    packetizationMode = Number(mode);
  }

  let profileLevelId: string | null = null;
  const plid = parameters.get('profile-level-id');
  if (plid !== undefined) {
    if (!/^[0-9A-Fa-f]{6}$/.test(plid)) throw new MediaFormatError(`bad profile-level-id "${plid}"`);
    profileLevelId = plid.toUpperCase();
  }

  const parameterSets: Buffer[] = [];
  let sps: Buffer | null = null;
  let pps: Buffer | null = null;
  const sprop = parameters.get('sprop-parameter-sets');
  if (sprop !== undefined && sprop !== '') {
    for (const encoded of sprop.split(',')) {
      const text = encoded.trim();
      if (text === '') continue;
      if (!BASE64.test(text)) throw new MediaFormatError(`sprop-parameter-sets: "${text}" is not base64`);
      const nal = Buffer.from(text, 'base64');
      if (nal.length === 0) throw new MediaFormatError('sprop-parameter-sets: empty NAL unit');
      parameterSets.push(nal);
      const type = nal[0] & 0x1f;
      if (type === NalType.SPS && sps === null) sps = nal;
      else if (type === NalType.PPS && pps === null) pps = nal;
    }
  }
  return { packetizationMode, profileLevelId, parameterSets, sps, pps, parameters };
}
