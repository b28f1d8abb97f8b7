// What an announced SDP becomes (track codecs per format, 415 for what cannot be taken), and how a
// published track's RTP is checked: wrong payload type, SSRC and garbage counted and dropped, pts
// following the RTP timestamp across its wrap.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Stream } from '../../../src/media/stream.js';
import { RtspError } from '../../../src/protocol/errors.js';
import { parseSdp } from '../../../src/protocol/sdp.js';
import { announcedTrack, emptyIngestStats, TrackIngest } from '../../../src/server/publish.js';
import { sampleParameterSets } from '../../helpers/synthetic.js';

function media(lines: string[]) {
  const text = ['v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=x', 't=0 0', ...lines, ''].join('\r\n');
  return parseSdp(text).media[0];
}

function rtp(payloadType: number, seq: number, timestamp: number, payload: Buffer, ssrc = 7): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = 0x80 | payloadType;
  h.writeUInt16BE(seq, 2);
  h.writeUInt32BE(timestamp >>> 0, 4);
  h.writeUInt32BE(ssrc, 8);
  return Buffer.concat([h, payload]);
}

describe('publish: announced SDP to track codecs', () => {
  const { sps, pps } = sampleParameterSets();
  const cases: Array<[string, string[], string, number, boolean]> = [
    [
      'H.264 with sprop-parameter-sets',
      [
        'm=video 0 RTP/AVP 96',
        'a=rtpmap:96 H264/90000',
        `a=fmtp:96 packetization-mode=1;sprop-parameter-sets=${sps.toString('base64')},${pps.toString('base64')}`,
        'a=control:streamid=0',
      ],
      'H264',
      90000,
      true,
    ],
    [
      'H.264 without parameter sets',
      ['m=video 0 RTP/AVP 96', 'a=rtpmap:96 H264/90000'],
      'H264',
      90000,
      false,
    ],
    [
      'AAC (mpeg4-generic)',
      [
        'm=audio 0 RTP/AVP 97',
        'a=rtpmap:97 MPEG4-GENERIC/48000/2',
        'a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1190',
      ],
      'mpeg4-generic',
      48000,
      true,
    ],
    ['Opus', ['m=audio 0 RTP/AVP 111', 'a=rtpmap:111 opus/48000/2'], 'opus', 48000, true],
    ['PCMU (static)', ['m=audio 0 RTP/AVP 0'], 'PCMU', 8000, true],
    ['PCMA', ['m=audio 0 RTP/AVP 8', 'a=rtpmap:8 PCMA/8000'], 'PCMA', 8000, true],
    ['MJPEG (static)', ['m=video 0 RTP/AVP 26'], 'JPEG', 90000, true],
    ['H.265', ['m=video 0 RTP/AVP 96', 'a=rtpmap:96 H265/90000'], 'H265', 90000, false],
  ];
  for (const [name, lines, encoding, clockRate, ready] of cases) {
    it(name, () => {
      const m = media(lines);
      const a = announcedTrack(m);
      assert.equal(a.codec.encoding, encoding);
      assert.equal(a.codec.clockRate, clockRate);
      assert.equal(a.codec.ready, ready);
      assert.equal(a.payloadType, m.payloadType);
    });
  }

  for (const [name, lines] of [
    ['VP8', ['m=video 0 RTP/AVP 96', 'a=rtpmap:96 VP8/90000']],
    ['AAC without config', ['m=audio 0 RTP/AVP 97', 'a=rtpmap:97 MPEG4-GENERIC/48000/2']],
    [
      'H.264 interleaved mode',
      ['m=video 0 RTP/AVP 96', 'a=rtpmap:96 H264/90000', 'a=fmtp:96 packetization-mode=2'],
    ],
  ] as const) {
    it(`${name}: 415 naming it`, () => {
      assert.throws(
        () => announcedTrack(media([...lines])),
        (err: unknown) =>
          err instanceof RtspError && err.status === 415 && /cannot publish/.test(err.message),
      );
    });
  }
});

describe('publish: a published track takes only what fits', () => {
  it('counts and drops a wrong payload type, a second SSRC, garbage and oversized packets; pushes the rest', () => {
    const stream = new Stream('/p', {});
    const a = announcedTrack(media(['m=audio 0 RTP/AVP 0']));
    const track = stream.addTrack(a.codec);
    const stats = emptyIngestStats();
    const ingest = new TrackIngest(track, a, stats);
    const pushed: number[] = [];
    track.subscribe({ deliver: (batch) => pushed.push(batch.packets.length) });
    const samples = Buffer.alloc(160, 0xff);
    ingest.receive(rtp(0, 1, 0, samples));
    ingest.receive(rtp(8, 2, 160, samples));
    ingest.receive(rtp(0, 3, 320, samples, 99));
    ingest.receive(Buffer.from([1, 2, 3]));
    ingest.receive(Buffer.alloc(0x10000 + 12, 0x80));
    ingest.receive(rtp(0, 4, 480, samples));
    assert.deepEqual(stats, {
      packets: 2,
      accessUnits: 2,
      wrongPayloadType: 1,
      wrongSsrc: 1,
      malformed: 1,
      oversized: 1,
    });
    assert.equal(pushed.length, 2);
  });

  it('pts follows the RTP timestamp across its 32-bit wrap', () => {
    const stream = new Stream('/p', {});
    const a = announcedTrack(media(['m=audio 0 RTP/AVP 0']));
    const track = stream.addTrack(a.codec);
    const ptsSeen: number[] = [];
    const push = track.pushUnits.bind(track);
    track.pushUnits = (units, options) => {
      ptsSeen.push(options?.pts ?? Number.NaN);
      push(units, options);
    };
    const ingest = new TrackIngest(track, a, emptyIngestStats());
    const samples = Buffer.alloc(160, 0xff);
    ingest.receive(rtp(0, 1, 0xffffff60, samples));
    ingest.receive(rtp(0, 2, 0x00000000, samples));
    ingest.receive(rtp(0, 3, 0x000000a0, samples));
    assert.deepEqual(
      ptsSeen.slice(1).map((p) => Math.round(p - ptsSeen[0])),
      [20_000, 40_000],
    );
  });
});
