/**
 * User authentication for the dispatcher's `authorize` hook: Basic (RFC 7617) and Digest (RFC 2617
 * MD5 with qop=auth or without qop as in RFC 2069; RFC 7616 SHA-256), per-path read/publish rules,
 * and a throttle on addresses that keep sending wrong credentials.
 *
 * Which challenge real clients pick when several are offered (checked against the clients here):
 *   - ffmpeg/ffprobe (5.1, and the current httpauth.c): every `WWW-Authenticate: Digest` header
 *     replaces the previous one, so it answers the LAST Digest challenge; it computes only MD5 (and
 *     MD5-sess) and sends no Authorization at all when that last challenge says SHA-256.
 *   - GStreamer 1.22 rtspsrc: merges the parameters of every challenge (the last one's win), then
 *     answers with MD5 and without qop (RFC 2069 style) whatever `algorithm` said.
 *   - live555 (VLC, openRTSP) and clients derived from it: keep the last Digest header, read it with
 *     a fixed `Digest realm="%[^"]", nonce="%[^"]"` pattern, answer MD5 without qop.
 *   - RFC 7616 clients and many NVRs: take the first challenge they support.
 * So with the default ['MD5', 'SHA-256'] we send MD5, then SHA-256, then the MD5 challenge again:
 * first-pickers and last-pickers both land on MD5, and a client that prefers SHA-256 finds it.
 * Every challenge in one answer carries the same nonce, and nonces are not tied to an algorithm,
 * so a client that takes the SHA-256 challenge's parameters but computes MD5 (GStreamer, live555)
 * still authenticates — as long as MD5 is one of `digestAlgorithms`.
 *
 * Nonces are stateless: hex(issue time in ms, random, HMAC(secret, time|random|realm|client address)).
 * The server keeps nothing per client; a nonce stops being accepted `nonceTtlSec` after it was
 * issued (an otherwise valid answer with an old or foreign nonce gets 401 with stale=true, and
 * clients retry with the fresh nonce without asking the user). The nonce count (nc) is not
 * tracked, so an Authorization header captured on the wire can be replayed from the same address
 * until its nonce expires: use RTSPS where that matters (and for Basic, which sends the password).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { DigestUriMismatchError, RtspHeaderError } from '../protocol/errors.js';
import {
  type Credentials,
  ha1 as computeHa1,
  type DigestAlgorithm,
  type DigestCredentials,
  digestAlgorithmOf,
  digestResponse,
  formatBasicChallenge,
  formatDigestChallenge,
  parseAuthorization,
} from '../protocol/headers/authorization.js';
import { parseRtspUrl, resolveStreamAndTrack, withoutUserInfo } from '../protocol/url.js';
import type { AuthorizeResult, RequestInfo } from './dispatcher.js';
import { addressToBigInt, isV4 } from './ip-filter.js';

export type { DigestAlgorithm } from '../protocol/headers/authorization.js';

/**
 * A user: a password, or the ha1 hashes of it (then the password itself is never needed). Basic
 * credentials for a user stored only as hashes are checked by hashing the password the client
 * sent. A user with only `ha1Md5` cannot answer a SHA-256 challenge (and the reverse): such answers
 * get a fresh challenge, so give both hashes, or the password, when offering both algorithms.
 */
export interface AuthUser {
  /** No colon or control characters; '*' and 'anonymous' are reserved for rules. */
  name: string;
  password?: string;
  /** H(name:realm:password) with MD5, lower-case hex (see `ha1`); tied to the realm. */
  ha1Md5?: string;
  /** The same with SHA-256. */
  ha1Sha256?: string;
}

/** read: play a path; publish: push to it; api: the HTTP API and web page (see src/http/). */
export type AuthAction = 'read' | 'publish' | 'api';

export interface AuthRule {
  /** '/cam' that path only; '/cam/*' every path below /cam/ (not /cam itself); '*' every path. */
  path: string;
  action: AuthAction;
  /** User names; '*' any authenticated user; 'anonymous' no authentication needed. */
  users: string[];
}

export interface AuthOptions {
  /** Default 'smolrtsp'. Stored ha1 values are computed with it. */
  realm?: string;
  users: AuthUser[];
  /** First rule matching the path and action decides; none matching: 403. Default: any user, every path, both actions. */
  rules?: AuthRule[];
  /** Schemes accepted and offered, in order. Default ['digest']: Basic sends the password in clear. */
  methods?: Array<'digest' | 'basic'>;
  /** Digest algorithms accepted and offered. Default ['MD5', 'SHA-256']. */
  digestAlgorithms?: DigestAlgorithm[];
  /** Seconds a nonce stays usable. Default 60. */
  nonceTtlSec?: number;
  /** Wrong credentials an address may send within the window before its attempts are slowed. Default 5. */
  maxFailures?: number;
  /** Failures are forgotten this long after an address's last one. Default 300. */
  failureWindowSec?: number;
  /** First delay once past maxFailures; doubles with each further failure. Default 1000 ms. */
  failureDelayMs?: number;
  /** Cap of that delay. Default 30000 ms. */
  failureDelayMaxMs?: number;
  /** Addresses remembered in the failure table (least recently failed dropped first). Default 10000. */
  maxTrackedAddresses?: number;
  /** HMAC key for nonces (>= 16 bytes), e.g. shared by instances behind one name. Default: random. */
  secret?: Buffer;
  /** Clock in ms, for tests. Default Date.now. */
  now?: () => number;
}

export interface Authenticator {
  /** `action` overrides the one the method implies (the HTTP server asks for `api` or `read`). */
  authorize(req: RequestInfo, action?: AuthAction): Promise<AuthorizeResult>;
  /** Wrong credentials counted for `address` in the current window (IPv6: its /64). */
  failuresOf(address: string): number;
  /** Forgets the failures of one address, or of all. */
  clearFailures(address?: string): void;
}

/** H(user:realm:password) for storing instead of a password (`ha1Md5` / `ha1Sha256`). */
export function ha1(algorithm: DigestAlgorithm, user: string, realm: string, password: string): string {
  return computeHa1(algorithm, user, realm, password);
}

/** Methods and what they ask for; OPTIONS is never checked (clients probe with it first). */
const METHOD_ACTIONS = new Map<string, AuthAction>([
  ['DESCRIBE', 'read'],
  ['SETUP', 'read'],
  ['PLAY', 'read'],
  ['PAUSE', 'read'],
  ['TEARDOWN', 'read'],
  ['GET_PARAMETER', 'read'],
  ['SET_PARAMETER', 'read'],
  ['ANNOUNCE', 'publish'],
  ['RECORD', 'publish'],
]);

interface StoredUser {
  name: string;
  ha1: Partial<Record<DigestAlgorithm, string>>;
  /** HMAC of the password under a per-authenticator key, for Basic; absent when only hashes were given. */
  passwordMac?: Buffer;
}

interface FailureEntry {
  count: number;
  lastMs: number;
  /** When the next throttled attempt from this address may be answered. */
  nextSlotMs: number;
  /** Short MACs of the user names that failed (at most MAX_NAMES_TRACKED; `manyNames` past that). */
  names: string[];
  manyNames: boolean;
}

type Verdict =
  | { kind: 'ok'; user: string }
  /** Wrong user or password: counted. */
  | { kind: 'wrong'; user: string }
  /** Right answer for a nonce that is expired or not ours. */
  | { kind: 'stale' }
  /** Nothing to check (scheme, algorithm, qop or realm we do not take): a fresh challenge, not counted. */
  | { kind: 'retry' };

/** Issue time (ms, 48 bits), 8 random bytes, 16 bytes of HMAC. */
const NONCE_BODY = 6 + 8;
const NONCE_BYTES = NONCE_BODY + 16;
/** A nonce dated this far in the future still counts (clock stepped back, or another instance's clock). */
const NONCE_SKEW_MS = 2000;
const USER_NAME_FORBIDDEN = /[\x00-\x1f\x7f:]/;
const HEX32 = /^[0-9a-f]{32}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const MAX_NAMES_TRACKED = 4;
/** A digest uri quoted in an error message is cut here: messages end up in logs. */
const MAX_URI_SHOWN = 200;
/** Throttled attempts queued further ahead than this are refused at once, unchecked. */
const MAX_QUEUE_FACTOR = 2;

function defaultRules(): AuthRule[] {
  return [
    { path: '*', action: 'read', users: ['*'] },
    { path: '*', action: 'publish', users: ['*'] },
  ];
}

export function createAuthenticator(options: AuthOptions): Authenticator {
  const realm = options.realm ?? 'smolrtsp';
  if (realm === '' || /[\x00-\x1f\x7f"\\]/.test(realm)) {
    // Quotes and backslashes would need escaping, which the sscanf-style parsers of many clients do not undo.
    throw new TypeError('auth: realm must be non-empty, without quotes, backslashes or control characters');
  }
  const methods = [...new Set(options.methods ?? ['digest'])];
  const algorithms = [...new Set(options.digestAlgorithms ?? (['MD5', 'SHA-256'] as DigestAlgorithm[]))];
  if (methods.length === 0 || methods.some((m) => m !== 'digest' && m !== 'basic')) {
    throw new TypeError("auth: methods must be a non-empty list of 'digest' and 'basic'");
  }
  if (
    methods.includes('digest') &&
    (algorithms.length === 0 || algorithms.some((a) => a !== 'MD5' && a !== 'SHA-256'))
  ) {
    throw new TypeError("auth: digestAlgorithms must be a non-empty list of 'MD5' and 'SHA-256'");
  }
  const nonceTtlMs = positive('nonceTtlSec', options.nonceTtlSec ?? 60) * 1000;
  const maxFailures = positive('maxFailures', options.maxFailures ?? 5);
  const windowMs = positive('failureWindowSec', options.failureWindowSec ?? 300) * 1000;
  const delayMs = nonNegative('failureDelayMs', options.failureDelayMs ?? 1000);
  const delayMaxMs = nonNegative('failureDelayMaxMs', options.failureDelayMaxMs ?? 30_000);
  const maxTracked = positive('maxTrackedAddresses', options.maxTrackedAddresses ?? 10_000);
  const now = options.now ?? Date.now;
  const secret = options.secret ?? randomBytes(32);
  if (secret.length < 16) throw new TypeError('auth: secret must be at least 16 bytes');
  const macKey = randomBytes(32); // for comparing Basic passwords without keeping them

  const users = new Map<string, StoredUser>();
  for (const u of options.users) {
    if (typeof u.name !== 'string' || u.name === '' || USER_NAME_FORBIDDEN.test(u.name)) {
      throw new TypeError('auth: a user name is empty or has a colon or control characters');
    }
    if (u.name === '*' || u.name === 'anonymous')
      throw new TypeError(`auth: '${u.name}' is reserved in rules`);
    if (users.has(u.name)) throw new TypeError(`auth: user '${u.name}' given twice`);
    const stored: StoredUser = { name: u.name, ha1: {} };
    if (u.ha1Md5 !== undefined) {
      if (!HEX32.test(u.ha1Md5.toLowerCase()))
        throw new TypeError(`auth: ha1Md5 of '${u.name}' is not 32 hex digits`);
      stored.ha1.MD5 = u.ha1Md5.toLowerCase();
    }
    if (u.ha1Sha256 !== undefined) {
      if (!HEX64.test(u.ha1Sha256.toLowerCase())) {
        throw new TypeError(`auth: ha1Sha256 of '${u.name}' is not 64 hex digits`);
      }
      stored.ha1['SHA-256'] = u.ha1Sha256.toLowerCase();
    }
    if (u.password !== undefined) {
      stored.ha1.MD5 ??= computeHa1('MD5', u.name, realm, u.password);
      stored.ha1['SHA-256'] ??= computeHa1('SHA-256', u.name, realm, u.password);
      stored.passwordMac = mac(macKey, u.password);
    }
    if (stored.ha1.MD5 === undefined && stored.ha1['SHA-256'] === undefined) {
      throw new TypeError(`auth: user '${u.name}' has neither a password nor a hash`);
    }
    users.set(u.name, stored);
  }
  // Checked in place of an unknown user so that the work (and time) is the same.
  const dummy: StoredUser = {
    name: '',
    ha1: {
      MD5: computeHa1('MD5', '', realm, randomBytes(16).toString('hex')),
      'SHA-256': computeHa1('SHA-256', '', realm, randomBytes(16).toString('hex')),
    },
    passwordMac: mac(macKey, randomBytes(16).toString('hex')),
  };

  const rules = [...(options.rules ?? defaultRules())];
  // Rules written before the HTTP API existed say nothing of it: any user may then use it.
  if (!rules.some((r) => r.action === 'api')) rules.push({ path: '*', action: 'api', users: ['*'] });
  for (const r of rules) {
    if (r.path !== '*' && !r.path.startsWith('/'))
      throw new TypeError(`auth: rule path must be '*' or start with '/'`);
    if (r.action !== 'read' && r.action !== 'publish' && r.action !== 'api')
      throw new TypeError(`auth: rule action must be read, publish or api`);
    if (!Array.isArray(r.users) || r.users.length === 0) throw new TypeError('auth: a rule names no users');
    for (const name of r.users) {
      if (name !== '*' && name !== 'anonymous' && !users.has(name)) {
        throw new TypeError(`auth: rule for '${r.path}' names unknown user '${name}'`);
      }
    }
  }

  // ---- nonces ----

  function nonceMac(body: Buffer, address: string): Buffer {
    return createHmac('sha256', secret)
      .update('smolrtsp nonce v1\0')
      .update(body)
      .update(`\0${realm}\0${address}`)
      .digest()
      .subarray(0, 16);
  }

  function issueNonce(address: string): string {
    const body = Buffer.alloc(NONCE_BODY);
    body.writeUIntBE(Math.max(0, Math.floor(now())), 0, 6);
    randomBytes(8).copy(body, 6);
    return Buffer.concat([body, nonceMac(body, address)]).toString('hex');
  }

  function nonceIsFresh(nonce: string, address: string): boolean {
    if (nonce.length !== NONCE_BYTES * 2 || !/^[0-9a-f]+$/.test(nonce)) return false;
    const raw = Buffer.from(nonce, 'hex');
    const body = raw.subarray(0, NONCE_BODY);
    if (!timingSafeEqual(raw.subarray(NONCE_BODY), nonceMac(body, address))) return false;
    const ageMs = now() - body.readUIntBE(0, 6);
    return ageMs >= -NONCE_SKEW_MS && ageMs <= nonceTtlMs;
  }

  // ---- challenges ----

  function challenge(address: string, stale: boolean): { status: number; headers: Array<[string, string]> } {
    const headers: Array<[string, string]> = [];
    const nonce = methods.includes('digest') ? issueNonce(address) : '';
    for (const method of methods) {
      if (method === 'basic') {
        headers.push(['WWW-Authenticate', formatBasicChallenge(realm)]);
        continue;
      }
      for (const algorithm of algorithms) {
        headers.push(['WWW-Authenticate', formatDigestChallenge({ realm, nonce, algorithm, stale })]);
      }
      // ffmpeg answers the last Digest challenge and knows only MD5: end on MD5 too (see the top).
      if (algorithms.includes('MD5') && algorithms[algorithms.length - 1] !== 'MD5') {
        headers.push(['WWW-Authenticate', formatDigestChallenge({ realm, nonce, algorithm: 'MD5', stale })]);
      }
    }
    return { status: 401, headers };
  }

  // ---- checking credentials ----

  function checkBasic(user: string, password: string): Verdict {
    if (!methods.includes('basic')) return { kind: 'retry' };
    const found = users.get(user);
    const stored = found ?? dummy;
    let match: boolean;
    if (stored.passwordMac) {
      match = timingSafeEqual(mac(macKey, password), stored.passwordMac);
    } else {
      // Only hashes stored: hash what the client sent the same way and compare.
      const algorithm: DigestAlgorithm = stored.ha1.MD5 !== undefined ? 'MD5' : 'SHA-256';
      match = safeEqualHex(computeHa1(algorithm, user, realm, password), stored.ha1[algorithm] ?? '');
    }
    return found && match ? { kind: 'ok', user } : { kind: 'wrong', user };
  }

  function checkDigest(d: DigestCredentials, req: RequestInfo): Verdict {
    if (!methods.includes('digest')) return { kind: 'retry' };
    const algorithm = digestAlgorithmOf(d.algorithm);
    if (algorithm === undefined || !algorithms.includes(algorithm)) return { kind: 'retry' };
    if (d.qop !== undefined && d.qop !== 'auth') return { kind: 'retry' };
    if (d.userhash || d.realm !== realm) return { kind: 'retry' };
    const found = users.get(d.username);
    const storedHa1 = (found ?? dummy).ha1[algorithm];
    // A user stored with only the other algorithm's hash cannot be checked with this one.
    if (storedHa1 === undefined) return { kind: 'retry' };
    const expected = digestResponse({
      algorithm,
      ha1: storedHa1,
      nonce: d.nonce,
      method: req.method,
      uri: d.uri,
      qop: d.qop,
      nc: d.nc,
      cnonce: d.cnonce,
    });
    const match = safeEqualHex(expected, d.response.toLowerCase());
    if (!found || !match) return { kind: 'wrong', user: d.username };
    // The answer is right. It must be for this request's target (RFC 2617 section 3.2.2.5)...
    if (!digestUriMatches(d.uri, req)) {
      const shown = withoutUserInfo(d.uri);
      throw new DigestUriMismatchError(
        `digest uri '${shown.length > MAX_URI_SHOWN ? `${shown.slice(0, MAX_URI_SHOWN)}...` : shown}'` +
          ` names neither the request URL nor the aggregate URL of its stream${req.path ? ` '${req.path}'` : ''}`,
      );
    }
    // ...and for a nonce of ours that is still fresh; otherwise the client just needs a new one.
    if (!nonceIsFresh(d.nonce, req.remoteAddress)) return { kind: 'stale' };
    return { kind: 'ok', user: d.username };
  }

  function check(credentials: Credentials, req: RequestInfo): Verdict {
    if (credentials.scheme === 'basic') return checkBasic(credentials.user, credentials.password);
    if (credentials.scheme === 'digest') return checkDigest(credentials.digest, req);
    return { kind: 'retry' };
  }

  // ---- rules ----

  function findRule(path: string | undefined, action: AuthAction): AuthRule | undefined {
    for (const r of rules) {
      if (r.action !== action) continue;
      if (r.path === '*') return r;
      if (path === undefined) continue;
      if (r.path.endsWith('/*')) {
        if (path.startsWith(r.path.slice(0, -1))) return r;
      } else if (stripSlash(r.path) === path) {
        return r;
      }
    }
    return undefined;
  }

  // ---- failures and throttling ----

  const failures = new Map<string, FailureEntry>();

  function liveEntry(key: string, t: number): FailureEntry | undefined {
    const e = failures.get(key);
    if (e && t - e.lastMs > windowMs) {
      failures.delete(key);
      return undefined;
    }
    return e;
  }

  function nameTag(user: string): string {
    return mac(macKey, user).subarray(0, 8).toString('hex');
  }

  function recordFailure(key: string, user: string): void {
    const t = now();
    const e = liveEntry(key, t) ?? { count: 0, lastMs: t, nextSlotMs: 0, names: [], manyNames: false };
    e.count++;
    e.lastMs = t;
    const tag = nameTag(user);
    if (!e.names.includes(tag)) {
      if (e.names.length < MAX_NAMES_TRACKED) e.names.push(tag);
      else e.manyNames = true;
    }
    failures.delete(key); // re-insert: Map order is least recently failed first
    failures.set(key, e);
    while (failures.size > maxTracked) {
      const oldest = failures.keys().next().value as string;
      failures.delete(oldest);
    }
  }

  /**
   * A success forgives the address's failures only when they were all for that same user (someone
   * who mistyped their password, or a client that retried it): a user who holds one account and
   * guesses at another keeps being slowed down.
   */
  function recordSuccess(key: string, user: string): void {
    const e = failures.get(key);
    if (e && !e.manyNames && e.names.length === 1 && e.names[0] === nameTag(user)) failures.delete(key);
  }

  /** How long to hold an attempt from `key`; Infinity when its queue is already too long. */
  function throttleDelay(key: string): number {
    const t = now();
    const e = liveEntry(key, t);
    if (!e || e.count < maxFailures) return 0;
    const step = Math.min(delayMaxMs, delayMs * 2 ** Math.min(30, e.count - maxFailures));
    // Attempts from one address are answered one at a time, `step` apart, however many
    // connections they come on: parallel guessing gains nothing.
    const start = Math.max(t, e.nextSlotMs);
    if (start + step - t > Math.max(step, delayMaxMs) * MAX_QUEUE_FACTOR) return Number.POSITIVE_INFINITY;
    e.nextSlotMs = start + step;
    return start + step - t;
  }

  return {
    async authorize(req: RequestInfo, given?: AuthAction): Promise<AuthorizeResult> {
      if (given === undefined && req.method === 'OPTIONS') return true;
      // A method we do not know asks for the most: publish.
      let action = given ?? METHOD_ACTIONS.get(req.method) ?? 'publish';
      // SETUP of a publisher's track (mode=record) is publishing, not reading.
      if (
        given === undefined &&
        req.method === 'SETUP' &&
        /mode\s*=\s*"?[^;,]*record/i.test(req.headers.get('transport') ?? '')
      )
        action = 'publish';
      const rule = findRule(req.path, action);
      if (!rule) return false;
      if (rule.users.includes('anonymous')) return true;
      const address = req.remoteAddress;
      const values = req.headers.getAll('authorization');
      if (values.length === 0)
        return {
          ...challenge(address, false),
          reason: 'authentication required',
          code: 'ERR_RTSP_AUTH_REQUIRED',
        };
      if (values.length > 1) throw new RtspHeaderError('Authorization', 'given more than once');

      const key = failureKey(address);
      const wait = throttleDelay(key);
      if (wait === Number.POSITIVE_INFINITY) {
        return {
          ...challenge(address, false),
          reason: 'too many failed logins',
          code: 'ERR_RTSP_AUTH_THROTTLED',
        };
      }
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait).unref());

      const verdict = check(parseAuthorization(values[0]), req);
      switch (verdict.kind) {
        case 'ok':
          recordSuccess(key, verdict.user);
          return rule.users.includes('*') || rule.users.includes(verdict.user);
        case 'wrong':
          recordFailure(key, verdict.user);
          return {
            ...challenge(address, false),
            reason: 'authentication failed',
            code: 'ERR_RTSP_AUTH_FAILED',
            user: verdict.user,
          };
        case 'stale':
          return { ...challenge(address, true), reason: 'nonce expired', code: 'ERR_RTSP_AUTH_STALE' };
        case 'retry':
          // A scheme, algorithm or realm we do not take: nothing was checked, so not a failed login.
          return {
            ...challenge(address, false),
            reason: 'credentials not usable',
            code: 'ERR_RTSP_AUTH_REQUIRED',
          };
      }
    },
    failuresOf(address: string): number {
      return liveEntry(failureKey(address), now())?.count ?? 0;
    },
    clearFailures(address?: string): void {
      if (address === undefined) failures.clear();
      else failures.delete(failureKey(address));
    },
  };
}

/** IPv4 addresses count alone; IPv6 ones by their /64, since one host usually holds a whole /64. */
export function failureKey(address: string): string {
  const value = addressToBigInt(address);
  if (value === undefined) return address;
  if (isV4(value)) return `v4:${(value & 0xffffffffn).toString(16)}`;
  return `v6:${(value >> 64n).toString(16)}/64`;
}

/**
 * Whether a Digest `uri` names what the request is for: the request URL itself, or the aggregate
 * URL of the stream the request targets. live555 (openRTSP, VLC, many NVRs) puts its base URL, the
 * DESCRIBE answer's Content-Base `rtsp://h/cam/`, in the uri of every request after DESCRIBE, so a
 * SETUP of `rtsp://h/cam/trackID=0` carries uri `rtsp://h/cam/`. Scheme, host, port, user
 * information and a trailing slash are not compared, and a query counts as URL matching reads it
 * (`/cam?ch=1/trackID=0` is track trackID=0 of /cam); another stream, a parent or sibling path, or
 * another track of the same stream is no match.
 */
function digestUriMatches(digestUri: string, req: RequestInfo): boolean {
  if (digestUri === req.uri) return true;
  try {
    const streamPath = req.path;
    if (streamPath === undefined || streamPath === '*') {
      return parseRtspUrl(digestUri).path === parseRtspUrl(req.uri).path;
    }
    // Resolved as if the request's stream were the only one: anything outside it throws (404).
    const onlyThisStream = (path: string) => path === streamPath;
    const named = resolveStreamAndTrack(digestUri, onlyThisStream);
    const requested = resolveStreamAndTrack(req.uri, onlyThisStream);
    return named.control === undefined || named.control === requested.control;
  } catch {
    return false;
  }
}

function stripSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

function mac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}

/** Constant-time comparison of hex strings; different lengths are unequal (compared anyway). */
function safeEqualHex(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  if (a.length !== b.length) {
    timingSafeEqual(a, a);
    return false;
  }
  return timingSafeEqual(a, b);
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`auth: ${name} must be a positive number`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0)
    throw new TypeError(`auth: ${name} must be a non-negative number`);
  return value;
}
