import { parseArgs } from 'node:util';
import { ha1 } from '../server/auth.js';

export const HASH_PASSWORD_HELP = `Usage:
  smolrtsp hash-password NAME [--realm REALM] [--sha256]

Prints the Digest HA1 of NAME's password: MD5(NAME:REALM:PASSWORD) in lower-case hex, what the
config file takes as "ha1Md5" (with --sha256: SHA-256, for "ha1Sha256"), so the password itself
need not be stored. The realm must be the server's: "smolrtsp" unless the config sets auth.realm.
The password is read from standard input (one line), or asked for without echo on a terminal.

  printf '%s' 's3cret' | smolrtsp hash-password viewer
`;

/** Reads one line from stdin: the whole input when piped, a prompt without echo on a terminal. */
async function readPassword(): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  }
  process.stderr.write('password: ');
  stdin.setRawMode(true);
  stdin.resume();
  let text = '';
  try {
    for await (const chunk of stdin) {
      for (const ch of (chunk as Buffer).toString('utf8')) {
        if (ch === '\r' || ch === '\n') return text;
        if (ch === '\u0003') throw new Error('cancelled');
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    }
    return text;
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
}

/** `smolrtsp hash-password NAME`: returns the line to print, or throws with a one-line reason. */
export async function hashPassword(argv: string[]): Promise<string> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      realm: { type: 'string' },
      sha256: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return HASH_PASSWORD_HELP;
  if (positionals.length !== 1 || positionals[0] === '') throw new Error('hash-password takes one user NAME');
  const name = positionals[0];
  if (name.includes(':')) throw new Error('a user name cannot contain ":"');
  const realm = values.realm ?? 'smolrtsp';
  const password = await readPassword();
  if (password === '') throw new Error('the password is empty');
  return `${ha1(values.sha256 ? 'SHA-256' : 'MD5', name, realm, password)}\n`;
}
