/**
 * The SDP reader (DESCRIBE answers and ANNOUNCE bodies from peers), then what a relay does with a
 * media: parse its fmtp and what it carries (H.264/H.265 SPS, AAC AudioSpecificConfig).
 *
 * Invariants: nothing but SdpError (an RtspError) and the codecs' MediaFormatError is thrown; when the writer can
 * write a parsed description (it may refuse with SdpError), the reader accepts that output and
 * writing it again gives the same text.
 */
import type { Buffer } from 'node:buffer';
import { parseAudioSpecificConfig } from '../../src/codecs/aac/config.js';
import { parseMpeg4GenericFmtp } from '../../src/codecs/aac/sdp.js';
import { parseH264Fmtp } from '../../src/codecs/h264/sdp.js';
import { parseSps } from '../../src/codecs/h264/sps.js';
import { parseH265Fmtp } from '../../src/codecs/h265/sdp.js';
import { parseH265Sps } from '../../src/codecs/h265/sps.js';
import { parseOpusFmtp } from '../../src/codecs/opus/sdp.js';
import { parseSdp, writeSdp } from '../../src/protocol/sdp.js';
import { codecTyped, type FuzzTarget, InvariantViolation, typed } from '../engine.js';

export const sdpTarget: FuzzTarget = {
  name: 'sdp',
  description:
    'parseSdp, then the fmtp (and SPS / AudioSpecificConfig) of H.264, H.265, AAC and Opus media; write/read fixed point',
  maxLen: 2048,
  dictionary: [
    'v=0\r\n',
    'v=0',
    'v=1\r\n',
    'o=- 0 0 IN IP4 127.0.0.1\r\n',
    'o=',
    ' IN IP4 ',
    ' IN IP6 ::1',
    's=',
    's= \r\n',
    'i=',
    'c=IN IP4 0.0.0.0\r\n',
    'c=IN IP6 ::\r\n',
    'c=',
    't=0 0\r\n',
    'a=tool:',
    'a=type:broadcast\r\n',
    'a=control:*\r\n',
    'a=control:',
    'a=range:npt=now-\r\n',
    'a=range:',
    'm=video 0 RTP/AVP 96\r\n',
    'm=audio 0 RTP/AVP 0\r\n',
    'm=application 0 RTP/AVP 107\r\n',
    'm=',
    ' RTP/AVP ',
    'b=AS:500\r\n',
    'b=AS:',
    'b=TIAS:',
    'a=rtpmap:96 H264/90000\r\n',
    'a=rtpmap:',
    ' H264/90000',
    '/90000',
    '/2',
    '/',
    'a=fmtp:96 ',
    'packetization-mode=1',
    ';profile-level-id=42C01E',
    ';sprop-parameter-sets=',
    'Z0LAHtkDxWhAAAADAEAAAAwDxYuS,aMuMsg==',
    'Z2QAKKzZQHgCJ+XARAAAAwAEAAADAMg8YMZY',
    'a=control:trackID=0\r\n',
    'a=recvonly\r\n',
    'a=sendonly',
    'a=framerate:25',
    'a=x-dimensions:640,480',
    'MPEG4-GENERIC/48000/2',
    'H265/90000',
    'opus/48000/2',
    'a=fmtp:97 sprop-vps=QAEMAf//AWAAAAMAkAAAAwAAAwBalZgJ;sprop-sps=QgEBAWAAAAMAkAAAAwAAAwBaoAUCAeFlukpMLwFoCAAAAwAIAAADAMhA',
    'a=fmtp:98 sprop-stereo=1',
    'PCMA/8000',
    'a=fmtp:97 streamtype=5;config=1408',
    '96',
    '97',
    '127',
    '128',
    '0',
    '8',
    '33',
    '\r\n',
    '\n',
    '\r',
    ' ',
    ':',
    '=',
    '\x00',
    '\xe2\x80\xa8',
    '\xc3\xa9',
  ],
  run(data: Buffer) {
    const desc = typed(() => parseSdp(data.toString('utf8')));
    if (desc === undefined) return;
    for (const media of desc.media) {
      const fmtp = media.fmtp;
      if (fmtp === undefined) continue;
      switch (media.encoding.toUpperCase()) {
        case 'H264': {
          const params = codecTyped(() => parseH264Fmtp(fmtp));
          for (const nal of params?.parameterSets ?? []) {
            if ((nal[0] & 0x1f) === 7) codecTyped(() => parseSps(nal));
          }
          break;
        }
        case 'H265': {
          const params = codecTyped(() => parseH265Fmtp(fmtp));
          for (const nal of params?.sps ?? []) codecTyped(() => parseH265Sps(nal));
          break;
        }
        case 'MPEG4-GENERIC': {
          const config = codecTyped(() => parseMpeg4GenericFmtp(fmtp))?.config;
          if (config) codecTyped(() => parseAudioSpecificConfig(config));
          break;
        }
        case 'OPUS':
          codecTyped(() => parseOpusFmtp(fmtp));
          break;
      }
    }
    const written = typed(() => writeSdp(desc));
    if (written === undefined) return;
    let again: string;
    try {
      again = writeSdp(parseSdp(written));
    } catch (err) {
      throw new InvariantViolation(`own SDP output not readable/writable: ${String(err)}\n${written}`);
    }
    if (again !== written) {
      throw new InvariantViolation(
        `SDP write/read not stable:\n${JSON.stringify(written)}\n${JSON.stringify(again)}`,
      );
    }
  },
};
