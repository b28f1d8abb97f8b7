/**
 * Writes the hand-made seed inputs into fuzz/corpus/<target>/ (named files; the fuzzer's own
 * additions are named by their SHA-1). Real traffic: RFC 2326's examples, what ffmpeg, GStreamer
 * and VLC (live555) send, answers from live555 and gst-rtsp-server, interleaved RTP/RTCP frames,
 * RTCP compounds, RTP packets (H.264, H.265, AAC, Opus, G.711) and SPSs from real encoders.
 * Re-run after editing:
 *
 *   node --import tsx fuzz/seeds.ts
 */
import { Buffer } from 'node:buffer';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AacPacketizer } from '../src/codecs/aac/packetizer.js';
import { G711Packetizer } from '../src/codecs/g711/packetizer.js';
import { splitAnnexB } from '../src/codecs/h264/annexb.js';
import { H264Packetizer } from '../src/codecs/h264/packetizer.js';
import { H265Packetizer } from '../src/codecs/h265/packetizer.js';
import { OpusPacketizer } from '../src/codecs/opus/packetizer.js';
import {
  buildByeCompound,
  buildReceiverReport,
  buildSenderReport,
  buildSrSdesCompound,
} from '../src/rtp/rtcp.js';
import { withRtpState } from '../test/helpers/rtp-state.js';

const FUZZ_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(FUZZ_DIR, '..');

const seeds: Record<string, Record<string, Buffer>> = {};
function seed(target: string, name: string, data: Buffer | string): void {
  seeds[target] ??= {};
  seeds[target][name] = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const crlf = (lines: string[]): string => `${lines.join('\r\n')}\r\n`;
/** A message: start line + headers, a blank line, and a body with a correct Content-Length. */
function msg(head: string[], body = ''): string {
  const h = body === '' ? head : [...head, `Content-Length: ${Buffer.byteLength(body)}`];
  return `${crlf(h)}\r\n${body}`;
}
function frame(channel: number, payload: Buffer): Buffer {
  const h = Buffer.from([0x24, channel, 0, 0]);
  h.writeUInt16BE(payload.length, 2);
  return Buffer.concat([h, payload]);
}

// ---------------------------------------------------------------------------------------------
// SDP bodies

/** What ffmpeg 5.1 writes for libx265 (see test/unit/codecs/h265/sdp.test.ts). */
const H265_FMTP =
  '96 sprop-vps=QAEMAf//AWAAAAMAkAAAAwAAAwBaugJA; ' +
  'sprop-sps=QgEBAWAAAAMAkAAAAwAAAwBaoAUCAeFlukpMLwFoCAAAAwAIAAADAMhA; sprop-pps=RAHAc8GJ';

const RFC2326_SDP = crlf([
  'v=0',
  'o=mhandley 2890844526 2890842807 IN IP4 126.16.64.4',
  's=SDP Seminar',
  'i=A Seminar on the session description protocol',
  'u=http://www.cs.ucl.ac.uk/staff/M.Handley/sdp.03.ps',
  'e=mjh@isi.edu (Mark Handley)',
  'c=IN IP4 224.2.17.12/127',
  't=2873397496 2873404696',
  'a=recvonly',
  'm=audio 3456 RTP/AVP 0',
  'm=video 2232 RTP/AVP 31',
  'm=whiteboard 32416 UDP WB',
  'a=orient:portrait',
]);
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
  'm=audio 0 RTP/AVP 8',
  'c=IN IP4 0.0.0.0',
  'a=control:stream=1',
]);
const SMOLRTSP_SDP = crlf([
  'v=0',
  'o=- 1700000000123456 1 IN IP4 192.168.1.10',
  's=Session streamed by smolrtsp',
  'c=IN IP4 0.0.0.0',
  't=0 0',
  'a=tool:smolrtsp 0.1.0',
  'a=type:broadcast',
  'a=control:*',
  'a=range:npt=now-',
  'm=video 0 RTP/AVP 96',
  'b=AS:2000',
  'a=rtpmap:96 H264/90000',
  'a=fmtp:96 packetization-mode=1;profile-level-id=42C01F;sprop-parameter-sets=Z0LAH9kAUAW7ARAAAAMAEAAAAwPI8YMkgA==,aMuMsg==',
  'a=control:trackID=0',
  'a=framerate:25',
]);
const IPV6_CAMERA_SDP =
  'v=0\no=admin 3946237201 3946237201 IN IP6 fe80::1\ns=Media Presentation\ne=NONE\nb=AS:5050\nt=0 0\n' +
  'a=control:rtsp://[fe80::1]:554/Streaming/Channels/101/\nm=video 0 RTP/AVP 96\nc=IN IP6 ::\nb=AS:5000\n' +
  'a=recvonly\na=x-dimensions:1920,1080\na=control:rtsp://[fe80::1]:554/Streaming/Channels/101/trackID=1\n' +
  'a=rtpmap:96 H264/90000\na=fmtp:96 profile-level-id=420029; packetization-mode=1; sprop-parameter-sets=Z01AKI2NQDwBE/LCAAAOEAACvyAI,aO44gA==\n';

const AUDIO_H265_SDP = crlf([
  'v=0',
  'o=- 0 0 IN IP4 127.0.0.1',
  's=No Name',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'a=tool:libavformat 60.16.100',
  'm=video 0 RTP/AVP 96',
  'a=rtpmap:96 H265/90000',
  `a=fmtp:${H265_FMTP}`,
  'a=control:streamid=0',
  'm=audio 0 RTP/AVP 97',
  'b=AS:128',
  'a=rtpmap:97 MPEG4-GENERIC/48000/2',
  'a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; config=1190',
  'a=control:streamid=1',
  'm=audio 0 RTP/AVP 111',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 sprop-stereo=1',
  'a=control:streamid=2',
  'm=audio 0 RTP/AVP 0',
  'a=control:streamid=3',
]);

for (const [name, sdp] of Object.entries({
  'ffmpeg-h265-aac-opus-pcmu': AUDIO_H265_SDP,
  'rfc2326-describe': RFC2326_SDP,
  live555: LIVE555_SDP,
  'gst-rtsp-server': GSTREAMER_SDP,
  smolrtsp: SMOLRTSP_SDP,
  'ipv6-camera-lf': IPV6_CAMERA_SDP,
})) {
  seed('sdp', name, sdp);
}

// ---------------------------------------------------------------------------------------------
// RTSP streams

const FFMPEG = 'User-Agent: Lavf60.16.100';
const GST = 'User-Agent: GStreamer/1.22.0';
const VLC = 'User-Agent: LibVLC/3.0.18 (LIVE555 Streaming Media v2016.11.28)';
const URL = 'rtsp://127.0.0.1:8554/live';

seed(
  'rtsp-parser',
  'rfc2326-options',
  msg(['OPTIONS * RTSP/1.0', 'CSeq: 1', 'Require: implicit-play', 'Proxy-Require: gzipped-messages']),
);
seed(
  'rtsp-parser',
  'rfc2326-options-response',
  msg(['RTSP/1.0 200 OK', 'CSeq: 1', 'Public: DESCRIBE, SETUP, TEARDOWN, PLAY, PAUSE']),
);
seed(
  'rtsp-parser',
  'rfc2326-describe',
  msg([
    'DESCRIBE rtsp://server.example.com/fizzle/foo RTSP/1.0',
    'CSeq: 312',
    'Accept: application/sdp, application/rtsl, application/mheg',
  ]),
);
seed(
  'rtsp-parser',
  'rfc2326-describe-response',
  msg(
    ['RTSP/1.0 200 OK', 'CSeq: 312', 'Date: 23 Jan 1997 15:35:06 GMT', 'Content-Type: application/sdp'],
    RFC2326_SDP,
  ),
);
seed(
  'rtsp-parser',
  'rfc2326-setup',
  msg([
    'SETUP rtsp://example.com/foo/bar/baz.rm RTSP/1.0',
    'CSeq: 302',
    'Transport: RTP/AVP;unicast;client_port=4588-4589',
  ]),
);
seed(
  'rtsp-parser',
  'rfc2326-setup-response',
  msg([
    'RTSP/1.0 200 OK',
    'CSeq: 302',
    'Date: 23 Jan 1997 15:35:06 GMT',
    'Session: 47112344',
    'Transport: RTP/AVP;unicast;client_port=4588-4589;server_port=6256-6257',
  ]),
);
// Section 12.39: a Transport list folded over two lines (obs-fold).
seed(
  'rtsp-parser',
  'rfc2326-setup-multicast-folded',
  msg([
    'SETUP rtsp://example.com/foo/bar/baz.rm RTSP/1.0',
    'CSeq: 303',
    'Transport: RTP/AVP;multicast;ttl=127;mode="PLAY",',
    '    RTP/AVP;unicast;client_port=3456-3457;mode="PLAY"',
  ]),
);
seed(
  'rtsp-parser',
  'rfc2326-play-smpte',
  msg([
    'PLAY rtsp://audio.example.com/twister.en RTSP/1.0',
    'CSeq: 833',
    'Session: 12345678',
    'Range: smpte=0:10:20-;time=19970123T153600Z',
  ]),
);
seed(
  'rtsp-parser',
  'rfc2326-play-clock',
  msg([
    'PLAY rtsp://audio.example.com/meeting.en RTSP/1.0',
    'CSeq: 835',
    'Session: 12345678',
    'Range: clock=19961108T142300Z-19961108T143520Z',
  ]),
);
seed(
  'rtsp-parser',
  'rfc2326-play-response',
  msg([
    'RTSP/1.0 200 OK',
    'CSeq: 835',
    'Session: 12345678',
    'Range: npt=0-',
    'RTP-Info: url=rtsp://foo.com/bar.avi/streamid=0;seq=45102,url=rtsp://foo.com/bar.avi/streamid=1;seq=30211',
  ]),
);
seed(
  'rtsp-parser',
  'rfc2326-pause-teardown',
  msg(['PAUSE rtsp://example.com/fizzle/foo RTSP/1.0', 'CSeq: 834', 'Session: 12345678']) +
    msg(['TEARDOWN rtsp://example.com/fizzle/foo RTSP/1.0', 'CSeq: 892', 'Session: 12345678']),
);
seed(
  'rtsp-parser',
  'rfc2326-get-parameter',
  msg(
    [
      'GET_PARAMETER rtsp://example.com/fizzle/foo RTSP/1.0',
      'CSeq: 431',
      'Content-Type: text/parameters',
      'Session: 12345678',
    ],
    'packets_received\r\njitter\r\n',
  ),
);
seed(
  'rtsp-parser',
  'rfc2326-set-parameter',
  msg(
    ['SET_PARAMETER rtsp://example.com/fizzle/foo RTSP/1.0', 'CSeq: 421', 'Content-type: text/parameters'],
    'barparam: barstuff\r\n',
  ),
);
seed(
  'rtsp-parser',
  'rfc2326-redirect',
  msg([
    'REDIRECT rtsp://example.com/fizzle/foo RTSP/1.0',
    'CSeq: 732',
    'Location: rtsp://bigserver.com:8001',
    'Range: clock=19960213T143205Z-',
  ]),
);
seed(
  'rtsp-parser',
  'rfc2326-announce-record',
  msg(
    ['ANNOUNCE rtsp://server.example.com/meeting RTSP/1.0', 'CSeq: 90', 'Content-Type: application/sdp'],
    RFC2326_SDP,
  ) +
    msg([
      'RECORD rtsp://example.com/meeting/audiotrack RTSP/1.0',
      'CSeq: 954',
      'Session: 12345678',
      'Conference: 128.16.64.19/32492374',
    ]),
);
seed(
  'rtsp-parser',
  'error-response',
  msg(['RTSP/1.0 454 Session Not Found', 'CSeq: 9']) +
    msg(['RTSP/1.0 461 Unsupported transport', 'CSeq: 10']),
);

seed(
  'rtsp-parser',
  'ffmpeg-udp-session',
  msg([`OPTIONS ${URL} RTSP/1.0`, 'CSeq: 1', FFMPEG]) +
    msg([`DESCRIBE ${URL} RTSP/1.0`, 'Accept: application/sdp', 'CSeq: 2', FFMPEG]) +
    msg([
      `SETUP ${URL}/trackID=0 RTSP/1.0`,
      'Transport: RTP/AVP/UDP;unicast;client_port=17240-17241',
      'CSeq: 3',
      FFMPEG,
    ]) +
    msg([`PLAY ${URL} RTSP/1.0`, 'Range: npt=0.000-', 'CSeq: 4', FFMPEG, 'Session: 1234ABCD']) +
    msg([`GET_PARAMETER ${URL} RTSP/1.0`, 'CSeq: 5', FFMPEG, 'Session: 1234ABCD']) +
    msg([`TEARDOWN ${URL} RTSP/1.0`, 'CSeq: 6', FFMPEG, 'Session: 1234ABCD']),
);
seed(
  'rtsp-parser',
  'ffmpeg-setup-tcp',
  msg([
    `SETUP ${URL}/trackID=0 RTSP/1.0`,
    'Transport: RTP/AVP/TCP;unicast;interleaved=0-1',
    'CSeq: 3',
    FFMPEG,
  ]),
);
seed(
  'rtsp-parser',
  'gstreamer-describe-setup',
  msg([
    `DESCRIBE ${URL} RTSP/1.0`,
    'CSeq: 2',
    GST,
    'Accept: application/sdp',
    'Date: Mon, 01 Jan 2024 00:00:00 GMT',
  ]) +
    msg([
      `SETUP ${URL}/stream=0 RTSP/1.0`,
      'CSeq: 3',
      GST,
      'Transport: RTP/AVP;unicast;client_port=50000-50001;mode="PLAY",RTP/AVP/TCP;unicast;interleaved=0-1;mode="PLAY"',
      'Date: Mon, 01 Jan 2024 00:00:00 GMT',
    ]) +
    msg([
      `PLAY ${URL}/ RTSP/1.0`,
      'CSeq: 4',
      GST,
      'Range: npt=0-',
      'Session: 8eb5ff1b;timeout=60',
      'Date: Mon, 01 Jan 2024 00:00:00 GMT',
    ]),
);
seed(
  'rtsp-parser',
  'vlc-keepalive',
  msg([`OPTIONS ${URL} RTSP/1.0`, 'CSeq: 2', VLC]) +
    msg([
      `SETUP ${URL}/trackID=0 RTSP/1.0`,
      'CSeq: 4',
      VLC,
      'Transport: RTP/AVP;unicast;client_port=52000-52001',
    ]) +
    msg([`PLAY ${URL}/ RTSP/1.0`, 'CSeq: 5', VLC, 'Session: 1234ABCD', 'Range: npt=0.000-']) +
    msg([`GET_PARAMETER ${URL}/ RTSP/1.0`, 'CSeq: 6', VLC, 'Session: 1234ABCD']),
);
seed(
  'rtsp-parser',
  'server-describe-response',
  msg(
    [
      'RTSP/1.0 200 OK',
      'CSeq: 2',
      'Content-Base: rtsp://127.0.0.1:8554/live/',
      'Content-Type: application/sdp',
      'Server: smolrtsp/0.1.0',
    ],
    SMOLRTSP_SDP,
  ),
);
seed(
  'rtsp-parser',
  'digest-auth',
  msg([
    'RTSP/1.0 401 Unauthorized',
    'CSeq: 2',
    'WWW-Authenticate: Digest realm="IP Camera", nonce="a1b2c3", stale="FALSE"',
  ]) +
    msg([
      'DESCRIBE rtsp://192.168.1.64:554/Streaming/Channels/101 RTSP/1.0',
      'CSeq: 3',
      'Authorization: Digest username="admin", realm="IP Camera", nonce="a1b2c3", uri="rtsp://192.168.1.64:554/Streaming/Channels/101", response="0123456789abcdef0123456789abcdef"',
      'Accept: application/sdp',
    ]),
);
seed('rtsp-parser', 'bare-lf-and-keepalive-crlf', '\r\n\r\nOPTIONS * RTSP/1.0\nCSeq: 7\n\n\r\n');
seed('rtsp-parser', 'unsupported-version', 'OPTIONS * RTSP/2.0\r\nCSeq: 1\r\n\r\n');

// Interleaved RTP (a real access unit, packetized) and RTCP after PLAY over TCP.
const annexB = readFileSync(join(ROOT, 'fixtures', 'sample-640x480-25fps.264'));
const nalus = splitAnnexB(annexB);
const packetizer = withRtpState(new H264Packetizer({ mtu: 200 }), {
  ssrc: 0x12345678,
  initialSequence: 65530,
});
const firstAu = nalus.slice(0, 4); // SPS, PPS, (SEI,) IDR slice...
const batch = packetizer.packetize(firstAu, 3000);
const sr = buildSrSdesCompound({
  ssrc: 0x12345678,
  cname: 'smolrtsp@127.0.0.1',
  ntpSeconds: 3913056000,
  ntpFraction: 0x80000000,
  rtpTimestamp: 3000,
  packetCount: 10,
  octetCount: 12000,
});
const rr = buildReceiverReport({
  ssrc: 0xdeadbeef,
  reportBlocks: [
    {
      ssrc: 0x12345678,
      fractionLost: 3,
      cumulativeLost: 5,
      highestSequence: 70000,
      jitter: 12,
      lastSr: 0x11223344,
      delaySinceLastSr: 65536,
    },
  ],
});
seed(
  'rtsp-parser',
  'interleaved-play',
  Buffer.concat([
    Buffer.from(
      msg([
        'RTSP/1.0 200 OK',
        'CSeq: 4',
        'Session: 1234ABCD',
        'RTP-Info: url=rtsp://127.0.0.1:8554/live/trackID=0;seq=65530;rtptime=3000',
      ]),
    ),
    batch.framed.subarray(0, 700),
    frame(1, sr),
    Buffer.from(msg([`GET_PARAMETER ${URL}/ RTSP/1.0`, 'CSeq: 6', 'Session: 1234ABCD'])),
    frame(1, rr),
  ]),
);
seed(
  'rtsp-parser',
  'interleaved-split-header',
  Buffer.concat([frame(0, batch.packets[0].subarray(0, 30)), Buffer.from([0x24, 0x01, 0x00])]),
);

// ---------------------------------------------------------------------------------------------
// Header values: the first byte picks the codec (see fuzz/targets/headers.ts for the order).

const headerSeeds: [number, string, string][] = [
  [0, 'transport-udp', 'RTP/AVP;unicast;client_port=4588-4589'],
  [0, 'transport-tcp', 'RTP/AVP/TCP;unicast;interleaved=0-1'],
  [
    0,
    'transport-list',
    'RTP/AVP;multicast;ttl=127;mode="PLAY",RTP/AVP;unicast;client_port=3456-3457;mode="PLAY"',
  ],
  [
    0,
    'transport-full',
    'RTP/AVP/UDP;unicast;destination=192.168.0.2;source=10.0.0.1;client_port=5000-5001;server_port=6000-6001;ssrc=0A1B2C3D;mode=play',
  ],
  [
    0,
    'transport-odd',
    'RTP/AVP;unicast;client_port=5000;x-dynamic-rate=1;append;layers=2;port=3000-3001, RTP/AVP/SCTP;unicast',
  ],
  [1, 'session-timeout', '1234ABCD;timeout=60'],
  [1, 'session-spaces', ' 47112344 ; timeout = 5 ; foo'],
  [2, 'range-npt', 'npt=0.000-'],
  [2, 'range-npt-hms', 'npt=00:01:02.5-00:02:00'],
  [2, 'range-now', 'npt=now-'],
  [2, 'range-end-only', 'npt=-20'],
  [2, 'range-clock', 'clock=19961108T142300Z-19961108T143520Z'],
  [2, 'range-smpte-time', 'smpte=0:10:20-;time=19970123T153600Z'],
  [
    3,
    'rtp-info-rfc',
    'url=rtsp://foo.com/bar.avi/streamid=0;seq=45102,url=rtsp://foo.com/bar.avi/streamid=1;seq=30211',
  ],
  [3, 'rtp-info-rtptime', 'url=rtsp://h/p/trackID=0;seq=1234;rtptime=5678;ssrc=0A1B2C3D'],
  [3, 'rtp-info-semicolon-url', 'url="rtsp://h/a;b=c/trackID=1";seq=9;'],
  [4, 'cseq', '312'],
  [4, 'cseq-max', '2147483647'],
  [5, 'require', 'implicit-play, play.basic,,com.example.x'],
  [6, 'public', 'OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER'],
  [7, 'url-userinfo', 'rtsp://user:p@ss@cam.local:554/live/ch1?channel=1&subtype=0#frag'],
  [7, 'url-ipv6', 'rtsps://[fe80::1%25eth0]:8554/a/b/../c/./d%20e'],
  [7, 'url-star', '*'],
  [7, 'url-path', '/live/cam/trackID=1'],
  [8, 'resolve-track', '/live/cam/trackID=0?x=1'],
  [8, 'resolve-query-track', 'rtsp://h/cam?channel=1/trackID=0'],
  [9, 'content-base-join', 'rtsp://h/cam?x=1\ntrackID=0'],
  [9, 'content-base-slashes', 'rtsp://h/live///\n/trackID=1'],
  [
    10,
    'fmtp-h264',
    '96 packetization-mode=1;profile-level-id=42C01E;sprop-parameter-sets=Z0LAHtkDxWhAAAADAEAAAAwDxYuS,aMuMsg==',
  ],
  [
    10,
    'fmtp-h264-high',
    'packetization-mode=1; sprop-parameter-sets=J2QAFKwrYKD9gIgAAAMACAAAAwHnQgAW4gAC3G173wdocKuA,KO48sA==; profile-level-id=640014',
  ],
  [
    11,
    'authorization-digest',
    'Digest username="admin", realm="IP Camera", nonce="a1b2c3", uri="rtsp://192.168.1.64:554/Streaming/Channels/101", response="0123456789abcdef0123456789abcdef"',
  ],
  [
    11,
    'authorization-digest-qop',
    'Digest username="u\\"q", realm="r", nonce="n", uri="/cam", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="c", response="ab", opaque="o"',
  ],
  [11, 'authorization-basic', 'Basic YWRtaW46cGFzcw=='],
  [
    12,
    'fmtp-aac',
    '97 streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1408',
  ],
  [13, 'fmtp-h265', H265_FMTP],
  [14, 'fmtp-opus', '111 minptime=10;useinbandfec=1;sprop-stereo=1;maxaveragebitrate=64000'],
];
for (const [selector, name, value] of headerSeeds) {
  seed('headers', name, Buffer.concat([Buffer.from([selector]), Buffer.from(value, 'utf8')]));
}

// ---------------------------------------------------------------------------------------------
// SPS: from the fixture and from real encoders (see test/unit/codecs/h264/sps.test.ts).

seed('sps', 'fixture', nalus.find((n) => (n[0] & 0x1f) === 7) ?? Buffer.alloc(0));
for (const [name, h] of Object.entries({
  'baseline-640x480': '6742c01ed900a03db011000003000100000300320f162e48',
  'high-1080p': '67640028acd940780227e5c044000003000400000300f03c60c658',
  'high-720-interlaced': '67640020acd940500bbf2e0220000003002000000c83e2c5b2c0',
  'high444-cif': '67f4000d919b282c12d80880000003008000001e078a14cb',
  'main-1918x1078': '674d4028eca03c0113d4d808800001f480005dc0078c18cb',
  'main-pal-sar': '674d401eeca05a09360820000003002000000641e2c5b2c0',
  'high10-360p': '676e001ea6cd940a02ff970110000003001000000303c0f162d960',
})) {
  seed('sps', name, hex(h));
}
for (const [name, h] of Object.entries({
  'h265-main-1080p': '42010101600000030090000003000003005aa0050201e165ba4a4c2f016808000003000800000300c840',
  'h265-main-720p': '420101016000000300900000030000030078a003c0801107cb965654a4c2f0168080000003008000000f04',
  'h265-444': '4201010408000003009e0800000300003c90014101e2cb2b349272bc05a02000000300200000030301',
})) {
  seed('sps', name, hex(h));
}

// ---------------------------------------------------------------------------------------------
// RTCP datagrams.

seed('rtcp', 'sr-sdes', sr);
seed('rtcp', 'rr', rr);
seed('rtcp', 'rr-empty', buildReceiverReport({ ssrc: 1 }));
seed(
  'rtcp',
  'sr',
  buildSenderReport({
    ssrc: 7,
    ntpSeconds: 1,
    ntpFraction: 2,
    rtpTimestamp: 3,
    packetCount: 4,
    octetCount: 5,
  }),
);
seed('rtcp', 'bye', buildByeCompound({ ssrc: 0xdeadbeef, cname: 'client@10.0.0.2', reason: 'teardown' }));
// ffmpeg's RR + SDES (CNAME) + an APP packet and a padded packet.
seed(
  'rtcp',
  'rr-sdes-app-padded',
  Buffer.concat([
    rr,
    hex('81ca0004 deadbeef 0108 6666 6d70 6567 0000'),
    hex('80cc0003 deadbeef 6e616d65 01020304'),
    hex('a0c90002 deadbeef 00000002'),
  ]),
);

// ---------------------------------------------------------------------------------------------
// RTP: length-prefixed packets of real access units (FU-A, single NAL) plus a STAP-A.

function lengthPrefixed(packets: Buffer[]): Buffer {
  return Buffer.concat(
    packets.flatMap((p) => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(p.length);
      return [len, p];
    }),
  );
}
const small = withRtpState(new H264Packetizer({ mtu: 120 }), { ssrc: 0x01020304, initialSequence: 65534 });
const au1 = small.packetize(nalus.slice(0, 4), 90000);
const au2 = small.packetize(nalus.slice(4, 5), 93600);
seed('rtp', 'fu-a-and-single', lengthPrefixed([...au1.packets.slice(0, 12), ...au2.packets.slice(0, 4)]));
const stapA = Buffer.concat([
  hex('80e00001 00015f90 01020304'),
  Buffer.from([0x18]),
  ...[nalus[0], nalus[1]].map((n) => {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(n.length);
    return Buffer.concat([len, n]);
  }),
]);
seed(
  'rtp',
  'stap-a',
  lengthPrefixed([
    stapA,
    hex('80600002 00015f90 01020304 0988'),
    hex('90e00003 00015f90 01020304 bede0001 10ff0000 65888000'),
  ]),
);
const vps = Buffer.from('QAEMAf//AWAAAAMAkAAAAwAAAwBaugJA', 'base64');
const sps265 = Buffer.from('QgEBAWAAAAMAkAAAAwAAAwBaoAUCAeFlukpMLwFoCAAAAwAIAAADAMhA', 'base64');
const pps265 = Buffer.from('RAHAc8GJ', 'base64');
const idr265 = Buffer.concat([hex('2601'), Buffer.alloc(300, 0xa5)]);
const h265 = withRtpState(new H265Packetizer({ mtu: 120 }), { ssrc: 0x0a0b0c0d, initialSequence: 100 });
seed('rtp', 'h265-ap-fu', lengthPrefixed(h265.packetize([vps, sps265, pps265, idr265], 3000).packets));
const aac = withRtpState(new AacPacketizer({ mtu: 200 }), { ssrc: 5, initialSequence: 7 });
seed(
  'rtp',
  'aac-hbr',
  lengthPrefixed(aac.packetize([Buffer.alloc(60, 0x21), Buffer.alloc(300, 0x42)], 1024).packets),
);
const opus = withRtpState(new OpusPacketizer(), { ssrc: 6, initialSequence: 9 });
seed('rtp', 'opus', lengthPrefixed(opus.packetize([hex('78 0102030405'), hex('fc ff fe')], 960).packets));
const g711 = withRtpState(new G711Packetizer({ law: 'alaw' }), { ssrc: 7, initialSequence: 1 });
seed('rtp', 'g711-alaw', lengthPrefixed(g711.packetize(Buffer.alloc(200, 0xd5), 0).packets.slice(0, 2)));
seed(
  'rtp',
  'padded-csrc',
  lengthPrefixed([hex('a2e00004 00016000 01020304 00000001 00000002 41 9a 00 00 03')]),
);

for (const [target, files] of Object.entries(seeds)) {
  const dir = join(FUZZ_DIR, 'corpus', target);
  mkdirSync(dir, { recursive: true });
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
  console.log(`${target}: ${Object.keys(files).length} seeds`);
}
