/**
 * SDP media section → track codec: what a publisher announces (ANNOUNCE) and what an upstream server
 * describes to a relay (DESCRIBE) become the same track codecs, with the depacketizer for their RTP.
 */
import { AacDepacketizer } from '../codecs/aac/depacketizer.js';
import { parseMpeg4GenericFmtp } from '../codecs/aac/sdp.js';
import { G711Depacketizer } from '../codecs/g711/depacketizer.js';
import { H264Depacketizer } from '../codecs/h264/depacketizer.js';
import { parseH264Fmtp } from '../codecs/h264/sdp.js';
import { H265Depacketizer } from '../codecs/h265/depacketizer.js';
import { parseH265Fmtp } from '../codecs/h265/sdp.js';
import { MjpegDepacketizer } from '../codecs/mjpeg/depacketizer.js';
import { OpusDepacketizer } from '../codecs/opus/depacketizer.js';
import { parseOpusFmtp } from '../codecs/opus/sdp.js';
import { RtspError } from '../protocol/errors.js';
import type { SdpMediaDescription } from '../protocol/sdp.js';
import { AacTrackCodec } from './formats/aac.js';
import { G711TrackCodec } from './formats/g711.js';
import { H264TrackCodec } from './formats/h264.js';
import { H265TrackCodec } from './formats/h265.js';
import { MjpegTrackCodec } from './formats/mjpeg.js';
import { OpusTrackCodec } from './formats/opus.js';
import type { TrackCodec } from './track.js';

/** One access unit out of a depacketizer: the units to push and the RTP timestamp. */
export interface Unpacked {
  units: Buffer[];
  timestamp: number;
}

/** A track made from an announced media section: its codec and how its RTP is taken apart. */
export interface AnnouncedTrack {
  codec: TrackCodec;
  /** The payload type the publisher sends (its SDP's). */
  payloadType: number;
  clockRate: number;
  /** The media section's control, as the publisher will name it in SETUP. */
  control: string;
  depacketizer(): (packet: Buffer) => Unpacked | null;
}

/** 415 for a format we cannot take, naming it. */
function unsupported(media: SdpMediaDescription, why?: string): RtspError {
  return new RtspError(
    415,
    'ERR_RTSP_UNSUPPORTED_MEDIA',
    `cannot publish ${media.kind} ${media.encoding || `payload type ${media.payloadType}`}${why ? `: ${why}` : ''}`,
  );
}

/** Maps one announced media section to a track codec and depacketizer; throws 415 for what we cannot take. */
export function announcedTrack(media: SdpMediaDescription): AnnouncedTrack {
  const encoding = media.encoding.toUpperCase();
  const fmtp = media.fmtp ?? '';
  const base = { payloadType: media.payloadType, clockRate: media.clockRate, control: media.control };
  switch (encoding) {
    case 'H264': {
      const f = parseH264Fmtp(fmtp);
      if (f.packetizationMode > 1) throw unsupported(media, 'packetization-mode 2');
      const codec = new H264TrackCodec(f.sps && f.pps ? { sps: f.sps, pps: f.pps } : {});
      return {
        ...base,
        codec,
        depacketizer: () => {
          const d = new H264Depacketizer();
          return (p) => {
            const au = d.push(p);
            return au && { units: au.nalus, timestamp: au.timestamp };
          };
        },
      };
    }
    case 'H265': {
      const f = parseH265Fmtp(fmtp);
      if (f.maxDonDiff > 0) throw unsupported(media, 'DONL (sprop-max-don-diff)');
      const ps = f.vps[0] && f.sps[0] && f.pps[0] ? { vps: f.vps[0], sps: f.sps[0], pps: f.pps[0] } : {};
      return {
        ...base,
        codec: new H265TrackCodec(ps),
        depacketizer: () => {
          const d = new H265Depacketizer();
          return (p) => {
            const au = d.push(p);
            return au && { units: au.nalus, timestamp: au.timestamp };
          };
        },
      };
    }
    case 'MPEG4-GENERIC': {
      const f = parseMpeg4GenericFmtp(fmtp);
      if (!f.config) throw unsupported(media, 'no config in fmtp');
      const config = f.config;
      const codec = new AacTrackCodec({ input: 'raw', config });
      return {
        ...base,
        codec,
        depacketizer: () => {
          const d = new AacDepacketizer({ layout: f });
          return (p) => {
            const aus = d.push(p);
            return aus.length > 0 ? { units: aus.map((a) => a.data), timestamp: aus[0].timestamp } : null;
          };
        },
      };
    }
    case 'OPUS': {
      const f = parseOpusFmtp(fmtp);
      return {
        ...base,
        codec: new OpusTrackCodec({ channels: f.spropStereo ? 2 : 1 }),
        depacketizer: () => {
          const d = new OpusDepacketizer();
          return (p) => {
            const frame = d.push(p);
            return frame && { units: [frame.data], timestamp: frame.timestamp };
          };
        },
      };
    }
    case 'PCMU':
    case 'PCMA': {
      if (media.clockRate !== 8000) throw unsupported(media, 'clock rate other than 8000');
      return {
        ...base,
        codec: new G711TrackCodec({ law: encoding === 'PCMU' ? 'mulaw' : 'alaw' }),
        depacketizer: () => {
          const d = new G711Depacketizer();
          return (p) => {
            const chunk = d.push(p);
            return chunk && { units: [chunk.samples], timestamp: chunk.timestamp };
          };
        },
      };
    }
    case 'JPEG':
      return {
        ...base,
        codec: new MjpegTrackCodec({}),
        depacketizer: () => {
          const d = new MjpegDepacketizer();
          return (p) => {
            const pic = d.push(p);
            return pic && { units: [pic.jpeg], timestamp: pic.timestamp };
          };
        },
      };
    default:
      throw unsupported(media);
  }
}
