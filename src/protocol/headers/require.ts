/**
 * Require, Proxy-Require and Unsupported (RFC 2326 sections 12.32, 12.27, 12.41): comma-separated
 * option tags such as `play.basic` or `com.example.feature`.
 */
import { RtspHeaderError } from '../errors.js';
import { isToken } from './syntax.js';

/** Parses an option-tag list; items are trimmed and empty ones dropped. `header` names the error. */
export function parseOptionTags(value: string, header = 'Require'): string[] {
  const tags = value
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  for (const tag of tags) {
    if (!isToken(tag)) throw new RtspHeaderError(header, `invalid option tag '${tag}'`);
  }
  return tags;
}

export function formatOptionTags(tags: string[], header = 'Unsupported'): string {
  for (const tag of tags) {
    if (!isToken(tag)) throw new RtspHeaderError(header, `invalid option tag '${tag}'`);
  }
  return tags.join(', ');
}
