// What dist/ was built from, as one hash: `npm start` skips the build when it matches (see build.mjs).
// Contents, not mtimes: a checkout or a copy changes mtimes without changing what the build makes, and
// an edit that keeps the mtime (rare, but tools do it) must still rebuild.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Files and folders (relative to the project root) whose contents the build reads. */
export const BUILD_INPUTS = [
  'src',
  'scripts/build.mjs',
  'scripts/build-stamp.mjs',
  'scripts/latin1.mjs',
  'package.json',
  'tsconfig.json',
  'tsconfig.build.json',
];
/** Packages whose code ends up in dist/ (bundled) or decides what it is (the compilers). */
export const BUILD_PACKAGES = ['mediabunny', 'werift', 'typescript', 'esbuild'];
export const STAMP_FILE = '.build-stamp';

function filesUnder(path, out) {
  if (!existsSync(path)) return out;
  const entries = readdirSync(path, { withFileTypes: true });
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = join(path, e.name);
    if (e.isDirectory()) filesUnder(p, out);
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** Hash of every build input's path and contents, and of the build packages' installed versions. */
export function buildStamp(root, inputs = BUILD_INPUTS, packages = BUILD_PACKAGES) {
  const hash = createHash('sha256');
  for (const input of inputs) {
    const path = join(root, input);
    if (!existsSync(path)) {
      hash.update(`missing ${input}\0`);
      continue;
    }
    const files = statSync(path).isDirectory() ? filesUnder(path, []) : [path];
    for (const file of files) {
      const bytes = readFileSync(file);
      hash.update(`${relative(root, file)}\0${bytes.length}\0`);
      hash.update(bytes);
    }
  }
  for (const name of packages) {
    const manifest = join(root, 'node_modules', name, 'package.json');
    const version = existsSync(manifest) ? JSON.parse(readFileSync(manifest, 'utf8')).version : 'missing';
    hash.update(`package ${name}@${version}\0`);
  }
  return hash.digest('hex');
}

/** Whether dist/ holds a complete build of the inputs as they are now. */
export function distIsCurrent(root, dist = join(root, 'dist'), required = ['index.js', 'cli/main.js']) {
  const stampFile = join(dist, STAMP_FILE);
  if (!existsSync(stampFile)) return false;
  if (!required.every((f) => existsSync(join(dist, f)))) return false;
  return readFileSync(stampFile, 'utf8').trim() === buildStamp(root);
}
