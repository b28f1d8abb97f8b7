/**
 * Per-packet fix-ups of a finished batch. RtpBatchWriter gives every packet of a batch the same
 * timestamp and puts the marker on the last one, which is right for video. Audio formats that put
 * several consecutive frames in one batch need later timestamps on later packets, and their own
 * marker rules (RFC 3551 4.1 talkspurts, RFC 3640 complete access units). The packets are views of
 * `framed`, so patching them patches what TCP clients get too; it must happen before delivery.
 */
import type { RtpPacketBatch } from '../../rtp/batch.js';

/** Sets the RTP timestamp (uint32) of one packet of a batch. */
export function setPacketTimestamp(packet: Uint8Array, timestamp: number): void {
  const ts = timestamp >>> 0;
  packet[4] = ts >>> 24;
  packet[5] = (ts >>> 16) & 0xff;
  packet[6] = (ts >>> 8) & 0xff;
  packet[7] = ts & 0xff;
}

/** Sets or clears the marker bit of one packet of a batch. */
export function setPacketMarker(packet: Uint8Array, marker: boolean): void {
  packet[1] = marker ? packet[1] | 0x80 : packet[1] & 0x7f;
}

/**
 * Audio with one frame per packet (G.711, Opus): packet i gets `timestamps[i]`; only the first
 * packet may carry the marker, set when `talkspurt` says the batch starts one (RFC 3551 4.1).
 */
export function patchAudioBatch(
  batch: RtpPacketBatch,
  timestamps: readonly number[],
  talkspurt: boolean,
): void {
  const packets = batch.packets;
  for (let i = 0; i < packets.length; i++) {
    const packet = packets[i];
    if (i > 0) setPacketTimestamp(packet, timestamps[i]);
    setPacketMarker(packet, talkspurt && i === 0);
  }
}
