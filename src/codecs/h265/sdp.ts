/**
 * The H.265 SDP fmtp line (RFC 7798 section 7.1 and 7.2): built from VPS/SPS/PPS for DESCRIBE,
 * parsed back for a relay that pulls from another server.
 *
 * What is written follows live555 (the most common camera stack): the general profile_tier_level
 * of the SPS as profile-space, profile-id, tier-flag, level-id and interop-constraints, then the
 * parameter sets in base64. ffmpeg and GStreamer only use the sprop-* parameters; the others let a
 * receiver decide whether it can decode before it sees any packet.
 */
import { Buffer } from 'node:buffer';
import { MediaFormatError } from '../errors.js';
import { H265NalType, h265NalType } from './annexb.js';
import { parseH265Sps } from './sps.js';

function expectType(nal: Buffer, type: number, name: string): void {
  const actual = h265NalType(nal);
  if (actual !== type) throw new MediaFormatError(`${name} expected, got NAL unit type ${actual}`);
}

/**
 * `profile-space=0;profile-id=1;tier-flag=0;level-id=93;interop-constraints=B00000000000;
 * sprop-vps=<b64>;sprop-sps=<b64>;sprop-pps=<b64>`. Throws MediaFormatError when the NAL units are
 * not a VPS, an SPS and a PPS, or the SPS cannot be read.
 */
export function h265FmtpFromParameterSets(vps: Buffer, sps: Buffer, pps: Buffer): string {
  expectType(vps, H265NalType.VPS, 'VPS');
  expectType(sps, H265NalType.SPS, 'SPS');
  expectType(pps, H265NalType.PPS, 'PPS');
  const ptl = parseH265Sps(sps).profileTierLevel;
  return (
    `profile-space=${ptl.profileSpace};profile-id=${ptl.profileIdc};tier-flag=${ptl.tierFlag};` +
    `level-id=${ptl.levelIdc};interop-constraints=${ptl.constraintIndicatorFlags.toString('hex').toUpperCase()};` +
    `sprop-vps=${vps.toString('base64')};sprop-sps=${sps.toString('base64')};sprop-pps=${pps.toString('base64')}`
  );
}

export interface H265Fmtp {
  /** profile-space, profile-id, tier-flag, level-id as numbers, or null when absent. */
  profileSpace: number | null;
  profileId: number | null;
  tierFlag: number | null;
  levelId: number | null;
  /** interop-constraints (12 hex digits) and profile-compatibility-indicator (8), upper-cased, or null. */
  interopConstraints: string | null;
  profileCompatibilityIndicator: string | null;
  /** sprop-max-don-diff, 0 when absent: DONL fields are present in the RTP payloads when > 0. */
  maxDonDiff: number;
  /** The NAL units of sprop-vps, sprop-sps, sprop-pps and sprop-sei, in order. */
  vps: Buffer[];
  sps: Buffer[];
  pps: Buffer[];
  sei: Buffer[];
  /** All parameters by lower-cased name, values as written. */
  parameters: Map<string, string>;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function decimal(parameters: Map<string, string>, name: string, max: number): number | null {
  const value = parameters.get(name);
  if (value === undefined) return null;
  if (!/^\d{1,10}$/.test(value) || Number(value) > max) throw new MediaFormatError(`bad ${name} "${value}"`);
  return Number(value);
}

function hexDigits(parameters: Map<string, string>, name: string, digits: number): string | null {
  const value = parameters.get(name);
  if (value === undefined) return null;
  if (value.length !== digits || !/^[0-9A-Fa-f]+$/.test(value)) {
    throw new MediaFormatError(`bad ${name} "${value}"`);
  }
  return value.toUpperCase();
}

function nalList(parameters: Map<string, string>, name: string, types: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  const value = parameters.get(name);
  if (value === undefined || value === '') return out;
  for (const encoded of value.split(',')) {
    const text = encoded.trim();
    if (text === '') continue;
    if (!BASE64.test(text)) throw new MediaFormatError(`${name}: "${text}" is not base64`);
    const nal = Buffer.from(text, 'base64');
    const actual = h265NalType(nal);
    if (actual < 0) throw new MediaFormatError(`${name}: NAL unit of ${nal.length} bytes`);
    if (!types.includes(actual)) throw new MediaFormatError(`${name}: NAL unit of type ${actual}`);
    out.push(nal);
  }
  return out;
}

/**
 * Parses the parameters of an `a=fmtp:` line for H.265. Accepts the value with or without the
 * leading payload type (`96 sprop-vps=...`), spaces around `;` (ffmpeg writes `; `), any order.
 */
export function parseH265Fmtp(fmtp: string): H265Fmtp {
  const parameters = new Map<string, string>();
  const body = fmtp.trim().replace(/^\d+\s+/, '');
  for (const part of body.split(';')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq < 0) parameters.set(item.toLowerCase(), '');
    else parameters.set(item.slice(0, eq).trim().toLowerCase(), item.slice(eq + 1).trim());
  }
  return {
    profileSpace: decimal(parameters, 'profile-space', 3),
    profileId: decimal(parameters, 'profile-id', 31),
    tierFlag: decimal(parameters, 'tier-flag', 1),
    levelId: decimal(parameters, 'level-id', 255),
    interopConstraints: hexDigits(parameters, 'interop-constraints', 12),
    profileCompatibilityIndicator: hexDigits(parameters, 'profile-compatibility-indicator', 8),
    maxDonDiff: decimal(parameters, 'sprop-max-don-diff', 32767) ?? 0,
    vps: nalList(parameters, 'sprop-vps', [H265NalType.VPS]),
    sps: nalList(parameters, 'sprop-sps', [H265NalType.SPS]),
    pps: nalList(parameters, 'sprop-pps', [H265NalType.PPS]),
    sei: nalList(parameters, 'sprop-sei', [H265NalType.PREFIX_SEI, H265NalType.SUFFIX_SEI]),
    parameters,
  };
}
