// V8 keeps a script's source text in memory as long as its functions may be compiled, and keeps it
// one byte per character only when every character is Latin-1: a single '→' in a comment makes the
// whole bundle a two-byte string (the entry's ~0.5 MB becomes ~1 MB, and RSS grows by more than that
// while it is parsed). esbuild already escapes every non-ASCII character in code (its default
// charset, ascii); what it keeps as written are the comments it carries over, so the characters
// beyond Latin-1 left in a bundle are in comments, where a \u escape reads just as well.
import { readFileSync, writeFileSync } from 'node:fs';

/** `text` with every character beyond Latin-1 written as a `\uXXXX` escape (UTF-16 units). */
export function escapeBeyondLatin1(text) {
  return text.replace(/[^\u0000-\u00ff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Rewrites the bundle at `file` so that V8 holds its text one byte per character. */
export function keepLatin1(file) {
  const text = readFileSync(file, 'utf8');
  const escaped = escapeBeyondLatin1(text);
  if (escaped !== text) writeFileSync(file, escaped);
}
