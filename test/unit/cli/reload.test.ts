// ConfigReloader: reloads never overlap (asks during a run make one more run), a broken file changes
// nothing, the command line's paths stay, and server-level changes are reported as needing a restart.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { loadConfig, type PathSourceConfig } from '../../../src/cli/config.js';
import type { PathTable } from '../../../src/cli/paths.js';
import { type CommandLinePaths, ConfigReloader, servedPaths } from '../../../src/cli/reload.js';

const pattern = (p: string): PathSourceConfig => ({ source: 'pattern', pattern: p, gop: 2, audio: false });
const noCommandLine: CommandLinePaths = { given: new Map(), fallback: ['/test', pattern('640x480@25')] };

/** A PathTable stand-in whose apply() waits until released, recording what it was given. */
function fakeTable() {
  const applied: string[][] = [];
  let release: () => void = () => {};
  const table = {
    async apply(wanted: ReadonlyMap<string, PathSourceConfig>) {
      applied.push([...wanted.keys()]);
      await new Promise<void>((r) => {
        release = r;
      });
      return { added: [...wanted.keys()], restarted: [], removed: [], kept: [], errors: {} };
    },
  };
  return { table: table as unknown as PathTable, applied, release: () => release() };
}

function configFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'smolrtsp-reload-')), 'smolrtsp.yaml');
  writeFileSync(file, text);
  return file;
}

const until = async (what: string, predicate: () => boolean) => {
  for (let i = 0; i < 200 && !predicate(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(predicate(), what);
};

/** A started reloader of `file` (undefined: no config file) over `table`. */
function startedReloader(file: string | undefined, table: ReturnType<typeof fakeTable>['table']) {
  const reloader = new ConfigReloader({
    file,
    table,
    commandLine: noCommandLine,
    started: loadConfig(file ?? configFile('{}')),
    log: pino({ level: 'silent' }),
  });
  reloader.started();
  return reloader;
}

describe('config reload', () => {
  it('runs one reload at a time: asks during a run make exactly one more, which reads the file as it is then', async () => {
    const file = configFile('paths:\n  /a: { source: pattern }\n');
    const { table, applied, release } = fakeTable();
    const reloader = startedReloader(file, table);
    const first = reloader.reload('test');
    await until('the first run applies', () => applied.length === 1);
    writeFileSync(file, 'paths:\n  /a: { source: pattern }\n  /b: { source: pattern }\n');
    const second = reloader.reload('test');
    const third = reloader.reload('test');
    assert.equal(second, third, 'asks during a run share the one queued run');
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(applied.length, 1, 'no second apply while the first runs');
    release();
    assert.deepEqual((await first).added, ['/a']);
    await until('the queued run applies', () => applied.length === 2);
    release();
    assert.deepEqual((await second).added, ['/a', '/b']);
    assert.equal(applied.length, 2);
  });

  it('a broken file changes nothing; server-level changes need a restart', async () => {
    const file = configFile('port: 8554\npaths:\n  /a: { source: pattern }\n');
    const { table, applied, release } = fakeTable();
    const reloader = startedReloader(file, table);
    writeFileSync(file, 'port: 8554\npaths:\n  /a: { source: pattern, pattern: 10x10 }\n');
    const broken = await reloader.reload('test');
    assert.equal(broken.ok, false);
    assert.match(broken.error ?? '', /paths\.\/a\.pattern \(line 3\)/);
    assert.equal(applied.length, 0, 'nothing applied');

    writeFileSync(file, 'port: 9000\nmaxSessions: 5\npaths:\n  /a: { source: pattern }\n');
    const running = reloader.reload('test');
    await until('applies', () => applied.length === 1);
    release();
    const result = await running;
    assert.equal(result.ok, true);
    assert.deepEqual(result.restartNeeded, ['maxSessions', 'port']);
  });

  it('without a config file there is nothing to reload', async () => {
    const { table, applied } = fakeTable();
    const reloader = startedReloader(undefined, table);
    const result = await reloader.reload('test');
    assert.equal(result.ok, false);
    assert.match(result.error ?? '', /no config file/);
    assert.equal(applied.length, 0);
  });

  it('serves the file paths plus the command line ones (which win), or the default when none', () => {
    const commandLine: CommandLinePaths = {
      given: new Map([['/b', pattern('320x240@10')]]),
      fallback: ['/test', pattern('640x480@25')],
    };
    const served = servedPaths({ '/a': pattern('160x120@5'), '/b': pattern('160x120@5') }, commandLine);
    assert.deepEqual([...served.keys()], ['/a', '/b']);
    assert.deepEqual(served.get('/b'), pattern('320x240@10'));
    assert.deepEqual([...servedPaths({}, noCommandLine).keys()], ['/test']);
    assert.deepEqual([...servedPaths({ '/a': pattern('160x120@5') }, noCommandLine).keys()], ['/a']);
  });
});
