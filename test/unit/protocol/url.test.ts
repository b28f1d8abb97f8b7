import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RtspError } from '../../../src/protocol/errors.js';
import { formatContentBase } from '../../../src/protocol/headers/content-base.js';
import { formatRtpInfo } from '../../../src/protocol/headers/rtp-info.js';
import {
  parseRtspUrl,
  type RtspUrl,
  resolveStreamAndTrack,
  type StreamTarget,
  stripUserInfo,
} from '../../../src/protocol/url.js';

describe('parseRtspUrl', () => {
  const valid: Array<[string, RtspUrl]> = [
    [
      'rtsp://media.example.com:554/twister/audiotrack', // RFC 2326 section 3.2
      { scheme: 'rtsp', host: 'media.example.com', port: 554, path: '/twister/audiotrack', query: '' },
    ],
    ['rtsp://h/cam', { scheme: 'rtsp', host: 'h', path: '/cam', query: '' }],
    ['RTSP://H/cam/', { scheme: 'rtsp', host: 'H', path: '/cam', query: '' }],
    ['rtsp://h', { scheme: 'rtsp', host: 'h', path: '/', query: '' }],
    ['rtsp://h/', { scheme: 'rtsp', host: 'h', path: '/', query: '' }],
    ['rtsp://h:/cam', { scheme: 'rtsp', host: 'h', path: '/cam', query: '' }],
    ['rtsps://h:322/cam', { scheme: 'rtsps', host: 'h', port: 322, path: '/cam', query: '' }],
    ['rtspu://h/cam', { scheme: 'rtspu', host: 'h', path: '/cam', query: '' }],
    ['rtsp://[::1]:8554/cam', { scheme: 'rtsp', host: '::1', port: 8554, path: '/cam', query: '' }],
    ['rtsp://[fe80::1%25eth0]/cam', { scheme: 'rtsp', host: 'fe80::1%25eth0', path: '/cam', query: '' }],
    ['rtsp://[2001:db8::7]', { scheme: 'rtsp', host: '2001:db8::7', path: '/', query: '' }],
    [
      'rtsp://admin:secret@192.168.1.64:554/Streaming/Channels/101?transportmode=unicast',
      {
        scheme: 'rtsp',
        host: '192.168.1.64',
        port: 554,
        path: '/Streaming/Channels/101',
        query: 'transportmode=unicast',
        user: 'admin',
        password: 'secret',
      },
    ],
    [
      'rtsp://us%20er:p@ss:w%40rd@h/cam',
      { scheme: 'rtsp', host: 'h', path: '/cam', query: '', user: 'us er', password: 'p@ss:w@rd' },
    ],
    ['rtsp://user@h/cam', { scheme: 'rtsp', host: 'h', path: '/cam', query: '', user: 'user' }],
    [
      'rtsp://h/cam?channel=1/trackID=0',
      { scheme: 'rtsp', host: 'h', path: '/cam', query: 'channel=1/trackID=0' },
    ],
    ['rtsp://h/cam/?x=1#frag', { scheme: 'rtsp', host: 'h', path: '/cam', query: 'x=1' }],
    ['rtsp://h?x=1', { scheme: 'rtsp', host: 'h', path: '/', query: 'x=1' }],
    ['rtsp://h/my%20cam/track%3D1', { scheme: 'rtsp', host: 'h', path: '/my cam/track=1', query: '' }],
    ['rtsp://h//cam//./x/../trackID=0', { scheme: 'rtsp', host: 'h', path: '/cam/trackID=0', query: '' }],
    ['rtsp://h/../../etc', { scheme: 'rtsp', host: 'h', path: '/etc', query: '' }],
    ['*', { scheme: 'rtsp', host: '', path: '*', query: '' }],
    ['/cam/trackID=0', { scheme: 'rtsp', host: '', path: '/cam/trackID=0', query: '' }],
    ['/cam/?a=b', { scheme: 'rtsp', host: '', path: '/cam', query: 'a=b' }],
    ['/', { scheme: 'rtsp', host: '', path: '/', query: '' }],
  ];
  for (const [input, expected] of valid) {
    it(`parses ${input}`, () => {
      assert.deepEqual(parseRtspUrl(input), expected);
    });
  }

  const invalid = [
    '',
    ' ',
    'rtsp://h/a b',
    'rtsp://h/a\r\nX',
    'cam',
    'trackID=0',
    'http://h/cam',
    'rtspt://h/cam',
    'rtsp:/h/cam',
    'rtsp://',
    'rtsp:///cam',
    'rtsp://h:99999/cam',
    'rtsp://h:0/cam',
    'rtsp://h:abc/cam',
    'rtsp://[::1/cam',
    'rtsp://[::1]x/cam',
    'rtsp://[zz]/cam',
    'rtsp://[1.2.3.4]/cam',
    'rtsp://h<x>/cam',
    'rtsp://h/%zz',
    'rtsp://h/%00',
    'rtsp://u:%zz@h/',
    '/a%0d%0ab',
  ];
  for (const input of invalid) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(() => parseRtspUrl(input), {
        name: 'RtspHeaderError',
        status: 400,
        message: /^Request-URI: /,
      });
    });
  }

  it('never throws anything but RtspError, and paths are always normalised', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 40 }),
          fc.webUrl().map((u) => u.replace(/^https?/, 'rtsp')),
        ),
        (input) => {
          try {
            const { path } = parseRtspUrl(input);
            assert.ok(path === '*' || (path.startsWith('/') && (path === '/' || !path.endsWith('/'))), path);
            assert.ok(!path.includes('//'), path);
          } catch (err) {
            assert.ok(err instanceof RtspError, `unexpected ${String(err)}`);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('resolveStreamAndTrack', () => {
  const streams = new Set(['/cam', '/live/cam', '/live', '/a/b/c']);
  const exists = (p: string) => streams.has(p);

  const cases: Array<[string, StreamTarget]> = [
    ['/cam', { streamPath: '/cam' }],
    ['/cam/', { streamPath: '/cam' }],
    ['/cam/trackID=1', { streamPath: '/cam', control: 'trackID=1' }],
    ['/live/cam/trackID=0', { streamPath: '/live/cam', control: 'trackID=0' }],
    ['/live/cam', { streamPath: '/live/cam' }],
    ['/live/other', { streamPath: '/live', control: 'other' }],
    ['/a/b/c/stream=0', { streamPath: '/a/b/c', control: 'stream=0' }],
    ['/cam/x/y', { streamPath: '/cam', control: 'x/y' }],
    ['rtsp://h/cam', { streamPath: '/cam' }],
    ['rtsp://h:554/live/cam/trackID=1', { streamPath: '/live/cam', control: 'trackID=1' }],
    ['rtsp://user:pw@[::1]:8554/cam/', { streamPath: '/cam' }],
    // Query string: ignored for the stream lookup.
    ['/cam?channel=1', { streamPath: '/cam' }],
    ['rtsp://h/cam?channel=1&subtype=0', { streamPath: '/cam' }],
    // RFC 3986 resolution (GStreamer, Axis-style URLs): control before the query.
    ['rtsp://h/cam/trackID=0?channel=1', { streamPath: '/cam', control: 'trackID=0' }],
    // ffmpeg / live555 concatenation against `rtsp://h/cam?channel=1/`: control after the query.
    ['rtsp://h/cam?channel=1/trackID=0', { streamPath: '/cam', control: 'trackID=0' }],
    ['rtsp://h/cam?channel=1/', { streamPath: '/cam' }],
    ['/cam/track%3D1', { streamPath: '/cam', control: 'track=1' }],
  ];
  for (const [input, expected] of cases) {
    it(`resolves ${input}`, () => {
      assert.deepEqual(resolveStreamAndTrack(input, exists), expected);
    });
  }

  it('prefers the longest existing prefix', () => {
    assert.deepEqual(resolveStreamAndTrack('/live/cam/trackID=0', exists), {
      streamPath: '/live/cam',
      control: 'trackID=0',
    });
    assert.deepEqual(
      resolveStreamAndTrack('/live/cam/trackID=0', (p) => p === '/live'),
      { streamPath: '/live', control: 'cam/trackID=0' },
    );
  });

  it('resolves against a root stream', () => {
    const root = (p: string) => p === '/';
    assert.deepEqual(resolveStreamAndTrack('rtsp://h/', root), { streamPath: '/' });
    assert.deepEqual(resolveStreamAndTrack('/trackID=0', root), { streamPath: '/', control: 'trackID=0' });
  });

  it('throws 404 when nothing matches', () => {
    for (const input of ['/nope', '/nope/trackID=0', '/', '*', '/camera']) {
      assert.throws(() => resolveStreamAndTrack(input, exists), {
        name: 'RtspError',
        status: 404,
        code: 'ERR_RTSP_STREAM_NOT_FOUND',
      });
    }
  });

  it('throws 400 for an unparseable URI', () => {
    assert.throws(() => resolveStreamAndTrack('http://h/cam', exists), {
      name: 'RtspHeaderError',
      status: 400,
    });
  });

  it('asks the predicate longest prefix first and stops at the first match', () => {
    const asked: string[] = [];
    resolveStreamAndTrack('/live/cam/trackID=0', (p) => {
      asked.push(p);
      return p === '/live';
    });
    assert.deepEqual(asked, ['/live/cam/trackID=0', '/live/cam', '/live']);
  });
});

describe('parseRtspUrl error messages', () => {
  it('never quote the user information (messages end up in logs)', () => {
    for (const uri of [
      'rtsp://admin:Sup3rS3cret@[::1/cam',
      'rtsp://admin:Sup3r%zzS3cret@host/cam',
      'rtsp://admin:Sup3rS3cret@[::1]x/cam',
    ]) {
      assert.throws(
        () => parseRtspUrl(uri),
        (err: unknown) => err instanceof RtspError && !/Sup3r|admin/.test(err.message),
        uri,
      );
    }
  });
});

describe('stripUserInfo', () => {
  it('removes user:password@ as parseRtspUrl reads it (last @ of the authority)', () => {
    const cases: Array<[string, string]> = [
      ['rtsp://admin:S3cret@10.0.0.2:554/cam/', 'rtsp://10.0.0.2:554/cam/'],
      ['rtsp://admin@[::1]/cam', 'rtsp://[::1]/cam'],
      ['RTSPS://a:p@ss@h/cam?x=1', 'RTSPS://h/cam?x=1'],
      ['rtsp://h/cam/a@b', 'rtsp://h/cam/a@b'],
      ['rtsp://h/cam?user=a@b', 'rtsp://h/cam?user=a@b'],
      ['/cam/trackID=0', '/cam/trackID=0'],
      ['*', '*'],
    ];
    for (const [uri, expected] of cases) {
      assert.equal(stripUserInfo(uri), expected, uri);
      const { user: _user, password: _password, ...rest } = parseRtspUrl(uri);
      assert.deepEqual(parseRtspUrl(stripUserInfo(uri)), rest, uri);
    }
  });

  it('header formatters quote no user information in their errors', () => {
    assert.throws(
      () => formatContentBase('rtsp://admin:Sup3r@h/ca m'),
      (err: unknown) => err instanceof RtspError && !/Sup3r|admin/.test(err.message),
    );
    assert.throws(
      () => formatRtpInfo([{ url: 'rtsp://admin:Sup3r@h/ca m' }]),
      (err: unknown) => err instanceof RtspError && !/Sup3r|admin/.test(err.message),
    );
  });
});
