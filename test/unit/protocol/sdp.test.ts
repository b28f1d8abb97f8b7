import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RtspError } from '../../../src/protocol/errors.js';
import {
  parseSdp,
  type SdpAttribute,
  type SdpMediaDescription,
  type SdpSessionDescription,
  writeSdp,
} from '../../../src/protocol/sdp.js';

const crlf = (lines: string[]) => `${lines.join('\r\n')}\r\n`;

const H264_FMTP =
  'packetization-mode=1;profile-level-id=42C01F;sprop-parameter-sets=Z0LAH9kAUAW7ARAAAAMAEAAAAwPI8YMkgA==,aMuMsg==';

/** What the server will describe for a live H.264 + AAC camera. */
const liveCamera: SdpSessionDescription = {
  sessionName: 'Session streamed by smolrtsp',
  origin: { sessionId: '1700000000123456', sessionVersion: '1', address: '192.168.1.10' },
  info: 'cam',
  tool: 'smolrtsp 0.1.0',
  control: '*',
  range: 'npt=now-',
  media: [
    {
      kind: 'video',
      payloadType: 96,
      encoding: 'H264',
      clockRate: 90000,
      fmtp: H264_FMTP,
      control: 'trackID=0',
      bandwidthKbps: 2000,
      attributes: [['framerate', '25']],
    },
    {
      kind: 'audio',
      payloadType: 97,
      encoding: 'MPEG4-GENERIC',
      clockRate: 16000,
      channels: 1,
      fmtp: 'streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1408',
      control: 'trackID=1',
    },
  ],
};

describe('writeSdp', () => {
  it('writes a live H.264 + AAC description in the live555 / gst-rtsp-server layout', () => {
    assert.equal(
      writeSdp(liveCamera),
      crlf([
        'v=0',
        'o=- 1700000000123456 1 IN IP4 192.168.1.10',
        's=Session streamed by smolrtsp',
        'i=cam',
        'c=IN IP4 0.0.0.0',
        't=0 0',
        'a=tool:smolrtsp 0.1.0',
        'a=type:broadcast',
        'a=control:*',
        'a=range:npt=now-',
        'm=video 0 RTP/AVP 96',
        'b=AS:2000',
        'a=rtpmap:96 H264/90000',
        `a=fmtp:96 ${H264_FMTP}`,
        'a=control:trackID=0',
        'a=framerate:25',
        'm=audio 0 RTP/AVP 97',
        'a=rtpmap:97 MPEG4-GENERIC/16000/1',
        'a=fmtp:97 streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1408',
        'a=control:trackID=1',
      ]),
    );
  });

  it('writes the minimal form: no i=, no tool, default c=, s= with a space for an empty name', () => {
    const desc: SdpSessionDescription = {
      sessionName: '',
      origin: { username: 'smol', sessionId: '0', sessionVersion: '0', address: '::1' },
      connectionAddress: '::',
      type: '',
      media: [{ kind: 'audio', port: 5004, payloadType: 8, encoding: 'PCMA', clockRate: 8000, control: '*' }],
    };
    assert.equal(
      writeSdp(desc),
      crlf([
        'v=0',
        'o=smol 0 0 IN IP6 ::1',
        's= ',
        'c=IN IP6 ::',
        't=0 0',
        'm=audio 5004 RTP/AVP 8',
        'a=rtpmap:8 PCMA/8000',
        'a=control:*',
      ]),
    );
  });

  it('writes session-level extra attributes after range and flags without a value', () => {
    const text = writeSdp({
      sessionName: 'x',
      origin: { sessionId: '1', sessionVersion: '2', address: '10.0.0.1' },
      type: 'recvonly-test',
      range: 'npt=0-',
      attributes: [
        ['x-qt-text-nam', 'x'],
        ['recvonly', undefined],
      ],
      media: [],
    });
    assert.equal(
      text,
      crlf([
        'v=0',
        'o=- 1 2 IN IP4 10.0.0.1',
        's=x',
        'c=IN IP4 0.0.0.0',
        't=0 0',
        'a=type:recvonly-test',
        'a=range:npt=0-',
        'a=x-qt-text-nam:x',
        'a=recvonly',
      ]),
    );
  });

  const media = liveCamera.media[0];
  const broken: Array<[string, SdpSessionDescription]> = [
    ['a CRLF in the session name', { ...liveCamera, sessionName: 'a\r\na=evil' }],
    ['a U+2028 in info', { ...liveCamera, info: 'a\u2028b' }],
    ['a non-numeric session id', { ...liveCamera, origin: { ...liveCamera.origin, sessionId: 'abc' } }],
    [
      'a space in the origin address',
      { ...liveCamera, origin: { ...liveCamera.origin, address: '1.2.3.4 x' } },
    ],
    ['a payload type above 127', { ...liveCamera, media: [{ ...media, payloadType: 128 }] }],
    ['a fractional clock rate', { ...liveCamera, media: [{ ...media, clockRate: 90000.5 }] }],
    ['zero channels', { ...liveCamera, media: [{ ...media, channels: 0 }] }],
    ['a port above 65535', { ...liveCamera, media: [{ ...media, port: 65536 }] }],
    ['a negative bandwidth', { ...liveCamera, media: [{ ...media, bandwidthKbps: -1 }] }],
    ['an empty control', { ...liveCamera, media: [{ ...media, control: '' }] }],
    ['a control with a space', { ...liveCamera, media: [{ ...media, control: 'track 1' }] }],
    ['an encoding with a slash', { ...liveCamera, media: [{ ...media, encoding: 'H264/90000' }] }],
    ['a media kind with a space', { ...liveCamera, media: [{ ...media, kind: 'vid eo' }] }],
    ['a newline in fmtp', { ...liveCamera, media: [{ ...media, fmtp: 'a=1\nb=2' }] }],
    ['an attribute name with a colon', { ...liveCamera, attributes: [['a:b', 'c']] }],
  ];
  for (const [name, desc] of broken) {
    it(`refuses ${name} with SdpError 500`, () => {
      assert.throws(() => writeSdp(desc), { name: 'SdpError', status: 500, code: 'ERR_SDP_UNWRITABLE' });
    });
  }
});

/** live555 testOnDemandRTSPServer-style DESCRIBE answer (H.264 ES + AAC), CRLF line endings. */
const LIVE555_SDP = crlf([
  'v=0',
  'o=- 1702548476442233 1 IN IP4 192.168.1.10',
  's=Session streamed by "testOnDemandRTSPServer"',
  'i=h264ESVideoTest',
  't=0 0',
  'a=tool:LIVE555 Streaming Media v2023.11.07',
  'a=type:broadcast',
  'a=control:*',
  'a=range:npt=0-',
  'a=x-qt-text-nam:Session streamed by "testOnDemandRTSPServer"',
  'a=x-qt-text-inf:h264ESVideoTest',
  'm=video 0 RTP/AVP 96',
  'c=IN IP4 0.0.0.0',
  'b=AS:500',
  'a=rtpmap:96 H264/90000',
  'a=fmtp:96 packetization-mode=1;profile-level-id=42C01E;sprop-parameter-sets=Z0LAHtkDxWhAAAADAEAAAAwDxYuS,aMuMsg==',
  'a=control:track1',
  'm=audio 0 RTP/AVP 97',
  'c=IN IP4 0.0.0.0',
  'b=AS:64',
  'a=rtpmap:97 MPEG4-GENERIC/16000/1',
  'a=fmtp:97 streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1408',
  'a=control:track2',
]);

/** gst-rtsp-server test-launch DESCRIBE answer (x264enc + AAC payloader). */
const GSTREAMER_SDP = crlf([
  'v=0',
  'o=- 17618512456233465749 1 IN IP4 127.0.0.1',
  's=Session streamed with GStreamer',
  'i=rtsp-server',
  't=0 0',
  'a=tool:GStreamer',
  'a=type:broadcast',
  'a=control:*',
  'a=range:npt=now-',
  'm=video 0 RTP/AVP 96',
  'c=IN IP4 0.0.0.0',
  'b=AS:3000',
  'a=rtpmap:96 H264/90000',
  'a=framerate:30',
  'a=fmtp:96 packetization-mode=1;sprop-parameter-sets=J2QAFKwrYKD9gIgAAAMACAAAAwHnQgAW4gAC3G173wdocKuA,KO48sA==;profile-level-id=640014;level-asymmetry-allowed=1',
  'a=control:stream=0',
  'a=ts-refclk:local',
  'a=mediaclk:sender',
  'a=ssrc:4060724388 cname:user1571168269@host-d3352119',
  'm=audio 0 RTP/AVP 97',
  'c=IN IP4 0.0.0.0',
  'a=rtpmap:97 MPEG4-GENERIC/16000/1',
  'a=fmtp:97 streamtype=5;profile-level-id=2;mode=AAC-hbr;config=1408;sizelength=13;indexlength=3;indexdeltalength=3',
  'a=control:stream=1',
  'a=ts-refclk:local',
  'a=mediaclk:sender',
]);

/** ffmpeg `-f rtsp` ANNOUNCE body (spaces after ';' in fmtp, media-level b=, no a=type). */
const FFMPEG_ANNOUNCE_SDP = [
  'v=0',
  'o=- 0 0 IN IP4 127.0.0.1',
  's=No Name',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'a=tool:libavformat 60.16.100',
  'm=video 0 RTP/AVP 96',
  'b=AS:2000',
  'a=rtpmap:96 H264/90000',
  'a=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z2QAHqzZQKAv+XARAAADAAEAAAMAMg8WLZY=,aOvjyyLA; profile-level-id=64001E',
  'a=control:streamid=0',
  'm=audio 0 RTP/AVP 97',
  'b=AS:128',
  'a=rtpmap:97 MPEG4-GENERIC/44100/2',
  'a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; config=121056E500',
  'a=control:streamid=1',
  '',
].join('\n');

describe('parseSdp', () => {
  it('parses a live555 SDP', () => {
    assert.deepEqual(parseSdp(LIVE555_SDP), {
      sessionName: 'Session streamed by "testOnDemandRTSPServer"',
      origin: { sessionId: '1702548476442233', sessionVersion: '1', address: '192.168.1.10' },
      connectionAddress: '0.0.0.0',
      info: 'h264ESVideoTest',
      tool: 'LIVE555 Streaming Media v2023.11.07',
      type: 'broadcast',
      control: '*',
      range: 'npt=0-',
      attributes: [
        ['x-qt-text-nam', 'Session streamed by "testOnDemandRTSPServer"'],
        ['x-qt-text-inf', 'h264ESVideoTest'],
      ],
      media: [
        {
          kind: 'video',
          port: 0,
          payloadType: 96,
          encoding: 'H264',
          clockRate: 90000,
          fmtp: 'packetization-mode=1;profile-level-id=42C01E;sprop-parameter-sets=Z0LAHtkDxWhAAAADAEAAAAwDxYuS,aMuMsg==',
          control: 'track1',
          bandwidthKbps: 500,
        },
        {
          kind: 'audio',
          port: 0,
          payloadType: 97,
          encoding: 'MPEG4-GENERIC',
          clockRate: 16000,
          channels: 1,
          fmtp: 'streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1408',
          control: 'track2',
          bandwidthKbps: 64,
        },
      ],
    });
  });

  it('parses a GStreamer SDP, keeping a 20-digit session id and unknown attributes verbatim', () => {
    const desc = parseSdp(GSTREAMER_SDP);
    assert.deepEqual(desc.origin, {
      sessionId: '17618512456233465749',
      sessionVersion: '1',
      address: '127.0.0.1',
    });
    assert.equal(desc.sessionName, 'Session streamed with GStreamer');
    assert.equal(desc.range, 'npt=now-');
    assert.equal(desc.attributes, undefined);
    assert.deepEqual(desc.media[0], {
      kind: 'video',
      port: 0,
      payloadType: 96,
      encoding: 'H264',
      clockRate: 90000,
      fmtp: 'packetization-mode=1;sprop-parameter-sets=J2QAFKwrYKD9gIgAAAMACAAAAwHnQgAW4gAC3G173wdocKuA,KO48sA==;profile-level-id=640014;level-asymmetry-allowed=1',
      control: 'stream=0',
      bandwidthKbps: 3000,
      attributes: [
        ['framerate', '30'],
        ['ts-refclk', 'local'],
        ['mediaclk', 'sender'],
        ['ssrc', '4060724388 cname:user1571168269@host-d3352119'],
      ],
    });
    assert.deepEqual(desc.media[1], {
      kind: 'audio',
      port: 0,
      payloadType: 97,
      encoding: 'MPEG4-GENERIC',
      clockRate: 16000,
      channels: 1,
      fmtp: 'streamtype=5;profile-level-id=2;mode=AAC-hbr;config=1408;sizelength=13;indexlength=3;indexdeltalength=3',
      control: 'stream=1',
      attributes: [
        ['ts-refclk', 'local'],
        ['mediaclk', 'sender'],
      ],
    });
  });

  it('keeps config=1408 a string inside the raw fmtp', () => {
    for (const text of [LIVE555_SDP, GSTREAMER_SDP]) {
      const fmtp = parseSdp(text).media[1].fmtp;
      assert.equal(typeof fmtp, 'string');
      assert.match(fmtp ?? '', /(^|;)config=1408(;|$)/);
    }
  });

  it('parses an ffmpeg ANNOUNCE body with LF line endings', () => {
    const desc = parseSdp(FFMPEG_ANNOUNCE_SDP);
    assert.equal(desc.sessionName, 'No Name');
    assert.equal(desc.connectionAddress, '127.0.0.1');
    assert.equal(desc.tool, 'libavformat 60.16.100');
    // No a=type: read as '' so that writing it back leaves the line out.
    assert.equal(desc.type, '');
    assert.equal(desc.control, undefined);
    assert.deepEqual(
      desc.media.map((m) => [m.encoding, m.clockRate, m.channels, m.control, m.bandwidthKbps, m.fmtp]),
      [
        [
          'H264',
          90000,
          undefined,
          'streamid=0',
          2000,
          'packetization-mode=1; sprop-parameter-sets=Z2QAHqzZQKAv+XARAAADAAEAAAMAMg8WLZY=,aOvjyyLA; profile-level-id=64001E',
        ],
        [
          'MPEG4-GENERIC',
          44100,
          2,
          'streamid=1',
          128,
          'profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; config=121056E500',
        ],
      ],
    );
  });

  it('keeps an all-digit fmtp and a numeric control as strings', () => {
    const desc = parseSdp(
      crlf([
        'v=0',
        'o=- 1 1 IN IP4 0.0.0.0',
        's=123',
        't=0 0',
        'm=audio 0 RTP/AVP 101',
        'a=rtpmap:101 telephone-event/8000',
        'a=fmtp:101 0-15',
        'a=control:1',
        'm=audio 0 RTP/AVP 98',
        'a=rtpmap:98 X-TEST/8000',
        'a=fmtp:98 0123',
        'a=control:2',
      ]),
    );
    assert.equal(desc.sessionName, '123');
    assert.deepEqual(
      desc.media.map((m) => [m.fmtp, m.control]),
      [
        ['0-15', '1'],
        ['0123', '2'],
      ],
    );
  });

  it('uses the RFC 3551 static mapping when a static payload type has no rtpmap', () => {
    const desc = parseSdp(
      crlf([
        'v=0',
        'o=- 0 0 IN IP4 192.168.1.1',
        's=No Title',
        'm=audio 0 RTP/AVP 0 8',
        'a=control:streamid=0',
        'm=video 0 RTP/AVP 26',
        'a=control:streamid=1',
      ]),
    );
    assert.deepEqual(
      desc.media.map((m) => [m.payloadType, m.encoding, m.clockRate, m.channels]),
      [
        [0, 'PCMU', 8000, 1],
        [26, 'JPEG', 90000, undefined],
      ],
    );
  });

  it('describes the first payload type of a multi-format m= line', () => {
    const desc = parseSdp(
      crlf([
        'v=0',
        'o=- 0 0 IN IP4 10.0.0.1',
        's=x',
        'm=video 0 RTP/AVP 97 96',
        'a=rtpmap:96 H264/90000',
        'a=fmtp:96 packetization-mode=1',
        'a=rtpmap:97 H265/90000',
        'a=fmtp:97 sprop-vps=QAEMAf//',
      ]),
    );
    assert.equal(desc.media[0].encoding, 'H265');
    assert.equal(desc.media[0].fmtp, 'sprop-vps=QAEMAf//');
    assert.equal(desc.media[0].control, '');
    assert.equal(desc.media[0].attributes, undefined);
  });

  it('treats an empty rtpmap channel field as absent', () => {
    const desc = parseSdp(
      crlf(['v=0', 'o=- 0 0 IN IP4 1.2.3.4', 's=x', 'm=video 0 RTP/AVP 96', 'a=rtpmap:96 H264/90000/']),
    );
    assert.equal(desc.media[0].clockRate, 90000);
    assert.equal(desc.media[0].channels, undefined);
  });

  it('keeps a username and an odd non-numeric session id from the o= line', () => {
    const desc = parseSdp(
      crlf(['v=0', 'o=StreamingServer 3433055887a 16845 IN IP6 fe80::1', 's=av0_1', 't=0 0']),
    );
    assert.deepEqual(desc.origin, {
      username: 'StreamingServer',
      sessionId: '3433055887a',
      sessionVersion: '16845',
      address: 'fe80::1',
    });
    assert.deepEqual(desc.media, []);
  });

  const invalid: Array<[string, string]> = [
    ['empty text', ''],
    ['no v= line', crlf(['o=- 0 0 IN IP4 1.2.3.4', 's=x'])],
    ['v=1', crlf(['v=1', 'o=- 0 0 IN IP4 1.2.3.4', 's=x'])],
    ['no o= line', crlf(['v=0', 's=x', 't=0 0'])],
    ['short o= line', crlf(['v=0', 'o=- 0 0 IN IP4', 's=x'])],
    [
      'dynamic payload type without rtpmap',
      crlf(['v=0', 'o=- 0 0 IN IP4 1.2.3.4', 's=x', 'm=video 0 RTP/AVP 96']),
    ],
    ['m= line without formats', crlf(['v=0', 'o=- 0 0 IN IP4 1.2.3.4', 's=x', 'm=video 0 RTP/AVP'])],
    ['non-numeric format', crlf(['v=0', 'o=- 0 0 IN IP4 1.2.3.4', 's=x', 'm=application 0 RTP/AVP abc'])],
    ['payload type 200', crlf(['v=0', 'o=- 0 0 IN IP4 1.2.3.4', 's=x', 'm=video 0 RTP/AVP 200'])],
    ['m= with a port count', crlf(['v=0', 'o=- 0 0 IN IP4 1.2.3.4', 's=x', 'm=video 5000/2 RTP/AVP 96'])],
    [
      'rtpmap without clock rate',
      crlf(['v=0', 'o=- 0 0 IN IP4 1.2.3.4', 's=x', 'm=video 0 RTP/AVP 96', 'a=rtpmap:96 H264']),
    ],
    [
      'rtpmap with bad channels',
      crlf(['v=0', 'o=- 0 0 IN IP4 1.2.3.4', 's=x', 'm=audio 0 RTP/AVP 96', 'a=rtpmap:96 opus/48000/x']),
    ],
  ];
  for (const [name, text] of invalid) {
    it(`rejects ${name} with SdpError 400`, () => {
      assert.throws(() => parseSdp(text), { name: 'SdpError', status: 400, code: 'ERR_SDP_INVALID' });
    });
  }

  it('never throws anything but RtspError on mangled SDP', () => {
    const lines = LIVE555_SDP.split('\r\n');
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom(...lines), fc.string({ maxLength: 20 })), { maxLength: 25 }),
        (picked) => {
          try {
            parseSdp(['v=0', ...picked].join('\r\n'));
          } catch (err) {
            assert.ok(err instanceof RtspError, `unexpected ${String(err)}`);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('SDP round trip', () => {
  it('parse(write(liveCamera)) gives back the description plus the written defaults', () => {
    assert.deepEqual(parseSdp(writeSdp(liveCamera)), {
      ...liveCamera,
      connectionAddress: '0.0.0.0',
      type: 'broadcast',
      media: liveCamera.media.map((m) => ({ ...m, port: 0 })),
    });
  });

  it('write(parse(live555)) keeps every line that matters', () => {
    const rewritten = writeSdp(parseSdp(LIVE555_SDP));
    assert.deepEqual(parseSdp(rewritten), parseSdp(LIVE555_SDP));
  });

  const tokenChars = fc.constantFrom(...'abcXYZ0189-_.'.split(''));
  const token = fc.string({ unit: tokenChars, minLength: 1, maxLength: 10 });
  const freeText = fc
    .string({ unit: fc.constantFrom(...'ab Z9:=;,"/-'.split('')), maxLength: 20 })
    .map((t) => t.trim());
  const nonEmptyText = freeText.filter((t) => t !== '');
  const digitString = fc.oneof(
    fc.bigInt({ min: 0n, max: 2n ** 64n }).map(String),
    fc.integer({ min: 0, max: 1000 }).map(String),
  );
  const address = fc.oneof(fc.ipV4(), fc.ipV6());
  const attribute: fc.Arbitrary<SdpAttribute> = fc
    .tuple(
      token.filter((n) => !['rtpmap', 'fmtp', 'control', 'tool', 'type', 'range'].includes(n)),
      fc.option(freeText, { nil: undefined }),
    )
    .map(([n, v]): SdpAttribute => [n, v]);
  const mediaArb: fc.Arbitrary<SdpMediaDescription> = fc.record(
    {
      kind: fc.constantFrom('video', 'audio', 'application', 'text'),
      port: fc.integer({ min: 0, max: 65535 }),
      payloadType: fc.integer({ min: 0, max: 127 }),
      encoding: token,
      clockRate: fc.integer({ min: 1, max: 0xffffffff }),
      channels: fc.integer({ min: 1, max: 8 }),
      fmtp: nonEmptyText,
      control: fc.oneof(
        token,
        fc.constant('*'),
        token.map((t) => `rtsp://h/cam/${t}`),
      ),
      bandwidthKbps: fc.integer({ min: 0, max: 10_000_000 }),
      attributes: fc.array(attribute, { minLength: 1, maxLength: 3 }),
    },
    {
      requiredKeys: ['kind', 'port', 'payloadType', 'encoding', 'clockRate', 'control'],
      noNullPrototype: true,
    },
  );
  const sessionArb: fc.Arbitrary<SdpSessionDescription> = fc.record(
    {
      sessionName: freeText,
      origin: fc.record(
        {
          username: token.filter((u) => u !== '-'),
          sessionId: digitString,
          sessionVersion: digitString,
          address,
        },
        { requiredKeys: ['sessionId', 'sessionVersion', 'address'], noNullPrototype: true },
      ),
      connectionAddress: address,
      info: freeText,
      tool: nonEmptyText,
      type: token,
      control: fc.constantFrom('*', 'rtsp://h/cam/'),
      range: fc.constantFrom('npt=now-', 'npt=0-', 'npt=0.000-10.000'),
      attributes: fc.array(attribute, { minLength: 1, maxLength: 3 }),
      media: fc.array(mediaArb, { maxLength: 3 }),
    },
    { requiredKeys: ['sessionName', 'origin', 'connectionAddress', 'type', 'media'], noNullPrototype: true },
  );

  it('parse(write(desc)) deep-equals desc for any writable description', () => {
    fc.assert(
      fc.property(sessionArb, (desc) => {
        assert.deepEqual(parseSdp(writeSdp(desc)), desc);
      }),
      { numRuns: 300 },
    );
  });
});
