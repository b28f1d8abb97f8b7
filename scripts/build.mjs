// `npm run build`: tsc for the library and CLI, then mediabunny's demuxers and werift's WebRTC bundled
// into dist/vendor/ so the package depends on neither (see src/vendor/).
// Skips everything when dist/ was built from the inputs as they are now (build-stamp.mjs), so
// `npm start` starts at once when nothing changed; `--force` rebuilds regardless.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildStamp, distIsCurrent, STAMP_FILE } from './build-stamp.mjs';
import { keepLatin1 } from './latin1.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (!process.argv.includes('--force') && distIsCurrent(root)) process.exit(0);
// Taken before building: an edit made while tsc runs leaves a stamp that no longer matches.
const stamp = buildStamp(root);
rmSync(join(root, 'dist'), { recursive: true, force: true });
run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json']);

const { build, buildSync } = require('esbuild');
// Bundled so the package depends on neither (see src/vendor/*.ts); each is loaded on first use.
const VENDORED = [
  { name: 'mediabunny', licence: 'MPL-2.0' },
  { name: 'werift', licence: 'MIT' },
];
/** What every bundle of the build shares: ESM for Node 20, licence comments kept. */
const BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  allowOverwrite: true,
  legalComments: 'inline',
  logLevel: 'warning',
};
const notes = [];
for (const { name, licence } of VENDORED) {
  buildSync({
    entryPoints: [join(root, `src/vendor/${name}.ts`)],
    outfile: join(root, `dist/vendor/${name}.js`),
    ...BUNDLE_OPTIONS,
    // CommonJS parts of a bundle call require() for Node's built-ins: give an ES module one.
    banner: {
      js: "import { createRequire as __vendorRequire } from 'node:module'; const require = __vendorRequire(import.meta.url);",
    },
  });
  keepLatin1(join(root, `dist/vendor/${name}.js`));
  // Nothing public refers to it, and it names a package the install does not have.
  rmSync(join(root, `dist/vendor/${name}.d.ts`), { force: true });
  const pkgDir = join(root, 'node_modules', name);
  const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const licenceFile = ['LICENSE', 'LICENSE.md', 'LICENSE.txt']
    .map((f) => join(pkgDir, f))
    .find((f) => existsSync(f));
  if (licenceFile) copyFileSync(licenceFile, join(root, `dist/vendor/${name}.LICENSE`));
  const where = licenceFile
    ? `licence in ${name}.LICENSE`
    : 'as its package.json declares; it ships no licence file';
  notes.push(
    `${name}.js bundles parts of ${name} ${version} (${licence}, ${where}).\n` +
      `Its source is the npm package ${name}@${version}; this bundle is that code unmodified` +
      (name === 'werift' ? ', with the packages it depends on' : '') +
      '.\n',
  );
}

// The package entry as one file. Loading ~110 modules one by one cost `import 'smolrtsp'` ~120 ms in
// the ESM loader alone (resolve, open, compile each); one file costs a fraction. sdp-transform goes in
// too: as a CommonJS package it started Node's CommonJS loader for ~30 ms. The per-file modules stay
// for the CLI and the .d.ts files; the vendored bundles stay separate and load on first use.
const BUNDLED_PACKAGES = new Set(['sdp-transform']);
await build({
  entryPoints: [join(root, 'dist/index.js')],
  outfile: join(root, 'dist/index.js'),
  ...BUNDLE_OPTIONS,
  plugins: [
    {
      name: 'entry-externals',
      setup(b) {
        // `import('../vendor/x.js')` from dist/<layer>/ is `./vendor/x.js` from dist/index.js.
        b.onResolve({ filter: /\/vendor\/[\w-]+\.js$/ }, (args) => ({
          path: `./vendor/${args.path.split('/').pop()}`,
          external: true,
        }));
        b.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith('node:') || !BUNDLED_PACKAGES.has(args.path.split('/')[0])
            ? { path: args.path, external: true }
            : undefined,
        );
      },
    },
  ],
});
keepLatin1(join(root, 'dist/index.js'));
for (const name of BUNDLED_PACKAGES) {
  const pkgDir = join(root, 'node_modules', name);
  const { version, license } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  copyFileSync(join(pkgDir, 'LICENSE'), join(root, `dist/vendor/${name}.LICENSE`));
  notes.push(
    `../index.js bundles ${name} ${version} (${license}, licence in ${name}.LICENSE), unmodified; ` +
      `its source is the npm package ${name}@${version}.\n`,
  );
}
writeFileSync(join(root, 'dist/vendor/README.md'), notes.join('\n'));
// Last: a build that failed part way leaves no stamp, so the next run builds again.
writeFileSync(join(root, 'dist', STAMP_FILE), `${stamp}\n`);
