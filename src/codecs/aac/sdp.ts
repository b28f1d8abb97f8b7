/**
 * The fmtp line of RFC 3640 `mpeg4-generic` audio: written for AAC-hbr (section 3.3.6), read in
 * full (every AU-header field of section 3.2.1) so a depacketizer can follow another sender's layout.
 */
import { Buffer } from 'node:buffer';
import { MediaFormatError } from '../errors.js';

/** `streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1210`. */
export function aacFmtp(config: Buffer, profileLevelId = 1): string {
  if (config.length === 0) throw new MediaFormatError('empty AudioSpecificConfig');
  return (
    `streamtype=5;profile-level-id=${profileLevelId};mode=AAC-hbr;sizelength=13;indexlength=3;` +
    `indexdeltalength=3;config=${config.toString('hex')}`
  );
}

/** What RFC 3640 section 4.1 parameters say about the payload layout. Lengths are in bits. */
export interface Mpeg4GenericFmtp {
  /** As written, e.g. 'AAC-hbr'; '' when absent. */
  mode: string;
  streamType: number | null;
  profileLevelId: string | null;
  /** AudioSpecificConfig, or null when absent. */
  config: Buffer | null;
  sizeLength: number;
  indexLength: number;
  indexDeltaLength: number;
  ctsDeltaLength: number;
  dtsDeltaLength: number;
  randomAccessIndication: boolean;
  streamStateIndication: number;
  auxiliaryDataSizeLength: number;
  /** Samples per AU in RTP clock ticks, when given. */
  constantDuration: number | null;
  /** Every parameter by lower-cased name, values as written. */
  parameters: Map<string, string>;
}

/** The AAC-hbr layout: what this server writes. */
export const AAC_HBR_LAYOUT: Readonly<Mpeg4GenericFmtp> = Object.freeze({
  mode: 'AAC-hbr',
  streamType: 5,
  profileLevelId: '1',
  config: null,
  sizeLength: 13,
  indexLength: 3,
  indexDeltaLength: 3,
  ctsDeltaLength: 0,
  dtsDeltaLength: 0,
  randomAccessIndication: false,
  streamStateIndication: 0,
  auxiliaryDataSizeLength: 0,
  constantDuration: null,
  parameters: new Map<string, string>(),
});

/**
 * Parses the parameters of an mpeg4-generic `a=fmtp:` line (with or without the leading payload
 * type; names are case-insensitive as RFC 3640 4.1 says). Throws MediaFormatError on a bad value.
 */
export function parseMpeg4GenericFmtp(fmtp: string): Mpeg4GenericFmtp {
  const parameters = new Map<string, string>();
  const body = fmtp.trim().replace(/^\d+\s+/, '');
  for (const part of body.split(';')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq < 0) parameters.set(item.toLowerCase(), '');
    else parameters.set(item.slice(0, eq).trim().toLowerCase(), item.slice(eq + 1).trim());
  }
  const int = (name: string, fallback: number, max: number): number => {
    const text = parameters.get(name);
    if (text === undefined) return fallback;
    if (!/^\d{1,9}$/.test(text) || Number(text) > max) throw new MediaFormatError(`bad ${name} "${text}"`);
    return Number(text);
  };
  const configText = parameters.get('config');
  let config: Buffer | null = null;
  if (configText !== undefined && configText !== '') {
    if (!/^([0-9A-Fa-f]{2})+$/.test(configText))
      throw new MediaFormatError(`config "${configText}" is not hex`);
    config = Buffer.from(configText, 'hex');
  }
  const streamType = parameters.has('streamtype') ? int('streamtype', 0, 255) : null;
  const constantDuration = parameters.has('constantduration') ? int('constantduration', 0, 0xffffffff) : null;
  return {
    mode: parameters.get('mode') ?? '',
    streamType,
    profileLevelId: parameters.get('profile-level-id') ?? null,
    config,
    // Fields are at most 32 bits wide: the AU-header reader works in 32-bit pieces.
    sizeLength: int('sizelength', 0, 32),
    indexLength: int('indexlength', 0, 32),
    indexDeltaLength: int('indexdeltalength', 0, 32),
    ctsDeltaLength: int('ctsdeltalength', 0, 32),
    dtsDeltaLength: int('dtsdeltalength', 0, 32),
    randomAccessIndication: int('randomaccessindication', 0, 1) === 1,
    streamStateIndication: int('streamstateindication', 0, 32),
    auxiliaryDataSizeLength: int('auxiliarydatasizelength', 0, 32),
    constantDuration,
    parameters,
  };
}
