/**
 * Errors of the media formats: bytes a codec cannot read or carry. They are not tied to a request;
 * where one reaches a request (DESCRIBE of a stream whose SDP cannot be built) the server maps it to
 * a status. `fuzz/` tells these (our errors) from bugs by their class.
 */

/** Malformed media payload or parameter set (e.g. a truncated SPS). */
export class MediaFormatError extends Error {
  /** Stable machine-readable code. */
  readonly code: string = 'ERR_MEDIA_FORMAT';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
  }
}

/**
 * A video stream whose presentation order cannot be derived from its slice headers (e.g. H.264 POC
 * type 1). `what` says what the stream uses, as in "uses H.264 POC type 1".
 */
export class PictureOrderError extends MediaFormatError {
  constructor(readonly what: string) {
    super(`stream ${what}, whose presentation order cannot be derived`);
  }
}
