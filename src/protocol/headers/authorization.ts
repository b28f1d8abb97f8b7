/**
 * `Authorization` credentials (RFC 7235 section 2.1, Basic per RFC 7617, Digest per RFC 2617 / RFC 7616)
 * and the `WWW-Authenticate` challenges we send. Pure: no state, no I/O.
 *
 * Nothing here puts a header's value into an error message: the value holds a password (Basic) or
 * a response hash, and error messages end up in logs.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { RtspHeaderError } from '../errors.js';
import { isToken } from './syntax.js';

const HEADER = 'Authorization';

export type DigestAlgorithm = 'MD5' | 'SHA-256';

/** Digest credentials as the client sent them; parameter names are matched case-insensitively. */
export interface DigestCredentials {
  /** From `username`, or decoded from RFC 8187 `username*`. */
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  /** As sent (`MD5`, `SHA-256`, `MD5-sess`, ...); absent means MD5. */
  algorithm?: string;
  /** Lower-cased; absent for RFC 2069 style answers. When present, `nc` and `cnonce` are too. */
  qop?: string;
  /** 8 hex digits, as sent. */
  nc?: string;
  cnonce?: string;
  opaque?: string;
  /** RFC 7616 `userhash=true`: `username` is H(user:realm). */
  userhash: boolean;
}

export type Credentials =
  | { scheme: 'basic'; user: string; password: string }
  | { scheme: 'digest'; digest: DigestCredentials }
  /** A scheme we do not implement (Bearer, NTLM, ...); the rest of the value is not looked at. */
  | { scheme: 'other'; name: string };

export interface DigestChallenge {
  realm: string;
  nonce: string;
  algorithm: DigestAlgorithm;
  /** Offer `qop="auth"` (default true). */
  qop?: boolean;
  stale?: boolean;
  opaque?: string;
}

const OWS = /[ \t]/;
const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const NC = /^[0-9A-Fa-f]{8}$/;
const CONTROL = /[\x00-\x1f\x7f]/;
const MAX_PARAMS = 32;

function fail(message: string): never {
  throw new RtspHeaderError(HEADER, message);
}

/**
 * Parses an `Authorization` value. Throws RtspHeaderError (400) when it is malformed: bad syntax,
 * a Basic token that is not `user:password` in base64, or Digest without username, realm, nonce,
 * uri or response (or with qop but without nc and cnonce). Unknown schemes are returned as 'other'.
 */
export function parseAuthorization(value: string): Credentials {
  let i = 0;
  while (i < value.length && OWS.test(value[i])) i++;
  const schemeStart = i;
  while (i < value.length && TOKEN_CHAR.test(value[i])) i++;
  const scheme = value.slice(schemeStart, i);
  if (scheme === '') fail('no authentication scheme');
  if (i < value.length && !OWS.test(value[i])) fail('malformed authentication scheme');
  const rest = value.slice(i).replace(/^[ \t]+|[ \t]+$/g, '');
  const lower = scheme.toLowerCase();
  if (lower === 'basic') return parseBasic(rest);
  if (lower === 'digest') return { scheme: 'digest', digest: parseDigest(rest) };
  return { scheme: 'other', name: scheme };
}

function parseBasic(token: string): Credentials {
  if (!BASE64.test(token) || token.length % 4 === 1) {
    fail('Basic credentials are not base64');
  }
  const bytes = Buffer.from(token, 'base64');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = bytes.toString('latin1'); // RFC 7617 leaves the charset open; old clients send Latin-1.
  }
  const colon = text.indexOf(':');
  if (colon < 0) fail('Basic credentials have no user:password separator');
  if (CONTROL.test(text)) fail('Basic credentials contain control characters');
  return { scheme: 'basic', user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** Reads `name=value` pairs separated by commas (RFC 7235 auth-param list). */
export function parseAuthParams(text: string): Map<string, string> {
  const params = new Map<string, string>();
  let i = 0;
  const n = text.length;
  const skipOws = () => {
    while (i < n && OWS.test(text[i])) i++;
  };
  for (;;) {
    while (i < n && (OWS.test(text[i]) || text[i] === ',')) i++;
    if (i >= n) break;
    const nameStart = i;
    while (i < n && TOKEN_CHAR.test(text[i])) i++;
    const name = text.slice(nameStart, i).toLowerCase();
    if (name === '') fail('malformed parameter name');
    skipOws();
    if (text[i] !== '=') fail('parameter without a value');
    i++;
    skipOws();
    let v: string;
    if (text[i] === '"') {
      i++;
      let out = '';
      let closed = false;
      while (i < n) {
        const ch = text[i];
        if (ch === '"') {
          closed = true;
          i++;
          break;
        }
        if (ch === '\\') {
          if (i + 1 >= n) break;
          out += text[i + 1];
          i += 2;
          continue;
        }
        out += ch;
        i++;
      }
      if (!closed) fail('unterminated quoted string');
      v = out;
    } else {
      const valueStart = i;
      while (i < n && TOKEN_CHAR.test(text[i])) i++;
      v = text.slice(valueStart, i);
      if (v === '') fail('parameter without a value');
    }
    if (CONTROL.test(v)) fail('parameter contains control characters');
    if (params.has(name)) fail('repeated parameter');
    if (params.size >= MAX_PARAMS) fail('too many parameters');
    params.set(name, v);
    skipOws();
    if (i < n && text[i] !== ',') fail('garbage after a parameter');
  }
  return params;
}

function parseDigest(text: string): DigestCredentials {
  const p = parseAuthParams(text);
  let username = p.get('username');
  const extended = p.get('username*');
  if (extended !== undefined) {
    if (username !== undefined) fail('both username and username*');
    username = decodeExtValue(extended);
  }
  const realm = p.get('realm');
  const nonce = p.get('nonce');
  const uri = p.get('uri');
  const response = p.get('response');
  if (username === undefined) fail('Digest credentials without username');
  if (realm === undefined) fail('Digest credentials without realm');
  if (nonce === undefined) fail('Digest credentials without nonce');
  if (uri === undefined) fail('Digest credentials without uri');
  if (response === undefined) fail('Digest credentials without response');
  const creds: DigestCredentials = { username, realm, nonce, uri, response, userhash: false };
  const algorithm = p.get('algorithm');
  if (algorithm !== undefined) {
    if (!isToken(algorithm)) fail('malformed algorithm');
    creds.algorithm = algorithm;
  }
  const qop = p.get('qop');
  if (qop !== undefined) {
    const nc = p.get('nc');
    const cnonce = p.get('cnonce');
    if (nc === undefined || cnonce === undefined) fail('Digest qop without nc and cnonce');
    if (!NC.test(nc)) fail('nc is not 8 hex digits');
    creds.qop = qop.toLowerCase();
    creds.nc = nc;
    creds.cnonce = cnonce;
  }
  const opaque = p.get('opaque');
  if (opaque !== undefined) creds.opaque = opaque;
  const userhash = p.get('userhash');
  if (userhash !== undefined) creds.userhash = userhash.toLowerCase() === 'true';
  return creds;
}

/** RFC 8187 ext-value: `UTF-8'lang'percent-encoded`. */
function decodeExtValue(text: string): string {
  const m = /^([A-Za-z0-9!#$%&+\-^_`{}~]+)'[A-Za-z0-9-]*'(.*)$/.exec(text);
  if (m?.[1].toLowerCase() !== 'utf-8') fail('unsupported username* encoding');
  try {
    return decodeURIComponent(m[2]);
  } catch {
    fail('malformed username* encoding');
  }
}

/** Writes `value` as an RFC 7230 quoted-string. */
export function quoteString(value: string): string {
  if (CONTROL.test(value)) throw new TypeError('a challenge parameter contains control characters');
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * `Digest realm="...", nonce="...", [stale=true, ]algorithm=..., qop="auth"`. realm then nonce
 * come first, in that order, with ", " between: live555 and the clients derived from it read the
 * challenge with a fixed `Digest realm="%[^"]", nonce="%[^"]"` pattern.
 */
export function formatDigestChallenge(c: DigestChallenge): string {
  let out = `Digest realm=${quoteString(c.realm)}, nonce=${quoteString(c.nonce)}`;
  if (c.stale) out += ', stale=true';
  out += `, algorithm=${c.algorithm}`;
  if (c.qop ?? true) out += ', qop="auth"';
  if (c.opaque !== undefined) out += `, opaque=${quoteString(c.opaque)}`;
  return out;
}

export function formatBasicChallenge(realm: string): string {
  return `Basic realm=${quoteString(realm)}`;
}

/** Maps an `algorithm` parameter to ours (absent = MD5); undefined for anything else (`-sess`, SHA-512-256). */
export function digestAlgorithmOf(algorithm: string | undefined): DigestAlgorithm | undefined {
  if (algorithm === undefined) return 'MD5';
  const upper = algorithm.toUpperCase();
  if (upper === 'MD5') return 'MD5';
  if (upper === 'SHA-256') return 'SHA-256';
  return undefined;
}

function hashHex(algorithm: DigestAlgorithm, text: string): string {
  return createHash(algorithm === 'MD5' ? 'md5' : 'sha256')
    .update(text, 'utf8')
    .digest('hex');
}

/** H(user:realm:password), the value users can store instead of a password. Lower-case hex. */
export function ha1(algorithm: DigestAlgorithm, user: string, realm: string, password: string): string {
  return hashHex(algorithm, `${user}:${realm}:${password}`);
}

export interface DigestResponseInput {
  algorithm: DigestAlgorithm;
  /** Lower-case hex H(user:realm:password). */
  ha1: string;
  nonce: string;
  method: string;
  /** The `uri` parameter exactly as the client sent it. */
  uri: string;
  /** 'auth' or absent (RFC 2069). */
  qop?: string;
  nc?: string;
  cnonce?: string;
}

/** The `response` a client computes (RFC 2617 section 3.2.2.1, RFC 7616 section 3.4.1), lower-case hex. */
export function digestResponse(input: DigestResponseInput): string {
  const ha2 = hashHex(input.algorithm, `${input.method}:${input.uri}`);
  const middle =
    input.qop === undefined ? input.nonce : `${input.nonce}:${input.nc}:${input.cnonce}:${input.qop}`;
  return hashHex(input.algorithm, `${input.ha1}:${middle}:${ha2}`);
}
