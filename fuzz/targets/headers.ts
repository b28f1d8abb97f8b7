/**
 * Every header codec (and the URL helpers) on one input: the first byte picks the codec, the rest is
 * the header value (UTF-8, as the parser decodes header blocks).
 *
 * Invariants: each parser throws nothing but RtspError (the codecs' fmtp and parameter set parsers:
 * MediaFormatError too); where a formatter exists, the canonical form is a fixed point: when
 * format(parse(x)) succeeds, parse() accepts it and format(parse(it)) gives it back unchanged.
 */
import type { Buffer } from 'node:buffer';
import { parseAudioSpecificConfig } from '../../src/codecs/aac/config.js';
import { parseMpeg4GenericFmtp } from '../../src/codecs/aac/sdp.js';
import { parseH264Fmtp } from '../../src/codecs/h264/sdp.js';
import { parseSps } from '../../src/codecs/h264/sps.js';
import { parseH265Fmtp } from '../../src/codecs/h265/sdp.js';
import { parseH265Sps } from '../../src/codecs/h265/sps.js';
import { parseOpusFmtp } from '../../src/codecs/opus/sdp.js';
import { parseAuthorization, parseAuthParams } from '../../src/protocol/headers/authorization.js';
import {
  formatContentBase,
  formatOptionTags,
  formatPublic,
  formatRangeHeader,
  formatRtpInfo,
  formatSessionHeader,
  formatTransportHeader,
  joinControlUrl,
  parseCSeq,
  parseOptionTags,
  parsePublic,
  parseRangeHeader,
  parseRtpInfo,
  parseSessionHeader,
  parseTransportHeader,
} from '../../src/protocol/headers/index.js';
import { parseRtspUrl, resolveStreamAndTrack } from '../../src/protocol/url.js';
import { codecTyped, type FuzzTarget, InvariantViolation, typed } from '../engine.js';

/** format∘parse must be idempotent on its own output. */
function fixedPoint<T>(name: string, value: string, parse: (v: string) => T, format: (p: T) => string): void {
  const parsed = typed(() => parse(value));
  if (parsed === undefined) return;
  const canonical = typed(() => format(parsed));
  if (canonical === undefined) return; // accepted but not writable: allowed (we never echo peers' values)
  let reparsed: T;
  try {
    reparsed = parse(canonical);
  } catch (err) {
    throw new InvariantViolation(
      `${name}: own output ${JSON.stringify(canonical)} (from ${JSON.stringify(value)}) rejected: ${String(err)}`,
    );
  }
  const again = typed(() => format(reparsed));
  if (again !== canonical) {
    throw new InvariantViolation(
      `${name}: format(parse()) not stable: ${JSON.stringify(value)} → ${JSON.stringify(canonical)} → ${JSON.stringify(again)}`,
    );
  }
}

const STREAMS = new Set(['/', '/live', '/live/cam', '/cam', '/a b', '/x/y/z']);

const CODECS: ((value: string) => void)[] = [
  (v) =>
    fixedPoint('Transport', v, parseTransportHeader, (specs) => specs.map(formatTransportHeader).join(',')),
  (v) => fixedPoint('Session', v, parseSessionHeader, formatSessionHeader),
  (v) => fixedPoint('Range', v, parseRangeHeader, formatRangeHeader),
  (v) => fixedPoint('RTP-Info', v, parseRtpInfo, formatRtpInfo),
  (v) => typed(() => parseCSeq(v === '' ? undefined : v)),
  (v) =>
    fixedPoint(
      'Require',
      v,
      (x) => parseOptionTags(x),
      (tags) => formatOptionTags(tags, 'Require'),
    ),
  (v) => fixedPoint('Public', v, parsePublic, formatPublic),
  (v) => typed(() => parseRtspUrl(v)),
  (v) => typed(() => resolveStreamAndTrack(v, (path) => STREAMS.has(path))),
  (v) => {
    // Content-Base then a control URL joined to it (the two halves split at the first newline).
    const nl = v.indexOf('\n');
    const base = typed(() => formatContentBase(nl < 0 ? v : v.slice(0, nl)));
    if (base !== undefined) typed(() => joinControlUrl(base, nl < 0 ? '' : v.slice(nl + 1)));
  },
  (v) => {
    const fmtp = codecTyped(() => parseH264Fmtp(v));
    if (fmtp?.sps) {
      const sps = fmtp.sps;
      codecTyped(() => parseSps(sps));
    }
  },
  (v) => {
    typed(() => parseAuthorization(v));
    typed(() => parseAuthParams(v));
  },
  (v) => {
    const fmtp = codecTyped(() => parseMpeg4GenericFmtp(v));
    const config = fmtp?.config;
    if (config) codecTyped(() => parseAudioSpecificConfig(config));
  },
  (v) => {
    const fmtp = codecTyped(() => parseH265Fmtp(v));
    for (const sps of fmtp?.sps ?? []) codecTyped(() => parseH265Sps(sps));
  },
  (v) => codecTyped(() => parseOpusFmtp(v)),
];

export const headersTarget: FuzzTarget = {
  name: 'headers',
  description:
    'header codecs chosen by the first byte: Transport, Session, Range, RTP-Info, CSeq, Require, Public, URL, ' +
    'stream resolution, Content-Base, H.264/mpeg4-generic/H.265/Opus fmtp, Authorization',
  maxLen: 512,
  dictionary: [
    'RTP/AVP',
    'RTP/AVP/TCP',
    'RTP/AVP/UDP',
    'RTP/AVPF',
    'RTP/SAVP',
    'RTP/AVP/SCTP',
    ';unicast',
    ';multicast',
    ';interleaved=0-1',
    ';interleaved=',
    ';client_port=5000-5001',
    ';client_port=',
    ';server_port=',
    ';port=',
    ';ssrc=0A1B2C3D',
    ';ssrc=',
    ';mode="PLAY"',
    ';mode=record',
    ';mode="PLAY,RECORD"',
    ';ttl=',
    ';destination=',
    ';destination',
    ';source=',
    ';append',
    ';layers=',
    ';x-dynamic-rate=1',
    ',',
    ';',
    '=',
    '-',
    ' - ',
    '"',
    ' ',
    'npt=',
    'now',
    'now-',
    'npt=0-',
    'npt=-',
    'clock=',
    'smpte=',
    'smpte-30-drop=',
    'smpte-25=',
    ';time=',
    '19961108T142300Z',
    '19961108T142300.25Z',
    '.',
    ':',
    '00:00:10.5',
    'url=',
    'url=rtsp://h/p/trackID=0',
    ';seq=',
    ';rtptime=',
    ';ssrc=',
    ';timeout=',
    ';timeout=60',
    'rtsp://',
    'rtsps://',
    'rtspu://',
    'http://',
    'rtsp://user:pass@',
    '@',
    '[',
    ']',
    '[::1]',
    '[fe80::1%25eth0]',
    ':554',
    ':0',
    ':65536',
    '%',
    '%25',
    '%2F',
    '%00',
    '%zz',
    '%C3%A9',
    '/..',
    '/./',
    '//',
    '?',
    '#',
    'trackID=0',
    '/trackID=1',
    '*',
    'play.basic',
    'com.example.x',
    'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN',
    'packetization-mode=1',
    ';profile-level-id=42C01E',
    ';sprop-parameter-sets=',
    'Z0LAHtkDxWhAAAADAEAAAAwDxYuS',
    ',aMuMsg==',
    '96 ',
    'Basic ',
    'Digest ',
    'username="admin"',
    ', realm="IP Camera"',
    ', nonce="',
    ', uri="rtsp://h/p"',
    ', response="',
    ', algorithm=MD5',
    ', algorithm=SHA-256',
    ', qop=auth',
    ', nc=00000001',
    ', cnonce="',
    ', opaque="',
    'YWRtaW46cGFzcw==',
    '\\"',
    'streamtype=5;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3',
    ';config=1408',
    ';config=',
    'sprop-vps=',
    ';sprop-sps=QgEBAWAAAAMAkAAAAwAAAwBaoAUCAeFlukpMLwFoCAAAAwAIAAADAMhA',
    ';sprop-pps=',
    ';sprop-max-don-diff=',
    'sprop-stereo=1',
    ';stereo=1',
    ';maxaveragebitrate=',
    '=',
    '==',
    '\n',
    '\t',
    '\r',
    '\x00',
    '\x7f',
    '\xc3\xa9',
    '\xe4\xb8\x80',
  ],
  run(data: Buffer) {
    if (data.length === 0) return;
    CODECS[data[0] % CODECS.length](data.toString('utf8', 1));
  },
};
