/**
 * The generic path: an application-defined payload format. Either the application turns a frame
 * into RTP payloads itself (`packetize`), or it pushes ready payloads: one Buffer per RTP packet,
 * an array being one access unit (one timestamp, marker on the last packet).
 */

import {
  MAX_RTP_PACKET_SIZE,
  packetizePayloads,
  type RtpBatchWriter,
  type RtpPacketBatch,
} from '../../rtp/batch.js';
import { RTP_HEADER_SIZE } from '../../rtp/packet.js';
import { MediaFormatError } from '../errors.js';

export interface GenericPacketizerOptions {
  /** Largest RTP payload handed to `packetize` as its `mtu` argument (default 1400). */
  mtu?: number;
  /** Frame → RTP payloads of one access unit. Without it, what is pushed are the payloads. */
  packetize?: (frame: Buffer, mtu: number) => Buffer[];
  /** Whether a frame (or, without `packetize`, the first payload) starts a random access point. Default: always. */
  keyframe?: (frame: Buffer) => boolean;
}

export class GenericPacketizer {
  private readonly mtu: number;
  private readonly split: ((frame: Buffer, mtu: number) => Buffer[]) | undefined;
  private readonly isKeyframe: ((frame: Buffer) => boolean) | undefined;

  constructor(options: GenericPacketizerOptions = {}) {
    const mtu = options.mtu ?? 1400;
    if (!Number.isInteger(mtu) || mtu < 1 || mtu > MAX_RTP_PACKET_SIZE - RTP_HEADER_SIZE) {
      throw new RangeError(`mtu must be 1..65523 payload bytes, got ${mtu}`);
    }
    this.mtu = mtu;
    this.split = options.packetize;
    this.isKeyframe = options.keyframe;
  }

  /** True when a `packetize` function turns frames into payloads. */
  get framed(): boolean {
    return this.split !== undefined;
  }

  /**
   * One access unit at `rtpTimestamp`: with a `packetize` function, `units[0]` is the frame (several
   * units are joined into one); without, every unit is one RTP payload. Throws MediaFormatError
   * when a payload does not fit an RTP packet.
   */
  packetize(units: readonly Buffer[], rtpTimestamp: number, writer: RtpBatchWriter): RtpPacketBatch {
    let payloads: readonly Buffer[];
    let keyframeOf: Buffer | undefined;
    if (this.split !== undefined) {
      const frame = units.length === 1 ? units[0] : Buffer.concat(units);
      payloads = this.split(frame, this.mtu);
      if (!Array.isArray(payloads)) throw new MediaFormatError('packetize() must return an array of Buffers');
      keyframeOf = frame;
    } else {
      payloads = units;
      keyframeOf = units[0];
    }
    for (const payload of payloads) {
      if (!(payload instanceof Uint8Array)) throw new MediaFormatError('RTP payloads must be Buffers');
      if (payload.length + RTP_HEADER_SIZE > MAX_RTP_PACKET_SIZE) {
        throw new MediaFormatError(`RTP payload of ${payload.length} bytes does not fit an RTP packet`);
      }
    }
    const keyframe =
      this.isKeyframe === undefined || keyframeOf === undefined ? true : this.isKeyframe(keyframeOf);
    return packetizePayloads(writer, payloads, rtpTimestamp, keyframe);
  }
}
