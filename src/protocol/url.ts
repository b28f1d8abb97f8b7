/**
 * RTSP Request-URI helpers (RFC 2326 section 3.2): parsing `rtsp://user:pw@host:554/live/cam?x=1`
 * and mapping a request path to a stream and a track control (`/live/cam/trackID=1`).
 */
import { RtspError, RtspHeaderError } from './errors.js';

export type RtspScheme = 'rtsp' | 'rtsps' | 'rtspu';

export interface RtspUrl {
  /** 'rtsp' for `*` and bare paths. */
  scheme: RtspScheme;
  /** Host name or address; IPv6 addresses without their brackets. '' for `*` and bare paths. */
  host: string;
  port?: number;
  /**
   * Percent-decoded path starting with '/', without a trailing '/' (root stays '/'); empty and '.'
   * segments are dropped and '..' removes the previous one. `*` for the `*` Request-URI.
   */
  path: string;
  /** Raw query after '?', without the '?' (not decoded); '' when absent. */
  query: string;
  user?: string;
  password?: string;
}

const HEADER = 'Request-URI';
const SCHEMES = new Set<string>(['rtsp', 'rtsps', 'rtspu']);
const REG_NAME = /^[A-Za-z0-9\-._~%!$&'()*+,;=]+$/;
const IPV6 = /^[0-9A-Fa-f:.]+(%25[A-Za-z0-9\-._~]+)?$/;
/** Everything up to the last '@' of the authority (as parseRtspUrl reads it), with the scheme. */
const USER_INFO = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/;

/** Parses an absolute rtsp/rtsps/rtspu URL, `*`, or a bare absolute path. Throws RtspHeaderError on garbage. */
export function parseRtspUrl(uri: string): RtspUrl {
  if (uri === '*') return { scheme: 'rtsp', host: '', path: '*', query: '' };
  if (uri === '' || /[\s\x00-\x1f\x7f]/.test(uri))
    throw new RtspHeaderError(HEADER, 'empty or contains spaces');

  if (uri.startsWith('/')) {
    const { path, query } = splitPathAndQuery(uri);
    return { scheme: 'rtsp', host: '', path: normalisePath(path), query };
  }

  const schemeMatch = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(uri);
  if (!schemeMatch)
    throw new RtspHeaderError(HEADER, `not an absolute RTSP URL or path: '${withoutUserInfo(uri)}'`);
  const scheme = schemeMatch[1].toLowerCase();
  if (!SCHEMES.has(scheme)) throw new RtspHeaderError(HEADER, `unsupported scheme '${scheme}'`);

  const rest = uri.slice(schemeMatch[0].length);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  const { path, query } = splitPathAndQuery(authorityEnd < 0 ? '' : rest.slice(authorityEnd));

  const result: RtspUrl = { scheme: scheme as RtspScheme, host: '', path: normalisePath(path), query };

  // The last '@' ends the userinfo: cameras' passwords often contain an unescaped '@'.
  const at = authority.lastIndexOf('@');
  let hostPort = authority;
  if (at >= 0) {
    const userInfo = authority.slice(0, at);
    hostPort = authority.slice(at + 1);
    const colon = userInfo.indexOf(':');
    result.user = decode(colon < 0 ? userInfo : userInfo.slice(0, colon), true);
    if (colon >= 0) result.password = decode(userInfo.slice(colon + 1), true);
  }

  let portText: string | undefined;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0)
      throw new RtspHeaderError(HEADER, `unterminated IPv6 address in '${withoutUserInfo(uri)}'`);
    result.host = hostPort.slice(1, close);
    if (!IPV6.test(result.host) || !result.host.includes(':')) {
      throw new RtspHeaderError(HEADER, `invalid IPv6 address '${result.host}'`);
    }
    const after = hostPort.slice(close + 1);
    if (after !== '' && !after.startsWith(':'))
      throw new RtspHeaderError(HEADER, `garbage after host in '${withoutUserInfo(uri)}'`);
    if (after !== '') portText = after.slice(1);
  } else {
    const colon = hostPort.indexOf(':');
    result.host = colon < 0 ? hostPort : hostPort.slice(0, colon);
    if (colon >= 0) portText = hostPort.slice(colon + 1);
    if (!REG_NAME.test(result.host)) throw new RtspHeaderError(HEADER, `invalid host '${result.host}'`);
  }
  // An empty port (`rtsp://h:/x`) means the default, as in RFC 3986.
  if (portText !== undefined && portText !== '') {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      throw new RtspHeaderError(HEADER, `invalid port '${portText}'`);
    }
    result.port = Number(portText);
  }
  return result;
}

function splitPathAndQuery(text: string): { path: string; query: string } {
  const hash = text.indexOf('#');
  const withoutFragment = hash < 0 ? text : text.slice(0, hash);
  const question = withoutFragment.indexOf('?');
  if (question < 0) return { path: withoutFragment, query: '' };
  return { path: withoutFragment.slice(0, question), query: withoutFragment.slice(question + 1) };
}

/** The URI for an error message, with any `user:password@` replaced: messages end up in logs. */
export function withoutUserInfo(uri: string): string {
  return uri.replace(USER_INFO, '$1***@');
}

/** The URI with any `user:password@` removed, for echoing it in a response (Content-Base, RTP-Info). */
export function stripUserInfo(uri: string): string {
  return uri.replace(USER_INFO, '$1');
}

/** Percent-decodes; `secret` text (a user name or password) is never quoted in the error. */
function decode(text: string, secret = false): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(text);
  } catch {
    throw new RtspHeaderError(
      HEADER,
      secret ? 'invalid percent-encoding in the user information' : `invalid percent-encoding in '${text}'`,
    );
  }
  if (/[\x00-\x1f\x7f]/.test(decoded)) throw new RtspHeaderError(HEADER, 'encoded control characters');
  return decoded;
}

function normalisePath(rawPath: string): string {
  const segments: string[] = [];
  for (const segment of decode(rawPath).split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  return `/${segments.join('/')}`;
}

export interface StreamTarget {
  /** The longest prefix of the request path that names a stream, e.g. '/live/cam'. */
  streamPath: string;
  /** What follows the stream path, e.g. 'trackID=1'; absent for the aggregate URL. */
  control?: string;
}

/**
 * Maps a Request-URI (absolute URL or bare path, query allowed) to a stream and a track control:
 *   /cam, /cam/, rtsp://h/cam             → { streamPath: '/cam' }
 *   /cam/trackID=1, /live/cam/trackID=0   → control 'trackID=1' / 'trackID=0'
 *   /cam?channel=1                        → { streamPath: '/cam' } (query ignored)
 *   /cam/trackID=0?channel=1              → control 'trackID=0' (RFC 3986 resolution)
 *   /cam?channel=1/trackID=0              → control 'trackID=0' (ffmpeg/live555 concatenation
 *                                           against a Content-Base that carries a query)
 * The stream is the longest path prefix for which `streamExists` is true. Throws RtspError 404
 * when no prefix matches, and RtspHeaderError for an unparseable URI.
 */
export function resolveStreamAndTrack(target: string, streamExists: (path: string) => boolean): StreamTarget {
  const url = parseRtspUrl(target);
  if (url.path !== '*') {
    const segments = url.path === '/' ? [] : url.path.slice(1).split('/');
    for (let n = segments.length; n >= 0; n--) {
      const streamPath = `/${segments.slice(0, n).join('/')}`;
      if (!streamExists(streamPath)) continue;
      if (n < segments.length) return { streamPath, control: segments.slice(n).join('/') };
      const queryControl = controlFromQuery(url.query);
      return queryControl === undefined ? { streamPath } : { streamPath, control: queryControl };
    }
  }
  throw new RtspError(404, 'ERR_RTSP_STREAM_NOT_FOUND', `no stream for '${url.path}'`);
}

/** `channel=1/trackID=0` → 'trackID=0': what a concatenating client appended after the query. */
function controlFromQuery(query: string): string | undefined {
  const slash = query.lastIndexOf('/');
  if (slash < 0) return undefined;
  const control = decode(query.slice(slash + 1));
  return control === '' ? undefined : control;
}
