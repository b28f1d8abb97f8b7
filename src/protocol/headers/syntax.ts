/**
 * Small lexical helpers shared by the header codecs (RFC 2326 section 15 / HTTP/1.1 token rules).
 * Internal to src/protocol/headers; not re-exported from index.ts.
 */
import { RtspHeaderError } from '../errors.js';

/** token = 1*<any CHAR except CTLs or tspecials> (RFC 2326 section 15.1). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const CONTROL_CHARS = /[\x00-\x1f\x7f]/;

export function isToken(text: string): boolean {
  return TOKEN.test(text);
}

export function hasControlChars(text: string): boolean {
  return CONTROL_CHARS.test(text);
}

/**
 * Splits on `separator` except inside double quotes, so `mode="PLAY,RECORD"` stays one piece
 * when a Transport header is split into alternatives. An unterminated quote is an error.
 */
export function splitOutsideQuotes(header: string, value: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '"') quoted = !quoted;
    else if (ch === separator && !quoted) {
      parts.push(value.slice(start, i));
      start = i + 1;
    }
  }
  if (quoted) throw new RtspHeaderError(header, 'unterminated quoted string');
  parts.push(value.slice(start));
  return parts;
}

/**
 * Parses a plain decimal integer (digits only: no sign, no spaces, no exponent) in [min, max].
 * The length guard keeps a hostile 10 kB digit string from being converted at all.
 */
export function parseDecimal(header: string, what: string, text: string, min: number, max: number): number {
  if (!/^\d{1,16}$/.test(text))
    throw new RtspHeaderError(header, `${what} is not a decimal integer: '${text}'`);
  const n = Number(text);
  if (n < min || n > max) throw new RtspHeaderError(header, `${what} out of range ${min}..${max}: ${text}`);
  return n;
}

/** Rejects values that would break the header line they are written into (CR/LF injection). */
export function assertHeaderSafe(header: string, what: string, text: string): void {
  if (hasControlChars(text)) throw new RtspHeaderError(header, `${what} contains control characters`);
}
