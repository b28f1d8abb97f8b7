/**
 * RTP fixed header (RFC 3550 section 5.1): reading with full validation, writing the 12-byte form.
 */
import { RtpFormatError } from './errors.js';

export const RTP_VERSION = 2;
/** Size of the fixed header with no CSRCs and no extension: the only form this server sends. */
export const RTP_HEADER_SIZE = 12;

export interface RtpHeader {
  version: number;
  padding: boolean;
  extension: boolean;
  csrcCount: number;
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  /** Offset of the payload within the buffer: after CSRCs and the header extension. */
  payloadOffset: number;
  /** Payload length with the padding (if any) removed. */
  payloadLength: number;
}

export interface RtpHeaderFields {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
}

/**
 * Reads and validates an RTP header. Throws RtpFormatError when the version is not 2 or when the
 * CSRC list, header extension or padding claim more bytes than the packet has.
 */
export function readRtpHeader(buf: Uint8Array): RtpHeader {
  const length = buf.length;
  if (length < RTP_HEADER_SIZE) throw new RtpFormatError(`RTP packet too short: ${length} bytes`);
  const b0 = buf[0];
  const version = b0 >>> 6;
  if (version !== RTP_VERSION) throw new RtpFormatError(`RTP version ${version}, expected 2`);
  const padding = (b0 & 0x20) !== 0;
  const extension = (b0 & 0x10) !== 0;
  const csrcCount = b0 & 0x0f;
  let payloadOffset = RTP_HEADER_SIZE + 4 * csrcCount;
  if (payloadOffset > length)
    throw new RtpFormatError(`RTP CSRC list (${csrcCount}) runs past the packet end`);
  if (extension) {
    if (payloadOffset + 4 > length) throw new RtpFormatError('RTP header extension runs past the packet end');
    // Extension length counts 32-bit words after the 4-byte extension header.
    const words = (buf[payloadOffset + 2] << 8) | buf[payloadOffset + 3];
    payloadOffset += 4 + 4 * words;
    if (payloadOffset > length) throw new RtpFormatError('RTP header extension runs past the packet end');
  }
  let payloadLength = length - payloadOffset;
  if (padding) {
    // The last octet counts the padding octets, itself included, so it is at least 1.
    const padLength = buf[length - 1];
    if (padLength === 0 || padLength > payloadLength) {
      throw new RtpFormatError(`RTP padding length ${padLength} invalid for ${payloadLength} payload bytes`);
    }
    payloadLength -= padLength;
  }
  return {
    version,
    padding,
    extension,
    csrcCount,
    marker: (buf[1] & 0x80) !== 0,
    payloadType: buf[1] & 0x7f,
    sequenceNumber: (buf[2] << 8) | buf[3],
    timestamp: ((buf[4] << 24) | (buf[5] << 16) | (buf[6] << 8) | buf[7]) >>> 0,
    ssrc: ((buf[8] << 24) | (buf[9] << 16) | (buf[10] << 8) | buf[11]) >>> 0,
    payloadOffset,
    payloadLength,
  };
}

/**
 * Writes a 12-byte RTP header (V=2, no padding, no extension, no CSRC) at `offset`.
 * Returns the offset just after the header.
 */
export function writeRtpHeader(target: Uint8Array, offset: number, fields: RtpHeaderFields): number {
  return writeRtpHeaderValues(
    target,
    offset,
    fields.marker,
    fields.payloadType,
    fields.sequenceNumber,
    fields.timestamp,
    fields.ssrc,
  );
}

/** Positional form of writeRtpHeader for hot paths: no fields object per packet. */
export function writeRtpHeaderValues(
  target: Uint8Array,
  offset: number,
  marker: boolean,
  payloadType: number,
  sequenceNumber: number,
  timestamp: number,
  ssrc: number,
): number {
  if (offset < 0 || offset + RTP_HEADER_SIZE > target.length) {
    throw new RangeError(`RTP header does not fit at offset ${offset} of ${target.length} bytes`);
  }
  target[offset] = 0x80;
  target[offset + 1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  target[offset + 2] = (sequenceNumber >>> 8) & 0xff;
  target[offset + 3] = sequenceNumber & 0xff;
  target[offset + 4] = timestamp >>> 24;
  target[offset + 5] = (timestamp >>> 16) & 0xff;
  target[offset + 6] = (timestamp >>> 8) & 0xff;
  target[offset + 7] = timestamp & 0xff;
  target[offset + 8] = ssrc >>> 24;
  target[offset + 9] = (ssrc >>> 16) & 0xff;
  target[offset + 10] = (ssrc >>> 8) & 0xff;
  target[offset + 11] = ssrc & 0xff;
  return offset + RTP_HEADER_SIZE;
}
