/** Public (RFC 2326 section 12.28): the methods the server supports, in the OPTIONS response. */
import { RtspHeaderError } from '../errors.js';
import { isToken } from './syntax.js';

/** `OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN` (comma + space, as live555 and GStreamer write it). */
export function formatPublic(methods: string[]): string {
  for (const method of methods) {
    if (!isToken(method)) throw new RtspHeaderError('Public', `invalid method '${method}'`);
  }
  return methods.join(', ');
}

/** Method names are case-sensitive in RTSP, so they are returned as written. */
export function parsePublic(value: string): string[] {
  const methods = value
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m !== '');
  for (const method of methods) {
    if (!isToken(method)) throw new RtspHeaderError('Public', `invalid method '${method}'`);
  }
  return methods;
}
