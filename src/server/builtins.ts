// Node built-ins that only some server features use, loaded on first use rather than with every
// `import 'smolrtsp'`: node:tls for RTSPS, node:http for a refused tunnel's status text. createRequire
// itself starts Node's CommonJS loader (~10 ms), so it too waits for the first use.
import { createRequire } from 'node:module';

let requireBuiltin: NodeJS.Require | undefined;

function load<T>(name: string): T {
  requireBuiltin ??= createRequire(import.meta.url);
  return requireBuiltin(name) as T;
}

export function tlsModule(): typeof import('node:tls') {
  return load('node:tls');
}

export function httpModule(): typeof import('node:http') {
  return load('node:http');
}

export function childProcessModule(): typeof import('node:child_process') {
  return load('node:child_process');
}
