// The layers of src/ and the direction of their imports, checked on every import in the tree (static,
// `export … from` and dynamic `import()`): a module may import its own layer and the layers listed for
// it, nothing else. The pure layers (protocol, rtp, codecs) use no I/O: only node:buffer and
// node:crypto, no sockets, files, processes or timers' modules. CLI-only packages stay behind cli/.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

/**
 * What each layer may import, bottom to top. server/ and sources/ are siblings: neither imports the
 * other (a relay or publisher source reaches the network through client/, not server/).
 */
export const LAYERS: Record<string, readonly string[]> = {
  protocol: [],
  rtp: ['protocol'],
  codecs: ['rtp'],
  media: ['codecs', 'rtp', 'protocol'],
  client: ['media', 'codecs', 'rtp', 'protocol'],
  server: ['media', 'codecs', 'rtp', 'protocol'],
  sources: ['client', 'media', 'codecs', 'rtp', 'protocol', 'vendor'],
  // The HTTP API, web page and WHEP: over the server and its streams.
  http: ['server', 'sources', 'client', 'media', 'codecs', 'rtp', 'protocol', 'vendor'],
  cli: ['http', 'server', 'sources', 'client', 'media', 'codecs', 'rtp', 'protocol'],
  vendor: [],
  index: ['http', 'server', 'sources', 'client', 'media', 'codecs', 'rtp', 'protocol'],
};

const PURE = new Set(['protocol', 'rtp', 'codecs']);
const PURE_BUILTINS = new Set(['node:buffer', 'node:crypto']);
/** Packages and the layers allowed to load them. */
const PACKAGES: Record<string, readonly string[]> = {
  // http: WHEP narrows a browser's WebRTC offer (ICE candidates, rtcp-fb) that our RTSP SDP types do not model.
  'sdp-transform': ['protocol', 'http'],
  mediabunny: ['vendor'],
  pino: ['cli'],
  'pino-pretty': ['cli'],
  zod: ['cli'],
  'prom-client': ['cli'],
  yaml: ['cli'],
  // WebRTC for the web page's WHEP previews: bundled like mediabunny, loaded when a browser asks.
  werift: ['vendor'],
};

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files(p, out);
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

function layerOf(file: string): string {
  const rel = relative(SRC, file).split(sep);
  return rel.length === 1 ? rel[0].replace(/\.ts$/, '') : rel[0];
}

/** Every module specifier a source file names: imports, re-exports, dynamic imports. */
export function specifiers(code: string): string[] {
  const out: string[] = [];
  const re =
    /(?:^|[;\s])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
  for (const m of code.matchAll(re)) out.push(m[1] ?? m[2]);
  return out;
}

/** The rule an import breaks, or undefined. */
export function violation(fromLayer: string, spec: string, target: string | undefined): string | undefined {
  if (target !== undefined) {
    if (target === fromLayer) return undefined;
    if (!(fromLayer in LAYERS)) return `${fromLayer}/ is not a known layer`;
    if (!(target in LAYERS)) return `${target}/ is not a known layer`;
    return LAYERS[fromLayer].includes(target) ? undefined : `${fromLayer}/ may not import ${target}/`;
  }
  if (spec.startsWith('node:')) {
    return PURE.has(fromLayer) && !PURE_BUILTINS.has(spec)
      ? `${fromLayer}/ is pure and may not import ${spec}`
      : undefined;
  }
  const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
  const allowed = PACKAGES[pkg];
  if (!allowed) return `${pkg} is not a dependency any layer may use (add it to the test's table on purpose)`;
  return allowed.includes(fromLayer) ? undefined : `${fromLayer}/ may not import ${pkg}`;
}

describe('layers', () => {
  it('every import in src/ points down (or sideways within its layer)', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const file of files(SRC)) {
      const from = layerOf(file);
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        checked++;
        const target = spec.startsWith('.') ? layerOf(resolve(dirname(file), spec)) : undefined;
        const why = violation(from, spec, target);
        if (why) problems.push(`${relative(SRC, file)}: '${spec}': ${why}`);
      }
    }
    assert.ok(checked > 300, `read ${checked} imports`);
    assert.deepEqual(problems, []);
  });

  it('catches what it is for', () => {
    assert.deepEqual(
      specifiers(
        "import a from './a.js';\nimport type { B } from '../b.js';\nexport { c } from \"../c/d.js\";\nconst e = await import('../e.js');\nimport '../side.js';",
      ),
      ['./a.js', '../b.js', '../c/d.js', '../e.js', '../side.js'],
    );
    assert.match(
      violation('codecs', '../../media/track.js', 'media') ?? '',
      /codecs\/ may not import media\//,
    );
    assert.match(violation('protocol', '../server/x.js', 'server') ?? '', /may not import server/);
    assert.match(
      violation('server', '../sources/x.js', 'sources') ?? '',
      /server\/ may not import sources\//,
    );
    assert.match(violation('client', '../server/x.js', 'server') ?? '', /client\/ may not import server\//);
    assert.match(
      violation('client', '../sources/x.js', 'sources') ?? '',
      /client\/ may not import sources\//,
    );
    assert.equal(violation('sources', '../client/rtsp-client.js', 'client'), undefined);
    assert.match(violation('rtp', 'node:dgram', undefined) ?? '', /pure/);
    assert.match(violation('media', 'pino', undefined) ?? '', /may not import pino/);
    assert.equal(violation('media', '../codecs/h264/sps.js', 'codecs'), undefined);
    assert.equal(violation('codecs', 'node:buffer', undefined), undefined);
  });
});
