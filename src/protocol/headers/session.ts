/** Session (RFC 2326 section 12.37): `Session: 47112344;timeout=60`. */
import { RtspHeaderError } from '../errors.js';
import { parseDecimal } from './syntax.js';

export interface SessionHeader {
  id: string;
  /** Seconds the server keeps the session without a keep-alive. */
  timeout?: number;
}

/** session-id = 1*( ALPHA | DIGIT | safe ), safe = "$" | "-" | "_" | "." | "+"; length capped at 128. */
const SESSION_ID = /^[A-Za-z0-9$\-_.+]{1,128}$/;

export function isValidSessionId(id: string): boolean {
  return SESSION_ID.test(id);
}

/** Parses `id[;timeout=N]`, tolerating whitespace around `;` and `=`; unknown parameters are ignored. */
export function parseSessionHeader(value: string): SessionHeader {
  const [rawId, ...params] = value.split(';');
  const id = rawId.trim();
  if (!isValidSessionId(id)) throw new RtspHeaderError('Session', `invalid session id '${id}'`);
  const result: SessionHeader = { id };
  for (const param of params) {
    const eq = param.indexOf('=');
    const name = (eq < 0 ? param : param.slice(0, eq)).trim().toLowerCase();
    if (name !== 'timeout') continue; // unknown and empty parameters are ignored
    if (result.timeout !== undefined) throw new RtspHeaderError('Session', 'duplicate timeout parameter');
    if (eq < 0) throw new RtspHeaderError('Session', 'timeout without a value');
    result.timeout = parseDecimal('Session', 'timeout', param.slice(eq + 1).trim(), 0, 0x7fffffff);
  }
  return result;
}

/** Writes `id` or `id;timeout=N` (no spaces: some NVR clients split on `;` without trimming). */
export function formatSessionHeader(session: SessionHeader): string {
  if (!isValidSessionId(session.id))
    throw new RtspHeaderError('Session', `invalid session id '${session.id}'`);
  if (session.timeout === undefined) return session.id;
  if (!Number.isInteger(session.timeout) || session.timeout < 0 || session.timeout > 0x7fffffff) {
    throw new RtspHeaderError('Session', `invalid timeout ${session.timeout}`);
  }
  return `${session.id};timeout=${session.timeout}`;
}
