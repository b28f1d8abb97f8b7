/** CSeq (RFC 2326 section 12.17): the request sequence number echoed in every response. */
import { RtspHeaderError } from '../errors.js';
import { parseDecimal } from './syntax.js';

/** Largest CSeq we accept: clients use a signed 32-bit counter (live555, ffmpeg). */
export const MAX_CSEQ = 0x7fffffff;

/** Parses a CSeq value; a missing header, a non-integer or a value above 2^31-1 throws RtspHeaderError. */
export function parseCSeq(value: string | undefined): number {
  if (value === undefined) throw new RtspHeaderError('CSeq', 'missing');
  const text = value.trim();
  if (text === '') throw new RtspHeaderError('CSeq', 'empty');
  return parseDecimal('CSeq', 'CSeq', text, 0, MAX_CSEQ);
}
