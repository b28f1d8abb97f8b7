/** Errors of the RTSP client: a refused request carries the server's status; the rest say what broke. */
import { RtspError } from '../protocol/errors.js';
import { withoutUserInfo } from '../protocol/url.js';

/** The server answered a request with a non-2xx status (401, 404, 454, ...): `status` is that status. */
export class RtspResponseError extends RtspError {
  /** The request the server refused. */
  readonly method: string;
  /** Its URL, without any user:password. */
  readonly url: string;

  constructor(method: string, url: string, status: number, reason: string) {
    const shown = withoutUserInfo(url);
    super(status, `ERR_RTSP_CLIENT_${status}`, `${method} ${shown}: ${status} ${reason}`, {
      reasonPhrase: reason,
    });
    this.method = method;
    this.url = shown;
  }
}

/**
 * The connection failed, closed or timed out, no UDP port pair could be bound, or the server's answer
 * could not be used. `status` is 0: no RTSP status was received; `code` says which
 * (`ERR_RTSP_CLIENT_CONNECT`, `_CLOSED`, `_TIMEOUT`, `_UDP`, `_PROTOCOL`).
 */
export class RtspClientError extends RtspError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(0, code, message, options);
  }
}
