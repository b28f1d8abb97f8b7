// `import 'smolrtsp'` stays light (camera boards embed it): what only some features use loads where it
// is used. The entry is bundled as the build bundles it (scripts/build.mjs), then:
// - no module of the HTTP layer, the CLI or the vendored bundles, and none of the CLI's or vendored
//   packages, is reachable from it without a dynamic import;
// - importing it in a fresh Node loads none of the built-ins only RTSPS, tunnels and ffmpeg use;
// - its text is all Latin-1, so V8 holds it one byte per character;
// - importing it runs nothing hot enough for V8's optimising compiler (whose memory stays in RSS).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { keepLatin1 } from '../../scripts/latin1.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const esbuild = createRequire(join(ROOT, 'package.json'))('esbuild') as typeof import('esbuild');

const HEAVY_PACKAGES = ['werift', 'mediabunny', 'pino', 'pino-pretty', 'zod', 'yaml', 'prom-client'];
const FEATURE_LAYERS = ['src/http/', 'src/cli/', 'src/vendor/'];
/** Built-ins of RTSPS (tls), the HTTP layer and tunnels' refusals (http, https) and ffmpeg (child_process). */
const FEATURE_BUILTINS = ['tls', '_tls_wrap', 'http', '_http_server', 'https', 'child_process'];

let dir: string;
let entry: string;
let inputs: string[];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'smolrtsp-entry-'));
  entry = join(dir, 'entry.mjs');
  const result = esbuild.buildSync({
    entryPoints: [join(ROOT, 'src/index.ts')],
    outfile: entry,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    metafile: true,
    logLevel: 'error',
    // As the build does: the vendored bundles are separate files, loaded by dynamic import.
    external: ['*/vendor/mediabunny.js', '*/vendor/werift.js'],
  });
  inputs = Object.keys(result.metafile.inputs);
  keepLatin1(entry);
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('package entry footprint', () => {
  it('reaches no HTTP, CLI or vendored module and no CLI or vendored package statically', () => {
    const heavy = inputs.filter(
      (f) =>
        FEATURE_LAYERS.some((l) => f.startsWith(l)) ||
        HEAVY_PACKAGES.some((p) => f.includes(`node_modules/${p}/`)),
    );
    assert.deepEqual(heavy, []);
    // The check sees the whole graph: the server and the sources are in it.
    assert.ok(inputs.includes('src/server/rtsp-server.ts') && inputs.includes('src/sources/ffmpeg.ts'));
  });

  it('is Latin-1 text throughout, comments included', () => {
    const text = readFileSync(entry, 'utf8');
    const beyond = [...text].filter((c) => c.charCodeAt(0) > 0xff);
    assert.deepEqual(beyond, []);
    // The escapes are where the characters were: the comments esbuild carries over.
    assert.ok(text.includes('\\u2192'), 'the sources still have a comment with an arrow in it');
  });

  it('gives the optimising compiler nothing to do on import', () => {
    const res = spawnSync(
      process.execPath,
      ['--trace-opt', '--input-type=module', '-e', `await import(${JSON.stringify(entry)});`],
      { encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(res.status, 0, res.stderr);
    const compiled = res.stdout.split('\n').filter((l) => l.startsWith('[compiling method'));
    assert.deepEqual(compiled, []);
  });

  it('loads no TLS, HTTP or child-process built-in on import', () => {
    const probe =
      'const before = new Set(process.moduleLoadList);' +
      `await import(${JSON.stringify(entry)});` +
      "console.log(JSON.stringify(process.moduleLoadList.filter((m) => !before.has(m) && m.startsWith('NativeModule ')).map((m) => m.slice(13))));";
    const res = spawnSync(process.execPath, ['--input-type=module', '-e', probe], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(res.status, 0, res.stderr);
    const loaded: string[] = JSON.parse(res.stdout);
    assert.ok(loaded.includes('net') && loaded.includes('dgram'), `the probe sees built-ins: ${loaded}`);
    assert.deepEqual(
      loaded.filter((m) => FEATURE_BUILTINS.includes(m)),
      [],
    );
  });
});
