/**
 * Opus over RTP (RFC 7587): one Opus packet per RTP packet, as is, on a 48 kHz clock. Several
 * consecutive Opus packets pushed together become one batch, each packet timed by the duration its
 * TOC byte gives. The marker is set on the first packet of a talkspurt (RFC 3551 4.1): the first
 * packet sent, and any packet that does not follow on from the previous one's end (after DTX or a
 * gap in the source).
 */

import {
  MAX_RTP_PACKET_SIZE,
  packetizePayloads,
  type RtpBatchWriter,
  type RtpPacketBatch,
} from '../../rtp/batch.js';
import { RTP_HEADER_SIZE } from '../../rtp/packet.js';
import { MediaFormatError } from '../errors.js';
import { patchAudioBatch } from '../generic/rtp-patch.js';
import { opusPacketSamples } from './packet.js';

export class OpusPacketizer {
  /** Where the next packet would start if the audio goes on without a gap; undefined before the first. */
  private expectedTimestamp: number | undefined;

  /** RTP timestamp right after the last packetized packet (undefined before the first). */
  get nextTimestamp(): number | undefined {
    return this.expectedTimestamp;
  }

  /**
   * One RTP packet per Opus packet; the first at `rtpTimestamp`, the next ones after the previous
   * one's duration. Throws MediaFormatError for a malformed TOC or a packet too big for RTP.
   */
  packetize(packets: readonly Buffer[], rtpTimestamp: number, writer: RtpBatchWriter): RtpPacketBatch {
    const timestamps = new Array<number>(packets.length);
    let ts = rtpTimestamp >>> 0;
    for (let i = 0; i < packets.length; i++) {
      const packet = packets[i];
      if (packet.length + RTP_HEADER_SIZE > MAX_RTP_PACKET_SIZE) {
        throw new MediaFormatError(`Opus packet of ${packet.length} bytes is too big for RTP`);
      }
      timestamps[i] = ts;
      ts = (ts + opusPacketSamples(packet)) >>> 0;
    }
    const batch = packetizePayloads(writer, packets, rtpTimestamp, true);
    if (packets.length > 0) {
      patchAudioBatch(batch, timestamps, this.expectedTimestamp !== rtpTimestamp >>> 0);
      this.expectedTimestamp = ts;
    }
    return batch;
  }
}
