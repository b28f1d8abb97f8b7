import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RtspError, RtspHeaderError } from '../../../src/protocol/errors.js';
import {
  type DigestCredentials,
  digestAlgorithmOf,
  digestResponse,
  formatBasicChallenge,
  formatDigestChallenge,
  ha1,
  parseAuthorization,
  parseAuthParams,
  quoteString,
} from '../../../src/protocol/headers/authorization.js';

function digestOf(value: string): DigestCredentials {
  const c = parseAuthorization(value);
  assert.equal(c.scheme, 'digest');
  if (c.scheme !== 'digest') throw new Error('unreachable');
  return c.digest;
}

/** Asserts a 400 RtspHeaderError whose message does not repeat any of `secrets`. */
function assertRejected(value: string, secrets: string[] = []) {
  assert.throws(
    () => parseAuthorization(value),
    (err: unknown) => {
      assert.ok(err instanceof RtspHeaderError, String(err));
      assert.equal(err.status, 400);
      for (const s of secrets) assert.ok(!err.message.includes(s), `message leaks '${s}': ${err.message}`);
      return true;
    },
    value,
  );
}

// RFC 2617 section 3.5, on one line as an RTSP parser hands it over after unfolding.
const RFC2617_AUTHORIZATION =
  'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", ' +
  'uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", ' +
  'response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"';

// RFC 7616 section 3.9.1 (SHA-256 answer).
const RFC7616_AUTHORIZATION =
  'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, ' +
  'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, ' +
  'cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, ' +
  'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", ' +
  'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';

describe('Digest: RFC test vectors', () => {
  it('parses the RFC 2617 section 3.5 Authorization header', () => {
    assert.deepEqual(digestOf(RFC2617_AUTHORIZATION), {
      username: 'Mufasa',
      realm: 'testrealm@host.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      uri: '/dir/index.html',
      response: '6629fae49393a05397450978507c4ef1',
      qop: 'auth',
      nc: '00000001',
      cnonce: '0a4f113b',
      opaque: '5ccc069c403ebaf9f0171e9517f40e41',
      userhash: false,
    });
  });

  it('computes the RFC 2617 section 3.5 response (MD5, qop=auth)', () => {
    const d = digestOf(RFC2617_AUTHORIZATION);
    const response = digestResponse({
      algorithm: 'MD5',
      ha1: ha1('MD5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life'),
      nonce: d.nonce,
      method: 'GET',
      uri: d.uri,
      qop: d.qop,
      nc: d.nc,
      cnonce: d.cnonce,
    });
    assert.equal(response, '6629fae49393a05397450978507c4ef1');
  });

  it('computes the RFC 7616 section 3.9.1 responses (SHA-256 and MD5)', () => {
    const d = digestOf(RFC7616_AUTHORIZATION);
    assert.equal(d.algorithm, 'SHA-256');
    assert.equal(digestAlgorithmOf(d.algorithm), 'SHA-256');
    const common = { nonce: d.nonce, method: 'GET', uri: d.uri, qop: d.qop, nc: d.nc, cnonce: d.cnonce };
    const realm = 'http-auth@example.org';
    assert.equal(
      digestResponse({
        ...common,
        algorithm: 'SHA-256',
        ha1: ha1('SHA-256', 'Mufasa', realm, 'Circle of Life'),
      }),
      '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
    );
    // The same exchange answered with MD5 (the RFC's second example).
    assert.equal(
      digestResponse({ ...common, algorithm: 'MD5', ha1: ha1('MD5', 'Mufasa', realm, 'Circle of Life') }),
      '8ca523f5e9506fed4657c9700eebdbec',
    );
  });

  it('computes an RFC 2069 response (no qop) as H(HA1:nonce:HA2)', () => {
    const h1 = ha1('MD5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life');
    const withoutQop = digestResponse({
      algorithm: 'MD5',
      ha1: h1,
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      method: 'GET',
      uri: '/dir/index.html',
    });
    assert.match(withoutQop, /^[0-9a-f]{32}$/);
    assert.notEqual(withoutQop, '6629fae49393a05397450978507c4ef1');
    // Recomputed by hand from the definition.
    const md5 = (s: string) => createHash('md5').update(s).digest('hex');
    assert.equal(withoutQop, md5(`${h1}:dcd98b7102dd2f0e8b11d0f600bfb0c093:${md5('GET:/dir/index.html')}`));
  });

  it('ha1 is H(user:realm:password) in lower-case hex', () => {
    assert.equal(
      ha1('MD5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life'),
      '939e7578ed9e3c518a452acee763bce9',
    );
    assert.match(ha1('SHA-256', 'a', 'b', 'c'), /^[0-9a-f]{64}$/);
  });
});

describe('parseAuthorization: what real clients send', () => {
  it('ffmpeg 5.1 (commas without spaces, quoted algorithm and qop)', () => {
    const d = digestOf(
      'Digest username="user",realm="smolrtsp",nonce="01a2",uri="rtsp://127.0.0.1:8554/test",' +
        'response="8d54fc4edd337a49c281c8bbf8e0970d",algorithm="MD5",qop="auth",cnonce="3b2d1c6b2d4c5e6f",nc=00000001',
    );
    assert.equal(d.algorithm, 'MD5');
    assert.equal(d.qop, 'auth');
    assert.equal(d.nc, '00000001');
    assert.equal(d.uri, 'rtsp://127.0.0.1:8554/test');
  });

  it('GStreamer 1.22 / live555 (RFC 2069: no qop, no algorithm)', () => {
    const d = digestOf(
      'Digest username="user", realm="smolrtsp", nonce="01a2", uri="rtsp://127.0.0.1:8554/test", ' +
        'response="8353071bb090d0daddc122213cd45d67"',
    );
    assert.equal(d.qop, undefined);
    assert.equal(d.nc, undefined);
    assert.equal(d.algorithm, undefined);
    assert.equal(digestAlgorithmOf(d.algorithm), 'MD5');
  });

  it('Basic (RFC 7617 examples)', () => {
    assert.deepEqual(parseAuthorization('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=='), {
      scheme: 'basic',
      user: 'Aladdin',
      password: 'open sesame',
    });
    // UTF-8 'test:123£'
    assert.deepEqual(parseAuthorization('Basic dGVzdDoxMjPCow=='), {
      scheme: 'basic',
      user: 'test',
      password: '123£',
    });
  });
});

describe('parseAuthorization: syntax', () => {
  it('scheme and parameter names are case-insensitive; values keep their case', () => {
    const d = digestOf('DIGEST UserName="Mu", REALM="R", Nonce="N", URI="/x", Response="AbC"');
    assert.equal(d.username, 'Mu');
    assert.equal(d.realm, 'R');
    assert.equal(d.response, 'AbC');
    assert.equal(parseAuthorization('bAsIc YTpi').scheme, 'basic');
  });

  it('quoted strings keep escaped quotes, backslashes and commas', () => {
    const d = digestOf(
      String.raw`Digest username="Mu\"fa,sa", realm="a\\b", nonce="n,=x", uri="/c am", response="r"`,
    );
    assert.equal(d.username, 'Mu"fa,sa');
    assert.equal(d.realm, 'a\\b');
    assert.equal(d.nonce, 'n,=x');
    assert.equal(d.uri, '/c am');
  });

  it('tolerates spaces around = and empty list elements', () => {
    const d = digestOf('Digest  ,username = "u" ,, realm= "r",nonce ="n", uri="/", response="x" , ');
    assert.deepEqual([d.username, d.realm, d.nonce, d.uri, d.response], ['u', 'r', 'n', '/', 'x']);
  });

  it('decodes RFC 8187 username*', () => {
    const d = digestOf(
      `Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm="r", nonce="n", uri="/", response="x"`,
    );
    assert.equal(d.username, 'Jäsøn Doe');
  });

  it('reads userhash, opaque and lower-cases qop', () => {
    const d = digestOf(
      'Digest username="u", realm="r", nonce="n", uri="/", response="x", userhash=TRUE, opaque="o", qop=AUTH, nc=0000000a, cnonce="c"',
    );
    assert.equal(d.userhash, true);
    assert.equal(d.opaque, 'o');
    assert.equal(d.qop, 'auth');
  });

  it('a password with colons keeps everything after the first colon', () => {
    const token = Buffer.from('user:pa:ss@w').toString('base64');
    assert.deepEqual(parseAuthorization(`Basic ${token}`), {
      scheme: 'basic',
      user: 'user',
      password: 'pa:ss@w',
    });
  });

  it('other schemes are reported, not parsed', () => {
    assert.deepEqual(parseAuthorization('Bearer abc.def.ghi'), { scheme: 'other', name: 'Bearer' });
    assert.deepEqual(parseAuthorization('NTLM'), { scheme: 'other', name: 'NTLM' });
  });

  const base = { username: '"u"', realm: '"r"', nonce: '"n"', uri: '"/"', response: '"x"' };
  const without = (name: keyof typeof base) =>
    `Digest ${Object.entries(base)
      .filter(([k]) => k !== name)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`;
  for (const field of Object.keys(base) as Array<keyof typeof base>) {
    it(`Digest without ${field} is 400`, () => assertRejected(without(field)));
  }

  const malformed: Array<[string, string, RegExp]> = [
    ['empty', '', /no authentication scheme/],
    ['only spaces', '   ', /no authentication scheme/],
    ['no scheme', '=abc', /no authentication scheme/],
    ['scheme glued to garbage', 'Digest"username="u"', /malformed authentication scheme/],
    ['unterminated quote', 'Digest realm="r", username="u, nonce', /unterminated/],
    ['backslash at the end of a quote', 'Digest username="u\\', /unterminated/],
    ['parameter without value', 'Digest username, realm="r"', /without a value/],
    ['empty token value', 'Digest username=, realm="r"', /without a value/],
    ['garbage after a value', 'Digest username="u" x, realm="r"', /garbage after/],
    ['repeated parameter', 'Digest username="u", username="v", realm="r"', /repeated/],
    [
      'qop without nc',
      'Digest username="u", realm="r", nonce="n", uri="/", response="x", qop=auth',
      /nc and cnonce/,
    ],
    [
      'qop without cnonce',
      'Digest username="u", realm="r", nonce="n", uri="/", response="x", qop=auth, nc=00000001',
      /nc and cnonce/,
    ],
    [
      'nc not 8 hex digits',
      'Digest username="u", realm="r", nonce="n", uri="/", response="x", qop=auth, nc=1, cnonce="c"',
      /nc is not/,
    ],
    [
      'bad algorithm token',
      'Digest username="u", realm="r", nonce="n", uri="/", response="x", algorithm="M D5"',
      /malformed algorithm/,
    ],
    [
      'username and username*',
      `Digest username="u", username*=UTF-8''u, realm="r", nonce="n", uri="/", response="x"`,
      /both username/,
    ],
    [
      'username* in another charset',
      `Digest username*=ISO-8859-1''u, realm="r", nonce="n", uri="/", response="x"`,
      /unsupported username\*/,
    ],
    [
      'bad percent-encoding in username*',
      `Digest username*=UTF-8''%E0%A4%A, realm="r", nonce="n", uri="/", response="x"`,
      /malformed username\*/,
    ],
    ['control character in a value', 'Digest username="u\x01", realm="r"', /control characters/],
    ['Basic without token', 'Basic', /not base64/],
    ['Basic with non-base64', 'Basic !!!!', /not base64/],
    ['Basic with an impossible length', 'Basic YWJjZ', /not base64/],
    ['Basic without colon', `Basic ${Buffer.from('useronly').toString('base64')}`, /no user:password/],
    ['Basic with control characters', `Basic ${Buffer.from('u:p\nq').toString('base64')}`, /control/],
  ];
  for (const [name, value, message] of malformed) {
    it(`rejects ${name} with 400`, () => {
      assertRejected(value);
      assert.throws(() => parseAuthorization(value), message);
    });
  }

  it('never puts credentials in the error message', () => {
    const secret = 'S3cr3t-Pa55';
    assertRejected(`Basic ${Buffer.from(`${secret}-no-colon`).toString('base64')}`, [secret]);
    assertRejected(`Digest username="${secret}", realm="r"`, [secret]);
    assertRejected(`Digest username="${secret}", realm="${secret}`, [secret]);
    assertRejected(`Digest response="${secret}" garbage`, [secret]);
  });

  it('caps the number of parameters', () => {
    const many = Array.from({ length: 40 }, (_, i) => `p${i}="v"`).join(', ');
    assertRejected(`Digest ${many}`);
  });
});

describe('challenges', () => {
  it('formats a Digest challenge with realm then nonce first (live555 reads them with a fixed pattern)', () => {
    const text = formatDigestChallenge({ realm: 'smolrtsp', nonce: 'abc', algorithm: 'MD5' });
    assert.equal(text, 'Digest realm="smolrtsp", nonce="abc", algorithm=MD5, qop="auth"');
    assert.match(text, /^Digest realm="[^"]*", nonce="[^"]*"/);
    const stale = formatDigestChallenge({
      realm: 'r',
      nonce: 'n',
      algorithm: 'SHA-256',
      stale: true,
      qop: false,
    });
    assert.equal(stale, 'Digest realm="r", nonce="n", stale=true, algorithm=SHA-256');
  });

  it('formats Basic and escapes quoted strings', () => {
    assert.equal(formatBasicChallenge('smolrtsp'), 'Basic realm="smolrtsp"');
    assert.equal(quoteString('a"b\\c'), String.raw`"a\"b\\c"`);
    assert.throws(() => quoteString('a\r\nb'), TypeError);
  });

  it('a challenge we format parses back to the same parameters', () => {
    const text = formatDigestChallenge({ realm: 'r"x', nonce: 'n,1', algorithm: 'MD5', opaque: 'o\\p' });
    const params = parseAuthParams(text.slice('Digest '.length));
    assert.equal(params.get('realm'), 'r"x');
    assert.equal(params.get('nonce'), 'n,1');
    assert.equal(params.get('opaque'), 'o\\p');
    assert.equal(params.get('qop'), 'auth');
  });

  it('maps algorithm names', () => {
    assert.equal(digestAlgorithmOf(undefined), 'MD5');
    assert.equal(digestAlgorithmOf('md5'), 'MD5');
    assert.equal(digestAlgorithmOf('sha-256'), 'SHA-256');
    assert.equal(digestAlgorithmOf('MD5-sess'), undefined);
    assert.equal(digestAlgorithmOf('SHA-512-256'), undefined);
  });
});

describe('parseAuthorization: properties', () => {
  it('arbitrary header values either parse or throw an RtspError', () => {
    const alphabet = fc.constantFrom(...'Digest Basic=",\\ \t:abcxyz019+/*\x00\x7fé'.split(''));
    const fuzz = fc.oneof(
      fc.string(),
      fc.string({ unit: alphabet, maxLength: 80 }),
      fc.string({ unit: alphabet, maxLength: 60 }).map((s) => `Digest ${s}`),
      fc.string({ unit: alphabet, maxLength: 60 }).map((s) => `Basic ${s}`),
      fc.string({ unit: 'binary', maxLength: 60 }),
    );
    fc.assert(
      fc.property(fuzz, (value) => {
        try {
          parseAuthorization(value);
        } catch (err) {
          if (!(err instanceof RtspError)) throw err;
          assert.equal(err.status, 400);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('any parameter values survive quoting and parsing', () => {
    const value = fc.string({ maxLength: 30 }).filter((s) => !/[\x00-\x1f\x7f]/.test(s));
    fc.assert(
      fc.property(value, value, value, value, (username, realm, nonce, uri) => {
        const header =
          `Digest username=${quoteString(username)}, realm=${quoteString(realm)}, ` +
          `nonce=${quoteString(nonce)}, uri=${quoteString(uri)}, response="0"`;
        const d = digestOf(header);
        assert.deepEqual([d.username, d.realm, d.nonce, d.uri], [username, realm, nonce, uri]);
      }),
    );
  });

  it('any user and password (no colon in the user) survive Basic', () => {
    const text = fc.string({ maxLength: 30 }).filter((s) => !/[\x00-\x1f\x7f]/.test(s));
    fc.assert(
      fc.property(
        text.filter((s) => !s.includes(':')),
        text,
        (user, password) => {
          const token = Buffer.from(`${user}:${password}`, 'utf8').toString('base64');
          assert.deepEqual(parseAuthorization(`Basic ${token}`), { scheme: 'basic', user, password });
        },
      ),
    );
  });
});
