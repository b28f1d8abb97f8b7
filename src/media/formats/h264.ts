import { nalType, splitAnnexB } from '../../codecs/h264/annexb.js';
import { H264Packetizer } from '../../codecs/h264/packetizer.js';
import { h264FmtpFromParameterSets } from '../../codecs/h264/sdp.js';
import { parseSps } from '../../codecs/h264/sps.js';
import type { SdpMediaDescription } from '../../protocol/sdp.js';
import type { RtpBatchWriter, RtpPacketBatch } from '../../rtp/batch.js';
import { SpsVideoInfo, type VideoInfo } from '../sps-video-info.js';
import type { TrackCodec } from '../track.js';

export interface H264TrackOptions {
  payloadType?: number;
  /** Largest RTP payload in bytes (default 1400): keeps packets under a 1500-byte Ethernet MTU. */
  mtu?: number;
  /** Out-of-band parameter sets, for sources that never send them in-band. */
  sps?: Buffer;
  pps?: Buffer;
}

/** H.264 (RFC 6184) for a track: packetizes, and describes itself from the stream's own SPS/PPS. */
export class H264TrackCodec implements TrackCodec {
  readonly encoding = 'H264';
  readonly clockRate = 90000;
  readonly kind = 'video' as const;
  readonly payloadType: number;
  private readonly packetizer: H264Packetizer;
  private readonly pictures = new SpsVideoInfo(parseSps);

  constructor(options: H264TrackOptions = {}) {
    this.payloadType = options.payloadType ?? 96;
    this.packetizer = new H264Packetizer({
      mtu: options.mtu ?? 1400,
    });
    if (options.sps && options.pps) {
      this.packetizer.setParameterSets(options.sps, options.pps);
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
    for (const nal of units) if (nal.length > 0 && nalType(nal) === 7) this.pictures.note(nal);
    if (units.length === 0) return null;
    return this.packetizer.packetize(units, rtpTimestamp, writer);
  }

  describe(): Omit<SdpMediaDescription, 'control'> {
    const ps = this.packetizer.parameterSets;
    const fmtp = ps ? h264FmtpFromParameterSets(ps.sps, ps.pps) : 'packetization-mode=1';
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
