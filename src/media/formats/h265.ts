import { splitAnnexB } from '../../codecs/h264/annexb.js';
import { H265NalType, h265NalType } from '../../codecs/h265/annexb.js';
import { H265Packetizer } from '../../codecs/h265/packetizer.js';
import { h265FmtpFromParameterSets } from '../../codecs/h265/sdp.js';
import { parseH265Sps } from '../../codecs/h265/sps.js';
import type { SdpMediaDescription } from '../../protocol/sdp.js';
import type { RtpBatchWriter, RtpPacketBatch } from '../../rtp/batch.js';
import { SpsVideoInfo, type VideoInfo } from '../sps-video-info.js';
import type { TrackCodec } from '../track.js';

export interface H265TrackOptions {
  payloadType?: number;
  /** Largest RTP payload in bytes (default 1400): keeps packets under a 1500-byte Ethernet MTU. */
  mtu?: number;
  /** Send small NAL units together in aggregation packets (default true). */
  aggregate?: boolean;
  /** Out-of-band parameter sets, for sources that never send them in-band. All three or none. */
  vps?: Buffer;
  sps?: Buffer;
  pps?: Buffer;
}

/** H.265 (RFC 7798) for a track: packetizes, and describes itself from the stream's own VPS/SPS/PPS. */
export class H265TrackCodec implements TrackCodec {
  readonly encoding = 'H265';
  readonly clockRate = 90000;
  readonly kind = 'video' as const;
  readonly payloadType: number;
  private readonly packetizer: H265Packetizer;
  private readonly pictures = new SpsVideoInfo(parseH265Sps);

  constructor(options: H265TrackOptions = {}) {
    this.payloadType = options.payloadType ?? 96;
    this.packetizer = new H265Packetizer({
      mtu: options.mtu ?? 1400,
      aggregate: options.aggregate ?? true,
    });
    if (options.vps && options.sps && options.pps) {
      this.packetizer.setParameterSets(options.vps, options.sps, options.pps);
      this.pictures.note(options.sps);
    }
  }

  get ready(): boolean {
    return this.packetizer.parameterSets !== null;
  }

  /** Picture size and rate read from the SPS, once seen. */
  get videoInfo(): VideoInfo {
    return this.pictures.current;
  }

  toUnits(data: Buffer | Buffer[]): Buffer[] {
    return Array.isArray(data) ? data : splitAnnexB(data);
  }

  packetize(units: Buffer[], rtpTimestamp: number, writer: RtpBatchWriter): RtpPacketBatch | null {
    for (const nal of units) if (h265NalType(nal) === H265NalType.SPS) this.pictures.note(nal);
    if (units.length === 0) return null;
    return this.packetizer.packetize(units, rtpTimestamp, writer);
  }

  describe(): Omit<SdpMediaDescription, 'control'> {
    const ps = this.packetizer.parameterSets;
    let fmtp: string | undefined;
    if (ps) {
      try {
        fmtp = h265FmtpFromParameterSets(ps.vps, ps.sps, ps.pps);
      } catch {
        // An SPS this parser cannot read: the parameter sets alone still let clients decode.
        fmtp =
          `sprop-vps=${ps.vps.toString('base64')};sprop-sps=${ps.sps.toString('base64')};` +
          `sprop-pps=${ps.pps.toString('base64')}`;
      }
    }
    const attributes = this.pictures.sdpAttributes();
    return {
      kind: 'video',
      payloadType: this.payloadType,
      encoding: this.encoding,
      clockRate: this.clockRate,
      fmtp,
      attributes,
    };
  }
}
