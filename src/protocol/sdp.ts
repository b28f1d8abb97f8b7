/**
 * SDP (RFC 4566) as used by RTSP DESCRIBE and ANNOUNCE (RFC 2326 appendix C).
 *
 * The writer produces what live555 and gst-rtsp-server produce for a live stream, which every
 * client (VLC, ffmpeg, GStreamer, NVRs) accepts:
 *
 *   v=0 / o=- <id> <version> IN IP4 <addr> / s=<name> / i=<info> / c=IN IP4 0.0.0.0 / t=0 0
 *   a=tool:... / a=type:broadcast / a=control:* / a=range:npt=now-
 *   m=video 0 RTP/AVP 96 / b=AS:<kbps> / a=rtpmap:96 H264/90000 / a=fmtp:96 ... / a=control:trackID=0
 *
 * Lines are written by hand (sdp-transform's writer orders attributes by its own grammar). The
 * reader uses sdp-transform's parse for the structured lines but keeps fmtp as the raw string:
 * its parseParams would turn `config=1408` into the number 1408.
 */
import { parse as parseSdpText } from 'sdp-transform';
import { RtspError } from './errors.js';

export type SdpAttribute = [name: string, value: string | undefined];

export interface SdpMediaDescription {
  kind: 'video' | 'audio' | 'application' | string;
  /** m= port; 0 (the RTSP convention: transport is negotiated by SETUP) when absent. */
  port?: number;
  payloadType: number;
  /** rtpmap encoding name, e.g. 'H264', 'MPEG4-GENERIC', 'PCMA'. */
  encoding: string;
  clockRate: number;
  channels?: number;
  /** Raw fmtp parameter string, e.g. `packetization-mode=1;profile-level-id=42C01F;...`. */
  fmtp?: string;
  /** a=control value: relative ('trackID=0') or absolute URL; '' when the SDP had none. */
  control: string;
  /** b=AS: in kbit/s. */
  bandwidthKbps?: number;
  /** Other a= lines in order, e.g. ['framerate', '25']; [name, undefined] for flags like `recvonly`. */
  attributes?: SdpAttribute[];
}

export interface SdpSessionDescription {
  sessionName: string;
  origin: {
    /** '-' when absent. */
    username?: string;
    sessionId: string;
    sessionVersion: string;
    /** IP4 or IP6 is inferred from the address. */
    address: string;
  };
  /** Session-level c= address; written as 0.0.0.0 when absent. */
  connectionAddress?: string;
  info?: string;
  tool?: string;
  /** a=type; written as 'broadcast' when absent (as live555 and GStreamer do); '' omits the line. */
  type?: string;
  /** Aggregate control, usually '*'. */
  control?: string;
  /** a=range value, e.g. 'npt=now-' or 'npt=0-'. */
  range?: string;
  /** Other session-level a= lines in order (written after range). */
  attributes?: SdpAttribute[];
  media: SdpMediaDescription[];
}

/** Bad SDP: 400 when parsing what a peer sent, 500 when our own description cannot be written. */
export class SdpError extends RtspError {
  constructor(message: string, status: 400 | 500 = 400) {
    super(status, status === 400 ? 'ERR_SDP_INVALID' : 'ERR_SDP_UNWRITABLE', message);
  }
}

/** RFC 3551 static payload types an SDP may use without an rtpmap line. */
const STATIC_PAYLOAD_TYPES: ReadonlyMap<number, { encoding: string; clockRate: number; channels?: number }> =
  new Map([
    [0, { encoding: 'PCMU', clockRate: 8000, channels: 1 }],
    [3, { encoding: 'GSM', clockRate: 8000, channels: 1 }],
    [4, { encoding: 'G723', clockRate: 8000, channels: 1 }],
    [5, { encoding: 'DVI4', clockRate: 8000, channels: 1 }],
    [6, { encoding: 'DVI4', clockRate: 16000, channels: 1 }],
    [8, { encoding: 'PCMA', clockRate: 8000, channels: 1 }],
    [9, { encoding: 'G722', clockRate: 8000, channels: 1 }],
    [10, { encoding: 'L16', clockRate: 44100, channels: 2 }],
    [11, { encoding: 'L16', clockRate: 44100, channels: 1 }],
    [14, { encoding: 'MPA', clockRate: 90000 }],
    [18, { encoding: 'G729', clockRate: 8000, channels: 1 }],
    [26, { encoding: 'JPEG', clockRate: 90000 }],
    [31, { encoding: 'H261', clockRate: 90000 }],
    [32, { encoding: 'MPV', clockRate: 90000 }],
    [33, { encoding: 'MP2T', clockRate: 90000 }],
    [34, { encoding: 'H263', clockRate: 90000 }],
  ]);

// ---------------------------------------------------------------------------------------------
// Writer

/** Writes the description with CRLF line endings (RFC 4566 section 5). */
export function writeSdp(desc: SdpSessionDescription): string {
  const lines: string[] = ['v=0'];
  const origin = desc.origin;
  lines.push(
    `o=${word('origin username', origin.username ?? '-')} ${digits('origin session id', origin.sessionId)} ` +
      `${digits('origin session version', origin.sessionVersion)} IN ${addressType(origin.address)} ` +
      `${word('origin address', origin.address)}`,
  );
  // RFC 4566: "s= " (a single space) when there is no meaningful name.
  lines.push(`s=${desc.sessionName === '' ? ' ' : text('session name', desc.sessionName)}`);
  if (desc.info !== undefined) lines.push(`i=${text('info', desc.info)}`);
  const connection = desc.connectionAddress ?? '0.0.0.0';
  lines.push(`c=IN ${addressType(connection)} ${word('connection address', connection)}`);
  lines.push('t=0 0');
  if (desc.tool !== undefined) lines.push(`a=tool:${text('tool', desc.tool)}`);
  const type = desc.type ?? 'broadcast';
  if (type !== '') lines.push(`a=type:${word('type', type)}`);
  if (desc.control !== undefined) lines.push(`a=control:${word('control', desc.control)}`);
  if (desc.range !== undefined) lines.push(`a=range:${word('range', desc.range)}`);
  for (const attribute of desc.attributes ?? []) lines.push(attributeLine(attribute));

  for (const media of desc.media) writeMedia(lines, media);
  return `${lines.join('\r\n')}\r\n`;
}

function writeMedia(lines: string[], media: SdpMediaDescription): void {
  const pt = integer('payload type', media.payloadType, 0, 127);
  const port = integer('port', media.port ?? 0, 0, 65535);
  if (!/^\w+$/.test(media.kind)) throw new SdpError(`invalid media kind '${media.kind}'`, 500);
  lines.push(`m=${media.kind} ${port} RTP/AVP ${pt}`);
  if (media.bandwidthKbps !== undefined) {
    lines.push(`b=AS:${integer('bandwidth', media.bandwidthKbps, 0, Number.MAX_SAFE_INTEGER)}`);
  }
  if (!/^[A-Za-z0-9\-_.]+$/.test(media.encoding))
    throw new SdpError(`invalid encoding '${media.encoding}'`, 500);
  let rtpmap = `a=rtpmap:${pt} ${media.encoding}/${integer('clock rate', media.clockRate, 1, 0xffffffff)}`;
  if (media.channels !== undefined) rtpmap += `/${integer('channels', media.channels, 1, 255)}`;
  lines.push(rtpmap);
  if (media.fmtp !== undefined && media.fmtp !== '') lines.push(`a=fmtp:${pt} ${text('fmtp', media.fmtp)}`);
  lines.push(`a=control:${word('control', media.control)}`);
  for (const attribute of media.attributes ?? []) lines.push(attributeLine(attribute));
}

function attributeLine([name, value]: SdpAttribute): string {
  if (!/^[A-Za-z0-9\-_.]+$/.test(name)) throw new SdpError(`invalid attribute name '${name}'`, 500);
  return value === undefined ? `a=${name}` : `a=${name}:${text(`attribute ${name}`, value)}`;
}

function addressType(address: string): 'IP4' | 'IP6' {
  return address.includes(':') ? 'IP6' : 'IP4';
}

/** Free text (s=, i=, attribute values): anything but line breaks (including U+2028/9) and NUL. */
function text(what: string, value: string): string {
  if (/[\r\n\0\u2028\u2029]/.test(value)) throw new SdpError(`${what} contains a line break or NUL`, 500);
  return value;
}

/** o= session id and version are numeric strings (RFC 4566 section 5.2), possibly beyond 2^53. */
function digits(what: string, value: string): string {
  if (!/^\d{1,64}$/.test(value)) throw new SdpError(`invalid ${what} '${value}'`, 500);
  return value;
}

/** A field that must not contain spaces (o= sub-fields, control URLs, addresses). */
function word(what: string, value: string): string {
  if (value === '' || /[\s\0]/.test(value)) throw new SdpError(`invalid ${what} '${value}'`, 500);
  return value;
}

function integer(what: string, n: number, min: number, max: number): number {
  if (!Number.isInteger(n) || n < min || n > max) throw new SdpError(`invalid ${what} ${n}`, 500);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Reader

/** Names mapped to dedicated fields, so they are not repeated in `attributes`. */
const SESSION_FIELDS = new Set(['tool', 'type', 'control', 'range']);
const MEDIA_FIELDS = new Set(['rtpmap', 'fmtp', 'control']);

/**
 * Parses an SDP body (DESCRIBE response or ANNOUNCE request). For each m= line the first payload
 * type is the one described (its rtpmap, or the RFC 3551 static mapping, and its fmtp); rtpmap and
 * fmtp lines of further payload types are dropped. Throws SdpError (400) on unusable input.
 */
export function parseSdp(text: string): SdpSessionDescription {
  if (typeof text !== 'string' || !/^\s*v=0\s*$/.test(text.split(/\r\n|\r|\n/, 1)[0])) {
    throw new SdpError('SDP must start with v=0');
  }
  const parsed = parseSdpText(text);
  const attributes = scanAttributes(text);

  const desc: SdpSessionDescription = {
    sessionName: (asString(parsed.name) ?? '').trim(),
    origin: parseOrigin(text),
    media: [],
  };
  const connection = parsed.connection?.ip ?? parsed.media.find((m) => m.connection)?.connection?.ip;
  if (connection !== undefined) desc.connectionAddress = String(connection);
  const info = asString(parsed.description);
  if (info !== undefined) desc.info = info;
  const control = asString(parsed.control);
  if (control !== undefined) desc.control = control;
  for (const [name, value] of attributes.session) {
    if (name === 'tool' && value !== undefined) desc.tool = value;
    else if (name === 'type' && value !== undefined) desc.type = value;
    else if (name === 'range' && value !== undefined) desc.range = value;
  }
  // No (or an empty) a=type stays absent when written back, rather than becoming the writer's default.
  desc.type ??= '';
  const sessionExtra = attributes.session.filter(([name]) => !SESSION_FIELDS.has(name));
  if (sessionExtra.length > 0) desc.attributes = sessionExtra;

  parsed.media.forEach((m, index) => {
    desc.media.push(parseMedia(m, attributes.media[index] ?? []));
  });
  return desc;
}

type ParsedMedia = ReturnType<typeof parseSdpText>['media'][number];

function parseMedia(m: ParsedMedia, rawAttributes: SdpAttribute[]): SdpMediaDescription {
  const payloads = asString(m.payloads);
  if (m.type === undefined || m.port === undefined || payloads === undefined || payloads.trim() === '') {
    throw new SdpError('malformed m= line');
  }
  const ptText = payloads.trim().split(/\s+/)[0];
  if (!/^\d{1,3}$/.test(ptText) || Number(ptText) > 127)
    throw new SdpError(`invalid payload type '${ptText}'`);
  const payloadType = Number(ptText);

  const media: SdpMediaDescription = {
    kind: String(m.type),
    port: Number(m.port),
    payloadType,
    encoding: '',
    clockRate: 0,
    control: asString(m.control) ?? '',
  };
  const rtpmap = m.rtp.find((r) => Number(r.payload) === payloadType);
  if (rtpmap !== undefined) {
    const rate = Number(rtpmap.rate);
    if (!Number.isInteger(rate) || rate <= 0)
      throw new SdpError(`rtpmap for ${payloadType} has no clock rate`);
    media.encoding = String(rtpmap.codec);
    media.clockRate = rate;
    // `H264/90000/` (empty channel field) is treated like no channel field.
    if (rtpmap.encoding !== undefined && String(rtpmap.encoding) !== '') {
      const channels = Number(rtpmap.encoding);
      if (!Number.isInteger(channels) || channels <= 0) {
        throw new SdpError(`rtpmap for ${payloadType} has invalid channels '${rtpmap.encoding}'`);
      }
      media.channels = channels;
    }
  } else {
    const known = STATIC_PAYLOAD_TYPES.get(payloadType);
    if (known === undefined) throw new SdpError(`no rtpmap for payload type ${payloadType}`);
    media.encoding = known.encoding;
    media.clockRate = known.clockRate;
    if (known.channels !== undefined) media.channels = known.channels;
  }
  const fmtp = m.fmtp.find((f) => Number(f.payload) === payloadType);
  // String(): sdp-transform turns an all-digit value into a number; the conversion is lossless.
  if (fmtp !== undefined) media.fmtp = String(fmtp.config).trim();
  const as = m.bandwidth?.find((b) => b.type === 'AS');
  if (as !== undefined && Number.isInteger(Number(as.limit)) && String(as.limit) !== '') {
    media.bandwidthKbps = Number(as.limit);
  }
  const extra = rawAttributes.filter(([name]) => !MEDIA_FIELDS.has(name));
  if (extra.length > 0) media.attributes = extra;
  return media;
}

/**
 * o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>, split by hand: sdp-transform
 * only accepts digit ids and converts ids below 2^53 to numbers, and cameras write odd ids.
 */
function parseOrigin(text: string): SdpSessionDescription['origin'] {
  const line = text.split(/\r\n|\r|\n/).find((l) => l.startsWith('o='));
  const fields = line?.slice(2).trim().split(/\s+/);
  if (fields === undefined || fields.length !== 6) throw new SdpError('missing or malformed o= line');
  const [username, sessionId, sessionVersion, , , address] = fields;
  return username === '-'
    ? { sessionId, sessionVersion, address }
    : { username, sessionId, sessionVersion, address };
}

/** sdp-transform converts digit-only values to numbers; bring them back as the text they were. */
function asString(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return String(value);
}

/** All a= lines by section, verbatim: [session, media0, media1, ...]. */
function scanAttributes(text: string): { session: SdpAttribute[]; media: SdpAttribute[][] } {
  const session: SdpAttribute[] = [];
  const media: SdpAttribute[][] = [];
  let current = session;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line.startsWith('m=')) {
      current = [];
      media.push(current);
    } else if (line.startsWith('a=')) {
      const body = line.slice(2).trimEnd();
      const colon = body.indexOf(':');
      current.push(colon < 0 ? [body, undefined] : [body.slice(0, colon), body.slice(colon + 1)]);
    }
  }
  return { session, media };
}
