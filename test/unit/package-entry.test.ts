// What the package entry offers on purpose: every format's TrackCodec, the depacketizers (the
// receiving side relays, recording and RTSP clients build on), the RTP sender and the codec errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as smolrtsp from '../../src/index.js';

describe('package entry', () => {
  it('exports one TrackCodec per format, the depacketizers, RtpSender, MediaFormatError and the RTSP client', () => {
    const names = [
      'H264TrackCodec',
      'H265TrackCodec',
      'AacTrackCodec',
      'OpusTrackCodec',
      'G711TrackCodec',
      'MjpegTrackCodec',
      'GenericTrackCodec',
      'H264Depacketizer',
      'H265Depacketizer',
      'AacDepacketizer',
      'OpusDepacketizer',
      'G711Depacketizer',
      'MjpegDepacketizer',
      'RtpSender',
      'packetizePayloads',
      'MediaFormatError',
      'PictureOrderError',
      'RtpFormatError',
      'RtspClient',
      'RtspClientError',
      'RtspResponseError',
    ];
    const exported = smolrtsp as unknown as Record<string, unknown>;
    assert.deepEqual(
      names.filter((n) => typeof exported[n] !== 'function'),
      [],
    );
  });
});
