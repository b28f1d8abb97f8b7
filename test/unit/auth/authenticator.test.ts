import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DigestUriMismatchError, RtspHeaderError } from '../../../src/protocol/errors.js';
import {
  type DigestAlgorithm,
  digestResponse,
  parseAuthParams,
} from '../../../src/protocol/headers/authorization.js';
import { RtspHeaders } from '../../../src/protocol/message.js';
import { type AuthOptions, createAuthenticator, failureKey, ha1 } from '../../../src/server/auth.js';
import type { AuthorizeResult, RequestInfo } from '../../../src/server/dispatcher.js';

const HOST = 'rtsp://127.0.0.1:8554';
const USERS: AuthOptions['users'] = [
  { name: 'alice', password: 'wonder land' },
  { name: 'bob', password: 'b0b:pa"ss' },
];

function request(
  method: string,
  uri: string,
  authorization?: string | string[],
  extra: Partial<RequestInfo> = {},
): RequestInfo {
  const headers = new RtspHeaders([['CSeq', '2']]);
  for (const a of [authorization ?? []].flat()) headers.append('Authorization', a);
  let path: string | undefined;
  if (uri !== '*') {
    path = new URL(uri.startsWith('/') ? `${HOST}${uri}` : uri).pathname.replace(/\/trackID=\d+$/, '');
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  }
  return { method, uri, path, remoteAddress: '10.0.0.1', remotePort: 40000, headers, ...extra };
}

function challengesOf(result: AuthorizeResult): string[] {
  assert.equal(typeof result, 'object', `expected a 401, got ${result}`);
  if (typeof result !== 'object') throw new Error('unreachable');
  assert.equal(result.status, 401);
  return (result.headers ?? []).filter(([n]) => n === 'WWW-Authenticate').map(([, v]) => v);
}

function digestParams(challenge: string): Map<string, string> {
  assert.match(challenge, /^Digest /);
  return parseAuthParams(challenge.slice('Digest '.length));
}

interface AnswerOptions {
  user: string;
  password: string;
  method: string;
  uri: string;
  /** Which challenge to read: the first, the last, or the first offering this algorithm. */
  pick?: 'first' | 'last' | DigestAlgorithm;
  /** Compute with this algorithm whatever the challenge said (GStreamer and live555 always use MD5). */
  compute?: DigestAlgorithm;
  qop?: boolean;
  sendAlgorithm?: boolean;
  nonce?: string;
  realm?: string;
}

/** Plays a Digest client: reads a challenge from a 401 and answers it. */
function answer(result: AuthorizeResult, o: AnswerOptions): string {
  const digest = challengesOf(result).filter((c) => c.startsWith('Digest '));
  const pick = o.pick ?? 'first';
  const chosen =
    pick === 'first'
      ? digest[0]
      : pick === 'last'
        ? digest[digest.length - 1]
        : digest.find((c) => digestParams(c).get('algorithm') === pick);
  assert.ok(chosen, `no ${pick} challenge`);
  const p = digestParams(chosen);
  const algorithm = o.compute ?? (p.get('algorithm') as DigestAlgorithm);
  const realm = o.realm ?? p.get('realm')!;
  const nonce = o.nonce ?? p.get('nonce')!;
  const qop = o.qop ?? true;
  const cnonce = 'c0ffee';
  const nc = '00000001';
  const response = digestResponse({
    algorithm,
    ha1: ha1(algorithm, o.user, realm, o.password),
    nonce,
    method: o.method,
    uri: o.uri,
    ...(qop ? { qop: 'auth', nc, cnonce } : {}),
  });
  let header = `Digest username="${o.user.replace(/["\\]/g, '\\$&')}", realm="${realm}", nonce="${nonce}", uri="${o.uri}", response="${response}"`;
  if (o.sendAlgorithm ?? o.compute === undefined) header += `, algorithm=${algorithm}`;
  if (qop) header += `, qop=auth, nc=${nc}, cnonce="${cnonce}"`;
  return header;
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** A clock tests move by hand. */
function clock(start = 1_700_000_000_000) {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}

/** Gets a challenge for `uri`, answers it as `o` says, and returns the verdict. */
async function login(
  auth: ReturnType<typeof createAuthenticator>,
  o: Omit<AnswerOptions, 'method' | 'uri'> & { method?: string; uri?: string },
  extra: Partial<RequestInfo> = {},
) {
  const method = o.method ?? 'DESCRIBE';
  const uri = o.uri ?? `${HOST}/cam`;
  const challenge = await auth.authorize(request(method, uri, undefined, extra));
  return auth.authorize(request(method, uri, answer(challenge, { ...o, method, uri }), extra));
}

describe('authenticator: challenges', () => {
  it('OPTIONS needs no credentials', async () => {
    const auth = createAuthenticator({ users: USERS });
    assert.equal(await auth.authorize(request('OPTIONS', `${HOST}/cam`)), true);
    assert.equal(await auth.authorize(request('OPTIONS', '*')), true);
  });

  it('offers MD5, SHA-256, then MD5 again, all with one nonce, qop=auth', async () => {
    const auth = createAuthenticator({ users: USERS });
    const challenges = challengesOf(await auth.authorize(request('DESCRIBE', `${HOST}/cam`)));
    assert.equal(challenges.length, 3);
    const params = challenges.map(digestParams);
    assert.deepEqual(
      params.map((p) => p.get('algorithm')),
      ['MD5', 'SHA-256', 'MD5'],
    );
    for (const p of params) {
      assert.equal(p.get('realm'), 'smolrtsp');
      assert.equal(p.get('qop'), 'auth');
      assert.equal(p.get('nonce'), params[0].get('nonce'));
      assert.equal(p.get('stale'), undefined);
    }
    assert.equal(challenges[0], challenges[2]);
    // live555's sscanf pattern.
    for (const c of challenges) assert.match(c, /^Digest realm="[^"]+", nonce="[0-9a-f]+"/);
  });

  it('every challenge answer carries a new nonce', async () => {
    const auth = createAuthenticator({ users: USERS });
    const nonces = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const [c] = challengesOf(await auth.authorize(request('DESCRIBE', `${HOST}/cam`)));
      nonces.add(digestParams(c).get('nonce')!);
    }
    assert.equal(nonces.size, 20);
  });

  it('follows digestAlgorithms and methods', async () => {
    const algs = async (o: Partial<AuthOptions>) =>
      challengesOf(
        await createAuthenticator({ users: USERS, ...o }).authorize(request('PLAY', `${HOST}/cam`)),
      ).map((c) => (c.startsWith('Basic') ? c : digestParams(c).get('algorithm')));
    assert.deepEqual(await algs({ digestAlgorithms: ['MD5'] }), ['MD5']);
    assert.deepEqual(await algs({ digestAlgorithms: ['SHA-256'] }), ['SHA-256']);
    assert.deepEqual(await algs({ digestAlgorithms: ['SHA-256', 'MD5'] }), ['SHA-256', 'MD5']);
    assert.deepEqual(await algs({ methods: ['digest', 'basic'] }), [
      'MD5',
      'SHA-256',
      'MD5',
      'Basic realm="smolrtsp"',
    ]);
    assert.deepEqual(await algs({ methods: ['basic'], realm: 'cams' }), ['Basic realm="cams"']);
  });
});

describe('authenticator: Digest', () => {
  const auth = createAuthenticator({ users: USERS });

  for (const [name, o] of [
    ['MD5 with qop=auth (first challenge)', { pick: 'first' }],
    ['MD5 with qop=auth (last challenge, as ffmpeg)', { pick: 'last' }],
    ['SHA-256 with qop=auth', { pick: 'SHA-256' }],
    ['MD5 without qop (RFC 2069, as live555)', { pick: 'first', qop: false, sendAlgorithm: false }],
    ['MD5 computed from the SHA-256 challenge (GStreamer)', { pick: 'SHA-256', compute: 'MD5', qop: false }],
  ] as Array<[string, Partial<AnswerOptions>]>) {
    it(`accepts ${name}`, async () => {
      assert.equal(await login(auth, { user: 'alice', password: 'wonder land', ...o }), true);
      assert.equal(await login(auth, { user: 'bob', password: 'b0b:pa"ss', ...o }), true);
    });
  }

  it('accepts the response in upper-case hex', async () => {
    const uri = `${HOST}/cam`;
    const c = await auth.authorize(request('DESCRIBE', uri));
    const header = answer(c, { user: 'alice', password: 'wonder land', method: 'DESCRIBE', uri }).replace(
      /response="([0-9a-f]+)"/,
      (_, r: string) => `response="${r.toUpperCase()}"`,
    );
    assert.equal(await auth.authorize(request('DESCRIBE', uri, header)), true);
  });

  it('refuses a wrong password, an unknown user, another method, a truncated response', async () => {
    const a = createAuthenticator({ users: USERS });
    assert.equal(challengesOf(await login(a, { user: 'alice', password: 'wonderland' })).length, 3);
    challengesOf(await login(a, { user: 'mallory', password: 'wonder land' }));
    const uri = `${HOST}/cam`;
    const c = await a.authorize(request('DESCRIBE', uri));
    const forSetup = answer(c, { user: 'alice', password: 'wonder land', method: 'SETUP', uri });
    challengesOf(await a.authorize(request('DESCRIBE', uri, forSetup)));
    const truncated = answer(c, { user: 'alice', password: 'wonder land', method: 'DESCRIBE', uri }).replace(
      /response="([0-9a-f]+)"/,
      (_, r: string) => `response="${r.slice(0, 31)}"`,
    );
    challengesOf(await a.authorize(request('DESCRIBE', uri, truncated)));
    assert.equal(a.failuresOf('10.0.0.1'), 4);
    const wrong = await login(a, { user: 'alice', password: 'nope' });
    assert.ok(challengesOf(wrong).every((h) => !h.includes('stale')));
  });

  const uriForms: Array<[string, string, string]> = [
    ['absolute request, bare path in uri', `${HOST}/cam`, '/cam'],
    ['bare request, absolute uri', '/cam', `${HOST}/cam`],
    ['trailing slash in uri', `${HOST}/cam`, `${HOST}/cam/`],
    ['trailing slash in request', `${HOST}/cam/`, `${HOST}/cam`],
    ['other host name and port', `${HOST}/cam`, 'rtsp://camera.local/cam'],
    ['query in the request only', `${HOST}/cam?channel=1`, `${HOST}/cam`],
    ['track URL', `${HOST}/cam/trackID=0`, '/cam/trackID=0'],
    // live555 (openRTSP, VLC) sends its base URL, the Content-Base, as the uri of SETUP and PLAY.
    ['track request, aggregate Content-Base uri (live555)', `${HOST}/cam/trackID=0`, `${HOST}/cam/`],
    ['track request, aggregate uri without slash', `${HOST}/cam/trackID=0`, `${HOST}/cam`],
    ['track request, bare aggregate path', `${HOST}/cam/trackID=0`, '/cam/'],
    [
      'track request, aggregate uri with another host spelling',
      `${HOST}/cam/trackID=0`,
      'rtsp://localhost/cam/',
    ],
    [
      'track request, aggregate uri with user information',
      `${HOST}/cam/trackID=0`,
      'rtsp://a:b@127.0.0.1/cam/',
    ],
    [
      'query-style track request, Content-Base with the query',
      `${HOST}/cam?ch=1/trackID=0`,
      `${HOST}/cam?ch=1/`,
    ],
    ['query-style track request, RFC 3986 track uri', `${HOST}/cam?ch=1/trackID=0`, '/cam/trackID=0?ch=1'],
    ['aggregate request, uri with user information (live555 DESCRIBE)', `${HOST}/cam`, 'rtsp://u:p@h/cam'],
  ];
  for (const [name, requestUri, digestUri] of uriForms) {
    it(`compares uri leniently: ${name}`, async () => {
      const c = await auth.authorize(request('SETUP', requestUri));
      const header = answer(c, { user: 'alice', password: 'wonder land', method: 'SETUP', uri: digestUri });
      assert.equal(await auth.authorize(request('SETUP', requestUri, header)), true);
    });
  }

  for (const [name, requestUri, digestUri] of [
    ['another stream', `${HOST}/cam`, `${HOST}/other`],
    ['another track', `${HOST}/cam/trackID=1`, `${HOST}/cam/trackID=0`],
    ['a prefix of the path', `${HOST}/cam/sub`, `${HOST}/cam`],
    ['garbage', `${HOST}/cam`, 'not a uri'],
    ['a track of another stream', `${HOST}/cam/trackID=0`, `${HOST}/other/trackID=0`],
    ['another stream, given as a Content-Base', `${HOST}/cam/trackID=0`, `${HOST}/other/`],
    ['a parent path of the stream', `${HOST}/cam/trackID=0`, `${HOST}/`],
    ['a parent path, bare', `${HOST}/cam/trackID=0`, '/'],
    ['a sibling stream', `${HOST}/cam/trackID=0`, `${HOST}/cam2/`],
    ['a parent of a nested stream', `${HOST}/live/cam/trackID=0`, `${HOST}/live/`],
    ['another track, query style', `${HOST}/cam?ch=1/trackID=0`, `${HOST}/cam?ch=1/trackID=1`],
    ['a track, for the aggregate', `${HOST}/cam`, `${HOST}/cam/trackID=0`],
    ['another stream, with user information', `${HOST}/cam`, 'rtsp://alice:wonder%20land@h/other/'],
  ]) {
    it(`a right answer for ${name} is 400 Digest URI Mismatch`, async () => {
      const c = await auth.authorize(request('SETUP', requestUri));
      const header = answer(c, { user: 'alice', password: 'wonder land', method: 'SETUP', uri: digestUri });
      await assert.rejects(auth.authorize(request('SETUP', requestUri, header)), (err: unknown) => {
        assert.ok(err instanceof RtspHeaderError);
        assert.ok(err instanceof DigestUriMismatchError);
        assert.equal(err.status, 400);
        assert.equal(err.code, 'ERR_RTSP_DIGEST_URI_MISMATCH');
        assert.equal(err.reasonPhrase, 'Digest URI Mismatch');
        assert.match(err.message, /digest uri/);
        assert.doesNotMatch(err.message, /wonder/);
        return true;
      });
    });
  }

  it('answers schemes, algorithms, qop and realms it does not take with a fresh challenge, uncounted', async () => {
    const a = createAuthenticator({ users: USERS });
    const uri = `${HOST}/cam`;
    const c = await a.authorize(request('DESCRIBE', uri));
    const good = answer(c, { user: 'alice', password: 'wonder land', method: 'DESCRIBE', uri });
    const variants = [
      'Bearer abc',
      basic('alice', 'wonder land'), // Basic is off by default
      good.replace('algorithm=MD5', 'algorithm=MD5-sess'),
      good.replace('qop=auth,', 'qop=auth-int,'),
      good.replace('realm="smolrtsp"', 'realm="other"'),
      `${good}, userhash=true`,
    ];
    for (const v of variants) challengesOf(await a.authorize(request('DESCRIBE', uri, v)));
    // A realm we do not use, answered correctly for it, is still just re-challenged.
    challengesOf(await login(a, { user: 'alice', password: 'wonder land', realm: 'other' }));
    assert.equal(a.failuresOf('10.0.0.1'), 0);
  });

  it('malformed or repeated Authorization is 400', async () => {
    await assert.rejects(
      auth.authorize(request('PLAY', `${HOST}/cam`, 'Digest username="u')),
      RtspHeaderError,
    );
    await assert.rejects(auth.authorize(request('PLAY', `${HOST}/cam`, 'Digest realm="r"')), RtspHeaderError);
    await assert.rejects(
      auth.authorize(request('PLAY', `${HOST}/cam`, [basic('a', 'b'), basic('a', 'b')])),
      RtspHeaderError,
    );
  });

  it('with only SHA-256 configured, MD5 answers are refused', async () => {
    const a = createAuthenticator({ users: USERS, digestAlgorithms: ['SHA-256'] });
    assert.equal(await login(a, { user: 'alice', password: 'wonder land' }), true);
    challengesOf(await login(a, { user: 'alice', password: 'wonder land', compute: 'MD5', qop: false }));
    assert.equal(a.failuresOf('10.0.0.1'), 0);
  });
});

describe('authenticator: nonces', () => {
  it('a nonce works until its TTL, then gets stale=true', async () => {
    const c = clock();
    const auth = createAuthenticator({ users: USERS, nonceTtlSec: 60, now: c.now });
    const uri = `${HOST}/cam`;
    const challenge = await auth.authorize(request('DESCRIBE', uri));
    const reuse = (method: string) =>
      answer(challenge, { user: 'alice', password: 'wonder land', method, uri });
    assert.equal(await auth.authorize(request('DESCRIBE', uri, reuse('DESCRIBE'))), true);
    c.advance(60_000);
    assert.equal(
      await auth.authorize(request('PLAY', uri, reuse('PLAY'))),
      true,
      'still good at exactly the TTL',
    );
    c.advance(1);
    const staleResult = await auth.authorize(request('PLAY', uri, reuse('PLAY')));
    const stale = challengesOf(staleResult);
    assert.equal(stale.length, 3);
    for (const s of stale) assert.equal(digestParams(s).get('stale'), 'true');
    assert.notEqual(
      digestParams(stale[0]).get('nonce'),
      digestParams(challengesOf(challenge)[0]).get('nonce'),
    );
    assert.equal(auth.failuresOf('10.0.0.1'), 0, 'a stale nonce is not a failure');
    // The client retries with the new nonce without asking anyone.
    const retry = answer(staleResult, { user: 'alice', password: 'wonder land', method: 'PLAY', uri });
    assert.equal(await auth.authorize(request('PLAY', uri, retry)), true);
  });

  it('a wrong password with an expired nonce is a plain failure, not stale', async () => {
    const c = clock();
    const auth = createAuthenticator({ users: USERS, nonceTtlSec: 10, now: c.now });
    const uri = `${HOST}/cam`;
    const challenge = await auth.authorize(request('DESCRIBE', uri));
    c.advance(11_000);
    const wrong = answer(challenge, { user: 'alice', password: 'bad', method: 'DESCRIBE', uri });
    const result = challengesOf(await auth.authorize(request('DESCRIBE', uri, wrong)));
    assert.ok(result.every((h) => !h.includes('stale')));
    assert.equal(auth.failuresOf('10.0.0.1'), 1);
  });

  it('a nonce dated in the future (beyond a little skew) is stale', async () => {
    const c = clock();
    const auth = createAuthenticator({ users: USERS, now: c.now });
    const uri = `${HOST}/cam`;
    const challenge = await auth.authorize(request('DESCRIBE', uri));
    c.advance(-1500);
    const ok = answer(challenge, { user: 'alice', password: 'wonder land', method: 'DESCRIBE', uri });
    assert.equal(await auth.authorize(request('DESCRIBE', uri, ok)), true);
    c.advance(-1000);
    assert.ok(challengesOf(await auth.authorize(request('DESCRIBE', uri, ok)))[0].includes('stale=true'));
  });

  it('nonces that are not ours, tampered with, or issued to another address are stale', async () => {
    const auth = createAuthenticator({ users: USERS });
    const uri = `${HOST}/cam`;
    const challenge = await auth.authorize(request('DESCRIBE', uri));
    const nonce = digestParams(challengesOf(challenge)[0]).get('nonce')!;
    const flipped = nonce.slice(0, 5) + (nonce[5] === '0' ? '1' : '0') + nonce.slice(6);
    for (const n of [
      'dcd98b7102dd2f0e8b11d0f600bfb0c093', // RFC 2617's
      flipped,
      nonce.toUpperCase(),
      nonce.slice(0, -2),
      '',
    ]) {
      const header = answer(challenge, {
        user: 'alice',
        password: 'wonder land',
        method: 'DESCRIBE',
        uri,
        nonce: n,
      });
      const result = challengesOf(await auth.authorize(request('DESCRIBE', uri, header)));
      assert.ok(result[0].includes('stale=true'), n);
    }
    const header = answer(challenge, { user: 'alice', password: 'wonder land', method: 'DESCRIBE', uri });
    const elsewhere = await auth.authorize(request('DESCRIBE', uri, header, { remoteAddress: '10.0.0.2' }));
    assert.ok(challengesOf(elsewhere)[0].includes('stale=true'));
    assert.equal(await auth.authorize(request('DESCRIBE', uri, header)), true);
  });

  it('a shared secret lets another instance accept the nonce', async () => {
    const secret = Buffer.alloc(32, 7);
    const a = createAuthenticator({ users: USERS, secret });
    const b = createAuthenticator({ users: USERS, secret });
    const other = createAuthenticator({ users: USERS });
    const uri = `${HOST}/cam`;
    const header = answer(await a.authorize(request('DESCRIBE', uri)), {
      user: 'alice',
      password: 'wonder land',
      method: 'DESCRIBE',
      uri,
    });
    assert.equal(await b.authorize(request('DESCRIBE', uri, header)), true);
    assert.ok(
      challengesOf(await other.authorize(request('DESCRIBE', uri, header)))[0].includes('stale=true'),
    );
  });
});

describe('authenticator: Basic and stored hashes', () => {
  it('Basic, when enabled, checks the password', async () => {
    const auth = createAuthenticator({ users: USERS, methods: ['digest', 'basic'] });
    const uri = `${HOST}/cam`;
    assert.equal(await auth.authorize(request('DESCRIBE', uri, basic('bob', 'b0b:pa"ss'))), true);
    challengesOf(await auth.authorize(request('DESCRIBE', uri, basic('bob', 'b0b:pa"sS'))));
    challengesOf(await auth.authorize(request('DESCRIBE', uri, basic('eve', 'b0b:pa"ss'))));
    assert.equal(auth.failuresOf('10.0.0.1'), 2);
  });

  it('users stored as ha1 hashes log in with Digest and Basic', async () => {
    const realm = 'cams';
    const auth = createAuthenticator({
      realm,
      methods: ['digest', 'basic'],
      users: [
        { name: 'md5only', ha1Md5: ha1('MD5', 'md5only', realm, 'p1') },
        { name: 'shaonly', ha1Sha256: ha1('SHA-256', 'shaonly', realm, 'p2').toUpperCase() },
        {
          name: 'both',
          ha1Md5: ha1('MD5', 'both', realm, 'p3'),
          ha1Sha256: ha1('SHA-256', 'both', realm, 'p3'),
        },
      ],
    });
    const uri = `${HOST}/cam`;
    assert.equal(await login(auth, { user: 'md5only', password: 'p1' }), true);
    assert.equal(await login(auth, { user: 'shaonly', password: 'p2', pick: 'SHA-256' }), true);
    assert.equal(await login(auth, { user: 'both', password: 'p3', pick: 'SHA-256' }), true);
    assert.equal(await login(auth, { user: 'both', password: 'p3' }), true);
    assert.equal(await auth.authorize(request('DESCRIBE', uri, basic('md5only', 'p1'))), true);
    assert.equal(await auth.authorize(request('DESCRIBE', uri, basic('shaonly', 'p2'))), true);
    challengesOf(await auth.authorize(request('DESCRIBE', uri, basic('md5only', 'p2'))));
    assert.equal(auth.failuresOf('10.0.0.1'), 1);
    // No SHA-256 hash stored for md5only: its SHA-256 answer cannot be checked, so it is re-challenged.
    challengesOf(await login(auth, { user: 'md5only', password: 'p1', pick: 'SHA-256' }));
    challengesOf(await login(auth, { user: 'shaonly', password: 'p2', pick: 'first' }));
    assert.equal(auth.failuresOf('10.0.0.1'), 1);
  });

  it('ha1 matches what a client computes', () => {
    assert.equal(
      ha1('MD5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life'),
      '939e7578ed9e3c518a452acee763bce9',
    );
  });
});

describe('authenticator: rules', () => {
  const auth = createAuthenticator({
    users: [
      { name: 'alice', password: 'a' },
      { name: 'bob', password: 'b' },
      { name: 'carol', password: 'c' },
    ],
    rules: [
      { path: '/public', action: 'read', users: ['anonymous'] },
      { path: '/cam/*', action: 'read', users: ['alice'] },
      { path: '/cam', action: 'read', users: ['bob'] },
      { path: '/cam', action: 'publish', users: ['carol'] },
      { path: '*', action: 'read', users: ['*'] },
    ],
  });

  it('anonymous paths need no credentials, even wrong ones', async () => {
    assert.equal(await auth.authorize(request('DESCRIBE', `${HOST}/public`)), true);
    assert.equal(await auth.authorize(request('SETUP', `${HOST}/public/trackID=0`)), true);
    assert.equal(await auth.authorize(request('PLAY', `${HOST}/public`, 'Digest garbage="')), true);
  });

  it('an exact path and a prefix path are different rules', async () => {
    const cases: Array<[string, string, string, boolean]> = [
      ['/cam/front', 'alice', 'a', true],
      ['/cam/front/left', 'alice', 'a', true],
      ['/cam/front', 'bob', 'b', false],
      ['/cam', 'bob', 'b', true],
      ['/cam/', 'bob', 'b', true],
      ['/cam', 'alice', 'a', false],
      ['/camera', 'carol', 'c', true], // not under /cam/: the catch-all rule
      ['/elsewhere', 'alice', 'a', true],
    ];
    for (const [path, user, password, allowed] of cases) {
      const result = await login(auth, { user, password, uri: `${HOST}${path}` });
      assert.equal(result, allowed, `${user} on ${path}`);
    }
  });

  it('no credentials on a protected path is a challenge, not a refusal', async () => {
    challengesOf(await auth.authorize(request('DESCRIBE', `${HOST}/cam`)));
    challengesOf(await auth.authorize(request('DESCRIBE', `${HOST}/cam/x`)));
  });

  it('a method maps to its action; no matching rule is 403', async () => {
    // ANNOUNCE is 'publish': only carol on /cam; no publish rule anywhere else.
    assert.equal(await login(auth, { user: 'carol', password: 'c', method: 'ANNOUNCE' }), true);
    assert.equal(await login(auth, { user: 'bob', password: 'b', method: 'ANNOUNCE' }), false);
    assert.equal(await auth.authorize(request('RECORD', `${HOST}/elsewhere`)), false);
    for (const method of [
      'DESCRIBE',
      'SETUP',
      'PLAY',
      'PAUSE',
      'TEARDOWN',
      'GET_PARAMETER',
      'SET_PARAMETER',
    ]) {
      assert.equal(await login(auth, { user: 'bob', password: 'b', method }), true, method);
      assert.equal(await login(auth, { user: 'carol', password: 'c', method }), false, method);
    }
    // SETUP of a publisher's track (mode=record) is publishing: no publish rule off /cam.
    const setup = (transport: string) => {
      const r = request('SETUP', `${HOST}/elsewhere/streamid=0`);
      r.headers.append('Transport', transport);
      return auth.authorize(r);
    };
    assert.equal(await setup('RTP/AVP/TCP;unicast;interleaved=0-1;mode=record'), false);
    assert.equal(await setup('RTP/AVP;unicast;client_port=5000-5001;mode="RECORD"'), false);
    challengesOf(await setup('RTP/AVP/TCP;unicast;interleaved=0-1'));
  });

  it('a request naming no path (*) is matched by catch-all rules only', async () => {
    const onlyCam = createAuthenticator({
      users: USERS,
      rules: [{ path: '/cam', action: 'read', users: ['*'] }],
    });
    assert.equal(await onlyCam.authorize(request('GET_PARAMETER', '*')), false);
    challengesOf(await createAuthenticator({ users: USERS }).authorize(request('GET_PARAMETER', '*')));
  });

  it('refuses bad configuration', () => {
    const bad: Array<Partial<AuthOptions>> = [
      { realm: 'a"b' },
      { realm: '' },
      { methods: [] },
      { digestAlgorithms: ['SHA-512' as DigestAlgorithm] },
      { users: [{ name: 'a:b', password: 'x' }] },
      { users: [{ name: 'anonymous', password: 'x' }] },
      {
        users: [
          { name: 'a', password: 'x' },
          { name: 'a', password: 'y' },
        ],
      },
      { users: [{ name: 'a' }] },
      { users: [{ name: 'a', ha1Md5: 'abc' }] },
      { users: [{ name: 'a', ha1Sha256: ha1('MD5', 'a', 'smolrtsp', 'x') }] },
      { rules: [{ path: 'cam', action: 'read', users: ['*'] }] },
      { rules: [{ path: '/cam', action: 'read', users: ['nobody'] }] },
      { rules: [{ path: '/cam', action: 'read', users: [] }] },
      { nonceTtlSec: 0 },
      { secret: Buffer.alloc(8) },
    ];
    for (const o of bad)
      assert.throws(() => createAuthenticator({ users: USERS, ...o }), TypeError, JSON.stringify(o));
  });
});

describe('authenticator: failures and throttling', () => {
  // The throttle's timers are unref'd (a penalty must not keep a server process alive); with no
  // server here, something else has to hold the event loop open while the tests wait on them.
  let keepAlive: NodeJS.Timeout;
  before(() => {
    keepAlive = setInterval(() => {}, 1000);
  });
  after(() => clearInterval(keepAlive));
  const timed = async (p: Promise<unknown>) => {
    const t0 = performance.now();
    await p;
    return performance.now() - t0;
  };

  it('delays attempts from an address past maxFailures, growing', async () => {
    // Delays large against timer jitter on a loaded machine: lower bounds are the property, the
    // upper ones only tell "not yet doubled" from "doubled".
    const d = 400;
    const auth = createAuthenticator({ users: USERS, maxFailures: 2, failureDelayMs: d });
    for (let i = 0; i < 2; i++) {
      assert.ok((await timed(login(auth, { user: 'alice', password: 'bad' }))) < d / 2);
    }
    assert.equal(auth.failuresOf('10.0.0.1'), 2);
    // Third attempt: d (count 2 = maxFailures); fourth: 2d.
    const third = await timed(login(auth, { user: 'alice', password: 'bad' }));
    const fourth = await timed(login(auth, { user: 'alice', password: 'bad' }));
    assert.ok(third >= d - 5 && third < 2 * d, `third took ${third} ms`);
    assert.ok(fourth >= 2 * d - 5, `fourth took ${fourth} ms`);
    // A request without credentials is not held: nothing is being guessed.
    assert.ok((await timed(auth.authorize(request('DESCRIBE', `${HOST}/cam`)))) < d / 2);
    // Other addresses are not affected.
    assert.ok(
      (await timed(login(auth, { user: 'alice', password: 'bad' }, { remoteAddress: '10.0.0.9' }))) < d / 2,
    );
  });

  it('answers parallel attempts from one address one at a time', async () => {
    const auth = createAuthenticator({
      users: USERS,
      maxFailures: 1,
      failureDelayMs: 60,
      failureDelayMaxMs: 1000,
    });
    await login(auth, { user: 'alice', password: 'bad' });
    const uri = `${HOST}/cam`;
    const challenge = await auth.authorize(request('DESCRIBE', uri));
    const header = answer(challenge, { user: 'alice', password: 'bad', method: 'DESCRIBE', uri });
    const t0 = performance.now();
    const done: number[] = [];
    await Promise.all(
      Array.from({ length: 4 }, () =>
        auth.authorize(request('DESCRIBE', uri, header)).then(() => done.push(performance.now() - t0)),
      ),
    );
    done.sort((a, b) => a - b);
    assert.ok(done[0] >= 55, `first after ${done[0]} ms`);
    assert.ok(done[3] >= 4 * 60 - 10, `last after ${done[3]} ms`);
  });

  it('refuses at once, unchecked, when an address has queued too much', async () => {
    const auth = createAuthenticator({
      users: USERS,
      maxFailures: 1,
      failureDelayMs: 100,
      failureDelayMaxMs: 100,
    });
    await login(auth, { user: 'alice', password: 'bad' });
    const uri = `${HOST}/cam`;
    const challenge = await auth.authorize(request('DESCRIBE', uri));
    const right = answer(challenge, { user: 'alice', password: 'wonder land', method: 'DESCRIBE', uri });
    // Queue limit is 2 × 100 ms: the first two wait, the next are answered at once with a challenge.
    const results = await Promise.all(
      Array.from({ length: 4 }, () => auth.authorize(request('DESCRIBE', uri, right))),
    );
    assert.deepEqual(
      results.map((r) => (r === true ? 'ok' : 'challenge')),
      ['ok', 'ok', 'challenge', 'challenge'],
    );
  });

  it('a success forgives failures for that same user only', async () => {
    const auth = createAuthenticator({ users: USERS, maxFailures: 100 });
    await login(auth, { user: 'alice', password: 'typo' });
    await login(auth, { user: 'alice', password: 'typo2' });
    assert.equal(auth.failuresOf('10.0.0.1'), 2);
    assert.equal(await login(auth, { user: 'alice', password: 'wonder land' }), true);
    assert.equal(auth.failuresOf('10.0.0.1'), 0);
    // Guessing at alice while logging in as bob keeps counting.
    await login(auth, { user: 'alice', password: 'guess1' });
    assert.equal(await login(auth, { user: 'bob', password: 'b0b:pa"ss' }), true);
    await login(auth, { user: 'alice', password: 'guess2' });
    assert.equal(auth.failuresOf('10.0.0.1'), 2);
    auth.clearFailures('10.0.0.1');
    assert.equal(auth.failuresOf('10.0.0.1'), 0);
  });

  it('failures are forgotten after the window', async () => {
    const c = clock();
    const auth = createAuthenticator({ users: USERS, failureWindowSec: 30, now: c.now });
    await login(auth, { user: 'alice', password: 'bad' });
    c.advance(20_000);
    await login(auth, { user: 'alice', password: 'bad' });
    c.advance(29_000);
    assert.equal(auth.failuresOf('10.0.0.1'), 2, 'the window runs from the last failure');
    c.advance(2_000);
    assert.equal(auth.failuresOf('10.0.0.1'), 0);
  });

  it('the failure table is bounded (least recently failed dropped)', async () => {
    const auth = createAuthenticator({ users: USERS, maxTrackedAddresses: 50 });
    const uri = `${HOST}/cam`;
    for (let i = 0; i < 200; i++) {
      const remoteAddress = `10.1.${i >> 8}.${i & 255}`;
      const wrong = 'Digest username="alice", realm="smolrtsp", nonce="n", uri="/cam", response="0"';
      await auth.authorize(request('DESCRIBE', uri, wrong, { remoteAddress }));
    }
    assert.equal(auth.failuresOf('10.1.0.0'), 0, 'oldest forgotten');
    assert.equal(auth.failuresOf('10.1.0.149'), 0);
    assert.equal(auth.failuresOf('10.1.0.150'), 1);
    assert.equal(auth.failuresOf('10.1.0.199'), 1);
  });

  it('IPv6 clients count by /64; IPv4-mapped addresses as IPv4', () => {
    assert.equal(failureKey('2001:db8::1'), failureKey('2001:db8:0:0:ffff::2'));
    assert.notEqual(failureKey('2001:db8::1'), failureKey('2001:db8:0:1::1'));
    assert.equal(failureKey('::ffff:10.0.0.1'), failureKey('10.0.0.1'));
    assert.notEqual(failureKey('10.0.0.1'), failureKey('10.0.0.2'));
  });

  it('counts IPv6 failures per /64', async () => {
    const auth = createAuthenticator({ users: USERS });
    await login(auth, { user: 'alice', password: 'bad' }, { remoteAddress: '2001:db8::1' });
    await login(auth, { user: 'alice', password: 'bad' }, { remoteAddress: '2001:db8::2' });
    assert.equal(auth.failuresOf('2001:db8::abcd'), 2);
    assert.equal(auth.failuresOf('2001:db8:1::1'), 0);
  });
});

describe('authenticator: nothing secret leaks', () => {
  it('challenges and errors carry no password, response or user name', async () => {
    const secretPassword = 'Tr0ub4dor&3';
    const auth = createAuthenticator({ users: [{ name: 'zed', password: secretPassword }] });
    const uri = `${HOST}/cam`;
    const challenge = await auth.authorize(request('DESCRIBE', uri));
    const wrong = answer(challenge, { user: 'zed', password: `${secretPassword}x`, method: 'DESCRIBE', uri });
    const result = await auth.authorize(request('DESCRIBE', uri, wrong));
    const text = JSON.stringify(result);
    assert.ok(!text.includes(secretPassword), text);
    // The user name tried goes to the server's `refused` event (an operator's log), never to the client.
    assert.equal(typeof result === 'object' ? result.user : undefined, 'zed');
    assert.ok(typeof result === 'object' && !JSON.stringify(result.headers).includes('zed'), text);
    const response = /response="([0-9a-f]+)"/.exec(wrong)![1];
    assert.ok(!text.includes(response), text);
    const badUri = answer(challenge, {
      user: 'zed',
      password: secretPassword,
      method: 'DESCRIBE',
      uri: '/x',
    });
    await assert.rejects(auth.authorize(request('DESCRIBE', uri, badUri)), (err: Error) => {
      const all = `${err.message} ${String(err.stack)} ${JSON.stringify(err)}`;
      assert.ok(!all.includes(secretPassword) && !all.includes('zed'), all);
      return true;
    });
    await assert.rejects(
      auth.authorize(request('DESCRIBE', uri, `Basic ${Buffer.from(secretPassword).toString('base64')}`)),
      (err: Error) => {
        assert.ok(!err.message.includes(secretPassword));
        return true;
      },
    );
  });
});
