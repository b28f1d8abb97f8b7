// `npm run build`: tsc for the library and CLI, then mediabunny's demuxers bundled into
// dist/vendor/mediabunny.js so the package does not depend on mediabunny (see src/vendor/mediabunny.ts).
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

rmSync(join(root, 'dist'), { recursive: true, force: true });
run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json']);

const { buildSync } = require('esbuild');
buildSync({
  entryPoints: [join(root, 'src/vendor/mediabunny.ts')],
  outfile: join(root, 'dist/vendor/mediabunny.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  allowOverwrite: true,
  legalComments: 'inline',
  logLevel: 'warning',
});
// Nothing public refers to it, and it names a package the install does not have.
rmSync(join(root, 'dist/vendor/mediabunny.d.ts'), { force: true });

const pkgDir = join(root, 'node_modules/mediabunny');
const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
copyFileSync(join(pkgDir, 'LICENSE'), join(root, 'dist/vendor/mediabunny.LICENSE'));
writeFileSync(
  join(root, 'dist/vendor/README.md'),
  `mediabunny.js bundles parts of mediabunny ${version} (MPL-2.0, licence in mediabunny.LICENSE).\n` +
    `Its source is the npm package mediabunny@${version}; this bundle is that code unmodified.\n`,
);
