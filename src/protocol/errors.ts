/**
 * Errors that map to an RTSP status. Every error the protocol and server layers throw on purpose is
 * an RtspError (or a subclass), so the dispatcher can answer with `status` and the fuzz tests can
 * tell our errors from bugs. Codec errors are their own (src/codecs/errors.ts).
 */
export class RtspError extends Error {
  /** RTSP status code to answer with (400, 454, 461, ...). */
  readonly status: number;
  /** Stable machine-readable code, e.g. `ERR_RTSP_SESSION_NOT_FOUND`. */
  readonly code: string;
  /** When true the connection is closed after the answer (stream can no longer be trusted). */
  readonly fatal: boolean;
  /** Reason phrase for the status line; the status's usual one when absent. */
  readonly reasonPhrase: string | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    options?: { fatal?: boolean; cause?: unknown; reasonPhrase?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.fatal = options?.fatal ?? false;
    this.reasonPhrase = options?.reasonPhrase;
  }
}

/** Malformed request line, header or body framing: 400, connection closed (framing is lost). */
export class RtspParseError extends RtspError {
  constructor(message: string, code = 'ERR_RTSP_PARSE', status = 400) {
    super(status, code, message, { fatal: true });
  }
}

/** A header value we could not understand: 400, connection kept. */
export class RtspHeaderError extends RtspError {
  constructor(
    header: string,
    message: string,
    code = 'ERR_RTSP_BAD_HEADER',
    options?: { reasonPhrase?: string },
  ) {
    super(400, code, `${header}: ${message}`, options);
  }
}

/**
 * Right Digest credentials whose `uri` names something other than the request's target. RFC 2617
 * section 3.2.2.5 (and RFC 7616 section 3.4.6) says 400; the reason phrase tells a client's author
 * why, since the credentials themselves were right (the operator sees it as a `refused` event).
 */
export class DigestUriMismatchError extends RtspHeaderError {
  constructor(message: string) {
    super('Authorization', message, 'ERR_RTSP_DIGEST_URI_MISMATCH', {
      reasonPhrase: 'Digest URI Mismatch',
    });
  }
}
