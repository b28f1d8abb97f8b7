import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RtspError } from '../../../src/protocol/errors.js';
import {
  formatTransportHeader,
  parseTransportHeader,
  type TransportSpec,
} from '../../../src/protocol/headers/transport.js';

/** A spec with only the mandatory fields, for terse expectations. */
function spec(fields: Partial<TransportSpec>): TransportSpec {
  return { transport: 'RTP', profile: 'AVP', lowerTransport: 'UDP', extra: [], ...fields };
}

describe('parseTransportHeader', () => {
  const valid: Array<[string, string, TransportSpec[]]> = [
    [
      'RFC 2326 section 10.4 SETUP request',
      'RTP/AVP;unicast;client_port=4588-4589',
      [spec({ delivery: 'unicast', clientPort: [4588, 4589] })],
    ],
    [
      'RFC 2326 section 10.4 SETUP response',
      'RTP/AVP;unicast;client_port=4588-4589;server_port=6256-6257',
      [spec({ delivery: 'unicast', clientPort: [4588, 4589], serverPort: [6256, 6257] })],
    ],
    [
      'RFC 2326 section 12.39 list of alternatives',
      'RTP/AVP;multicast;ttl=127;mode="PLAY", RTP/AVP;unicast;client_port=3456-3457;mode="PLAY"',
      [
        spec({ delivery: 'multicast', ttl: 127, mode: 'PLAY' }),
        spec({ delivery: 'unicast', clientPort: [3456, 3457], mode: 'PLAY' }),
      ],
    ],
    [
      'RFC 2326 multicast with destination and port',
      'RTP/AVP;multicast;destination=224.2.0.1;port=3456-3457;ttl=16',
      [spec({ delivery: 'multicast', destination: '224.2.0.1', port: [3456, 3457], ttl: 16 })],
    ],
    [
      'ffmpeg UDP',
      'RTP/AVP/UDP;unicast;client_port=5000-5001',
      [spec({ delivery: 'unicast', clientPort: [5000, 5001] })],
    ],
    [
      'ffmpeg TCP',
      'RTP/AVP/TCP;unicast;interleaved=0-1',
      [spec({ lowerTransport: 'TCP', delivery: 'unicast', interleaved: [0, 1] })],
    ],
    [
      'ffmpeg RECORD (unquoted lower-case mode)',
      'RTP/AVP/UDP;unicast;client_port=5002-5003;mode=record',
      [spec({ delivery: 'unicast', clientPort: [5002, 5003], mode: 'RECORD' })],
    ],
    [
      'GStreamer response form with ssrc and quoted mode',
      'RTP/AVP;unicast;client_port=5000-5001;server_port=6000-6001;ssrc=0A1B2C3D;mode="PLAY"',
      [
        spec({
          delivery: 'unicast',
          clientPort: [5000, 5001],
          serverPort: [6000, 6001],
          ssrc: 0x0a1b2c3d,
          mode: 'PLAY',
        }),
      ],
    ],
    [
      'single client port means N, N+1',
      'RTP/AVP;unicast;client_port=5000',
      [spec({ delivery: 'unicast', clientPort: [5000, 5001] })],
    ],
    [
      'single interleaved channel means N, N+1',
      'RTP/AVP/TCP;interleaved=4',
      [spec({ lowerTransport: 'TCP', interleaved: [4, 5] })],
    ],
    ['no delivery parameter: field absent', 'RTP/AVP', [spec({})]],
    [
      'names and tokens are case-insensitive',
      'rtp/avp/tcp;UNICAST;Interleaved=2-3;SSRC=deadbeef',
      [spec({ lowerTransport: 'TCP', delivery: 'unicast', interleaved: [2, 3], ssrc: 0xdeadbeef })],
    ],
    [
      'whitespace around separators',
      ' RTP/AVP ; unicast ; client_port = 5000 - 5001 ',
      [spec({ delivery: 'unicast', clientPort: [5000, 5001] })],
    ],
    ['short ssrc', 'RTP/AVP;ssrc=1F', [spec({ ssrc: 0x1f })]],
    [
      'other profiles kept as data',
      'RTP/SAVP;unicast;client_port=5000-5001,RTP/AVPF/TCP;interleaved=0-1',
      [
        spec({ profile: 'SAVP', delivery: 'unicast', clientPort: [5000, 5001] }),
        spec({ profile: 'AVPF', lowerTransport: 'TCP', interleaved: [0, 1] }),
      ],
    ],
    [
      'live555 raw UDP kept as data',
      'RAW/RAW/UDP;unicast;client_port=1234-1235',
      [spec({ transport: 'RAW', profile: 'RAW', delivery: 'unicast', clientPort: [1234, 1235] })],
    ],
    [
      'quoted mode list survives the comma split',
      'RTP/AVP;mode="PLAY,RECORD",RTP/AVP/TCP',
      [spec({ mode: 'PLAY,RECORD' }), spec({ lowerTransport: 'TCP' })],
    ],
    [
      'append, layers, source and valueless destination',
      'RTP/AVP;multicast;destination;source=10.0.0.1;layers=2;append;mode=RECORD',
      [
        spec({
          delivery: 'multicast',
          destination: '',
          source: '10.0.0.1',
          layers: 2,
          append: true,
          mode: 'RECORD',
        }),
      ],
    ],
    [
      'IPv6 destination',
      'RTP/AVP;unicast;destination=fe80::1;client_port=5000-5001',
      [spec({ delivery: 'unicast', destination: 'fe80::1', clientPort: [5000, 5001] })],
    ],
    [
      'unknown parameters kept verbatim and in order',
      'RTP/AVP;unicast;x-Foo=Bar;client_port=5000-5001;x-flag;x-quoted="a;b"',
      [
        spec({
          delivery: 'unicast',
          clientPort: [5000, 5001],
          extra: [
            ['x-Foo', 'Bar'],
            ['x-flag', undefined],
            ['x-quoted', '"a;b"'],
          ],
        }),
      ],
    ],
    ['port boundaries', 'RTP/AVP;client_port=0-65535', [spec({ clientPort: [0, 65535] })]],
    [
      'channel boundaries',
      'RTP/AVP/TCP;interleaved=254',
      [spec({ lowerTransport: 'TCP', interleaved: [254, 255] })],
    ],
    ['empty parameters and alternatives are skipped', 'RTP/AVP;;unicast;,,', [spec({ delivery: 'unicast' })]],
    [
      'an invalid alternative is skipped when another is valid',
      'RTP/AVP;unicast;client_port=99999,RTP/AVP/SCTP,RTP/AVP/TCP;interleaved=0-1',
      [spec({ lowerTransport: 'TCP', interleaved: [0, 1] })],
    ],
  ];
  for (const [name, input, expected] of valid) {
    it(`parses ${name}`, () => {
      assert.deepEqual(parseTransportHeader(input), expected);
    });
  }

  const invalid: Array<[string, string]> = [
    ['empty', ''],
    ['only commas', ' , ,'],
    ['missing profile', 'RTP'],
    ['too many slashes', 'RTP/AVP/UDP/X'],
    ['empty profile', 'RTP/;unicast'],
    ['port above 65535', 'RTP/AVP;client_port=65536-65537'],
    ['single port 65535 has no RTCP port', 'RTP/AVP;client_port=65535'],
    ['reversed range', 'RTP/AVP;client_port=5001-5000'],
    ['non-numeric port', 'RTP/AVP;client_port=abc'],
    ['signed port', 'RTP/AVP;client_port=-5000'],
    ['port list', 'RTP/AVP;client_port=5000-5001-5002'],
    ['channel above 255', 'RTP/AVP/TCP;interleaved=256-257'],
    ['single channel 255 has no RTCP channel', 'RTP/AVP/TCP;interleaved=255'],
    ['ttl above 255', 'RTP/AVP;multicast;ttl=256'],
    ['layers 0', 'RTP/AVP;layers=0'],
    ['ssrc longer than 8 hex digits', 'RTP/AVP;ssrc=123456789'],
    ['ssrc not hex', 'RTP/AVP;ssrc=XYZ'],
    ['empty ssrc', 'RTP/AVP;ssrc='],
    ['client_port without value', 'RTP/AVP;client_port'],
    ['source without value', 'RTP/AVP;source'],
    ['unicast with a value', 'RTP/AVP;unicast=1'],
    ['both unicast and multicast', 'RTP/AVP;unicast;multicast'],
    ['duplicate client_port', 'RTP/AVP;client_port=5000-5001;client_port=6000-6001'],
    ['unterminated quote', 'RTP/AVP;mode="PLAY'],
    ['empty mode', 'RTP/AVP;mode=""'],
    ['bad parameter name', 'RTP/AVP;x(y)=1'],
  ];
  for (const [name, input] of invalid) {
    it(`rejects ${name}: ${JSON.stringify(input)}`, () => {
      assert.throws(() => parseTransportHeader(input), { name: 'RtspHeaderError', status: 400 });
    });
  }

  it('rejects an unknown lower transport with 461 Unsupported Transport', () => {
    assert.throws(() => parseTransportHeader('RTP/AVP/SCTP;unicast'), {
      name: 'UnsupportedTransportError',
      status: 461,
      code: 'ERR_RTSP_UNSUPPORTED_TRANSPORT',
    });
  });

  it('throws the first alternative error when every alternative is invalid', () => {
    assert.throws(() => parseTransportHeader('RTP/AVP;client_port=70000,RTP/AVP/SCTP'), {
      name: 'RtspHeaderError',
      message: 'Transport: client_port out of range 0..65535: 70000',
    });
  });
});

describe('formatTransportHeader', () => {
  const cases: Array<[string, TransportSpec, string]> = [
    [
      'the canonical UDP response',
      spec({
        delivery: 'unicast',
        clientPort: [5000, 5001],
        serverPort: [6000, 6001],
        ssrc: 0x0a1b2c3d,
        mode: 'PLAY',
      }),
      'RTP/AVP;unicast;client_port=5000-5001;server_port=6000-6001;ssrc=0A1B2C3D;mode="PLAY"',
    ],
    [
      'TCP interleaved',
      spec({ lowerTransport: 'TCP', delivery: 'unicast', interleaved: [0, 1] }),
      'RTP/AVP/TCP;unicast;interleaved=0-1',
    ],
    ['ssrc padded to 8 digits', spec({ ssrc: 0x1f }), 'RTP/AVP;ssrc=0000001F'],
    [
      'parameters in RFC 2326 order whatever the object order',
      {
        extra: [
          ['x-flag', undefined],
          ['x-a', 'b'],
        ],
        mode: 'record',
        ssrc: 0xffffffff,
        serverPort: [7000, 7001],
        clientPort: [5000, 5001],
        port: [3456, 3457],
        layers: 1,
        ttl: 16,
        append: true,
        interleaved: [2, 3],
        source: '10.0.0.1',
        destination: '224.2.0.1',
        delivery: 'multicast',
        lowerTransport: 'UDP',
        profile: 'AVP',
        transport: 'RTP',
      },
      'RTP/AVP;multicast;destination=224.2.0.1;source=10.0.0.1;interleaved=2-3;append;ttl=16;layers=1;' +
        'port=3456-3457;client_port=5000-5001;server_port=7000-7001;ssrc=FFFFFFFF;mode="RECORD";x-flag;x-a=b',
    ],
    ['valueless destination', spec({ destination: '' }), 'RTP/AVP;destination'],
  ];
  for (const [name, input, expected] of cases) {
    it(`writes ${name}`, () => {
      assert.equal(formatTransportHeader(input), expected);
    });
  }

  it('rejects values that would break the header', () => {
    assert.throws(() => formatTransportHeader(spec({ clientPort: [5000, 70000] })), {
      name: 'RtspHeaderError',
    });
    assert.throws(() => formatTransportHeader(spec({ interleaved: [3, 2] })), { name: 'RtspHeaderError' });
    assert.throws(() => formatTransportHeader(spec({ ssrc: 2 ** 32 })), { name: 'RtspHeaderError' });
    assert.throws(() => formatTransportHeader(spec({ ttl: 1.5 })), { name: 'RtspHeaderError' });
    assert.throws(() => formatTransportHeader(spec({ destination: '1.2.3.4;ttl=1' })), {
      name: 'RtspHeaderError',
    });
    assert.throws(() => formatTransportHeader(spec({ source: '' })), { name: 'RtspHeaderError' });
    assert.throws(() => formatTransportHeader(spec({ mode: 'PLAY RECORD' })), { name: 'RtspHeaderError' });
    assert.throws(() => formatTransportHeader(spec({ extra: [['x', 'a,b']] })), { name: 'RtspHeaderError' });
    assert.throws(() => formatTransportHeader(spec({ extra: [['x', 'a\r\nb']] })), {
      name: 'RtspHeaderError',
    });
    assert.throws(() => formatTransportHeader(spec({ transport: 'R T P' })), { name: 'RtspHeaderError' });
  });
});

describe('Transport round trip', () => {
  const port = fc.integer({ min: 0, max: 65535 });
  const portPair = fc.tuple(port, port).map(([a, b]): [number, number] => (a <= b ? [a, b] : [b, a]));
  const channel = fc.integer({ min: 0, max: 255 });
  const channelPair = fc
    .tuple(channel, channel)
    .map(([a, b]): [number, number] => (a <= b ? [a, b] : [b, a]));
  const tokenChars = fc.constantFrom(...'abcXYZ019-_.!'.split(''));
  const token = fc.string({ unit: tokenChars, minLength: 1, maxLength: 8 });
  const address = fc.oneof(fc.ipV4(), fc.ipV6());
  const known = new Set([
    'unicast',
    'multicast',
    'destination',
    'source',
    'interleaved',
    'append',
    'ttl',
    'layers',
    'port',
    'client_port',
    'server_port',
    'ssrc',
    'mode',
  ]);
  const extraName = token.map((t) => `x-${t}`).filter((t) => !known.has(t.toLowerCase()));
  // Keys outside requiredKeys are sometimes absent (never present-but-undefined), like parse output.
  const specArb: fc.Arbitrary<TransportSpec> = fc.record(
    {
      transport: fc.constantFrom('RTP', 'RAW'),
      profile: fc.constantFrom('AVP', 'SAVP', 'AVPF'),
      lowerTransport: fc.constantFrom<'UDP' | 'TCP'>('UDP', 'TCP'),
      delivery: fc.constantFrom<'unicast' | 'multicast'>('unicast', 'multicast'),
      destination: fc.oneof(address, fc.constant('')),
      source: address,
      interleaved: channelPair,
      ttl: fc.integer({ min: 0, max: 255 }),
      layers: fc.integer({ min: 1, max: 16 }),
      port: portPair,
      clientPort: portPair,
      serverPort: portPair,
      ssrc: fc.integer({ min: 0, max: 0xffffffff }),
      mode: fc.constantFrom('PLAY', 'RECORD', 'PLAY,RECORD'),
      append: fc.constant(true),
      extra: fc.array(
        fc
          .tuple(extraName, fc.option(token, { nil: undefined }))
          .map(([n, v]): [string, string | undefined] => [n, v]),
        { maxLength: 3 },
      ),
    },
    { requiredKeys: ['transport', 'profile', 'lowerTransport', 'extra'], noNullPrototype: true },
  );

  it('parse(format(spec)) deep-equals spec', () => {
    fc.assert(
      fc.property(specArb, (s) => {
        assert.deepEqual(parseTransportHeader(formatTransportHeader(s)), [s]);
      }),
      { numRuns: 500 },
    );
  });

  it('a list of formatted alternatives parses back in order', () => {
    fc.assert(
      fc.property(fc.array(specArb, { minLength: 1, maxLength: 4 }), (specs) => {
        assert.deepEqual(parseTransportHeader(specs.map(formatTransportHeader).join(',')), specs);
      }),
      { numRuns: 200 },
    );
  });

  it('never throws anything but RtspError on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (input) => {
        try {
          parseTransportHeader(input);
        } catch (err) {
          assert.ok(err instanceof RtspError, `unexpected ${String(err)}`);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('parseTransportHeader limits', () => {
  it('takes 16 alternatives and refuses a 17th with a 400', () => {
    const one = 'RTP/AVP;unicast;client_port=5000-5001';
    assert.equal(parseTransportHeader(Array(16).fill(one).join(',')).length, 16);
    assert.throws(
      () => parseTransportHeader(Array(17).fill(one).join(',')),
      (err: unknown) =>
        err instanceof RtspError && err.status === 400 && /more than 16 alternatives/.test(err.message),
    );
    // 8 KB of empty-valued junk (4,000 bad alternatives, each an exception before) is refused at once.
    assert.throws(() => parseTransportHeader('=,'.repeat(4000)), /more than 16 alternatives/);
  });
});
