/**
 * Content-Base (RFC 2326 section 12.11): the base against which clients resolve the relative
 * `a=control:` URLs of the SDP.
 *
 * Query strings: clients disagree on how to resolve `trackID=0` against `rtsp://h/cam?channel=1/`.
 *  - ffmpeg (rtsp.c), live555 (VLC and most NVRs) and GStreamer rtspsrc before its switch to
 *    gst_uri_join_strings concatenate: `rtsp://h/cam?channel=1/trackID=0`.
 *  - Current GStreamer rtspsrc resolves per RFC 3986 and gets `rtsp://h/trackID=0`, losing path and
 *    query alike; any base with a query does that, wherever its slash goes.
 * We keep the query BEFORE the trailing slash, exactly as gst-rtsp-server's make_base_url does, so
 * concatenating clients work; for RFC 3986 clients the SDP writer should use absolute control URLs
 * (see joinControlUrl) whenever the request URL has a query, and url.ts's resolveStreamAndTrack
 * accepts both `/cam?channel=1/trackID=0` and `/cam/trackID=0?channel=1`.
 */
import { RtspHeaderError } from '../errors.js';
import { withoutUserInfo } from '../url.js';
import { hasControlChars } from './syntax.js';

/** Returns `url` with exactly one trailing '/': `rtsp://h/cam` → `rtsp://h/cam/`, `rtsp://h/cam?x=1` → `rtsp://h/cam?x=1/`. */
export function formatContentBase(url: string): string {
  if (url === '' || /\s/.test(url) || hasControlChars(url)) {
    throw new RtspHeaderError('Content-Base', `invalid url '${withoutUserInfo(url)}'`);
  }
  // A loop, not /\/+$/: that regex backtracks quadratically on a long run of slashes in a hostile URI.
  let end = url.length;
  while (end > 0 && url.charCodeAt(end - 1) === 0x2f) end--;
  const withoutSlashes = url.slice(0, end);
  if (withoutSlashes === '' || withoutSlashes.endsWith(':')) {
    throw new RtspHeaderError('Content-Base', `invalid url '${withoutUserInfo(url)}'`);
  }
  return `${withoutSlashes}/`;
}

/**
 * Resolves a media `control` against a Content-Base the way concatenating clients do (ffmpeg,
 * live555): absolute controls win, '*' and '' mean the base itself, otherwise exactly one '/'
 * joins the two. Useful to write absolute `a=control:` lines that every client resolves alike.
 */
export function joinControlUrl(base: string, control: string): string {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(control)) return control;
  if (control === '' || control === '*') return base;
  if (base.endsWith('/') && control.startsWith('/')) return base + control.slice(1);
  if (base.endsWith('/') || control.startsWith('/')) return base + control;
  return `${base}/${control}`;
}
