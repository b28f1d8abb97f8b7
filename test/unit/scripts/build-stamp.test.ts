// `npm start` skips the build when dist/ matches its inputs: any change to what the build reads must
// show in the stamp, and a dist/ without a matching stamp, or missing its entry points, is not current.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { buildStamp, distIsCurrent, STAMP_FILE } from '../../../scripts/build-stamp.mjs';

let root: string;

function write(path: string, text: string): void {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), text);
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'smolrtsp-stamp-'));
  write('src/index.ts', "export * from './a.js';\n");
  write('src/a.ts', 'export const a = 1;\n');
  write('src/codecs/h264/sps.ts', 'export const sps = 1;\n');
  write('scripts/build.mjs', '// build\n');
  write('scripts/build-stamp.mjs', '// stamp\n');
  write('package.json', '{"name":"x","version":"1.0.0"}\n');
  write('tsconfig.json', '{}\n');
  write('tsconfig.build.json', '{}\n');
  write('node_modules/mediabunny/package.json', '{"version":"1.0.0"}\n');
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A dist/ as a finished build leaves it, stamped with the inputs as they are now. */
function buildDist(): void {
  write('dist/index.js', '');
  write('dist/cli/main.js', '');
  write(`dist/${STAMP_FILE}`, `${buildStamp(root)}\n`);
}

describe('build stamp', () => {
  it('is the same for the same contents, whatever the mtimes', () => {
    const before = buildStamp(root);
    utimesSync(join(root, 'src/a.ts'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    assert.equal(buildStamp(root), before);
  });

  it('changes when a source file, a build script, a tsconfig, package.json or a vendored version changes', () => {
    const edits: Array<[string, () => void]> = [
      ['a nested source edited', () => write('src/codecs/h264/sps.ts', 'export const sps = 2;\n')],
      ['a source added', () => write('src/b.ts', 'export const b = 1;\n')],
      ['a source renamed', () => renameSync(join(root, 'src/b.ts'), join(root, 'src/c.ts'))],
      ['a source removed', () => rmSync(join(root, 'src/index.ts'))],
      ['build.mjs', () => write('scripts/build.mjs', '// build 2\n')],
      ['build-stamp.mjs', () => write('scripts/build-stamp.mjs', '// stamp 2\n')],
      ['tsconfig.build.json', () => write('tsconfig.build.json', '{"x":1}\n')],
      ['package.json', () => write('package.json', '{"name":"x","version":"1.0.1"}\n')],
      ['mediabunny upgraded', () => write('node_modules/mediabunny/package.json', '{"version":"1.0.1"}\n')],
      ['werift installed', () => write('node_modules/werift/package.json', '{"version":"0.1.0"}\n')],
    ];
    const seen = new Set([buildStamp(root)]);
    for (const [what, edit] of edits) {
      edit();
      const stamp = buildStamp(root);
      assert.ok(!seen.has(stamp), `stamp unchanged after: ${what}`);
      seen.add(stamp);
    }
  });

  it('moves content between files: still a different stamp', () => {
    write('src/a.ts', 'ab');
    write('src/b.ts', 'c');
    const before = buildStamp(root);
    write('src/a.ts', 'a');
    write('src/b.ts', 'bc');
    assert.notEqual(buildStamp(root), before);
  });
});

describe('distIsCurrent', () => {
  it('is false without dist/, true right after a build, false after any source edit', () => {
    assert.equal(distIsCurrent(root), false);
    buildDist();
    assert.equal(distIsCurrent(root), true);
    write('src/a.ts', 'export const a = 2;\n');
    assert.equal(distIsCurrent(root), false);
  });

  it('is false when the stamp is missing (a build that failed part way) or an entry point is gone', () => {
    buildDist();
    rmSync(join(root, 'dist', STAMP_FILE));
    assert.equal(distIsCurrent(root), false);
    buildDist();
    rmSync(join(root, 'dist/cli/main.js'));
    assert.equal(distIsCurrent(root), false);
  });
});
