import { RtspError } from '../protocol/errors.js';

/** A malformed RTP packet (bad version, header or padding running past the end, bad payload framing). */
export class RtpFormatError extends RtspError {
  constructor(message: string) {
    super(400, 'ERR_RTP_FORMAT', message);
  }
}

/** A malformed RTCP packet. The server ignores such packets; it never lets one crash a session. */
export class RtcpFormatError extends RtspError {
  constructor(message: string) {
    super(400, 'ERR_RTCP_FORMAT', message);
  }
}
