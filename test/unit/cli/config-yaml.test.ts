// The config file in YAML: the same schema as JSON, comments allowed, and every problem named by its
// key and its line (YAML and JSON alike); syntax errors by line and column.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, parseConfig } from '../../../src/cli/config.js';
import { readConfigText } from '../../../src/cli/config-source.js';

const YAML = `# smolrtsp.yaml
port: 8555 # RTSP
auth:
  users:
    - name: viewer
      passwordEnv: VIEWER_PASSWORD
paths:
  # the camera
  /cam:
    source: pattern
    pattern: 1280x720@30
    audio: true
  /clip: { source: file, file: clips/a.mp4 }
  /door: rtsp-is-not-here
`;

/** The message of the ConfigError that parsing `text` as `file` throws. */
function problem(text: string, file = 'smolrtsp.yaml'): string {
  try {
    parseConfig(text, file);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `a ConfigError, not ${err}`);
    return err.message;
  }
  assert.fail('the config was accepted');
}

describe('config file in YAML', () => {
  it('reads the same schema as JSON, comments and all, from .yaml and .yml', () => {
    const dir = mkdtempSync(join(tmpdir(), 'smolrtsp-config-'));
    const text = YAML.replace('  /door: rtsp-is-not-here\n', '');
    for (const name of ['smolrtsp.yaml', 'smolrtsp.yml']) {
      const file = join(dir, name);
      writeFileSync(file, text);
      const c = loadConfig(file);
      assert.equal(c.port, 8555);
      assert.deepEqual(c.auth?.users, [{ name: 'viewer', passwordEnv: 'VIEWER_PASSWORD' }]);
      assert.deepEqual(c.paths['/cam'], { source: 'pattern', pattern: '1280x720@30', audio: true, gop: 2 });
      assert.deepEqual(c.paths['/clip'], { source: 'file', file: join(dir, 'clips', 'a.mp4') });
    }
    // The same config as JSON reads the same.
    const json = join(dir, 'smolrtsp.json');
    writeFileSync(json, JSON.stringify(loadConfig(join(dir, 'smolrtsp.yaml'))));
    assert.deepEqual(loadConfig(json), loadConfig(join(dir, 'smolrtsp.yaml')));
    // Only comments: every default.
    assert.deepEqual(parseConfig('# nothing yet\n', 'smolrtsp.yaml').paths, {});
  });

  it('names the key and the line of each problem', () => {
    const bad = YAML.replace('1280x720@30', '1280x720x30').replace('port: 8555', 'port: "x"');
    assert.equal(
      problem(bad),
      'config smolrtsp.yaml is not valid:\n' +
        '  port (line 2): Invalid input: expected number, received string\n' +
        '  paths./cam.pattern (line 11): like 1280x720@30\n' +
        '  paths./door (line 14): Invalid input: expected object, received string',
    );
    // A size the pattern cannot draw, an unknown key (named itself), a key that is no path, a user
    // without a password (the item's line), a missing source (the path's own line).
    const lines = problem(
      YAML.replace('1280x720@30', '1281x720@30')
        .replace('    audio: true\n', '    audio: true\n    colour: red\n')
        .replace('  /door: rtsp-is-not-here\n', '  door: { source: publish }\n  /x:\n    gop: 1\n')
        .replace('      passwordEnv: VIEWER_PASSWORD\n', ''),
    ).split('\n');
    assert.deepEqual(lines.slice(1), [
      '  auth.users.0 (line 5): a user needs a password, passwordEnv or ha1',
      '  paths./cam.pattern (line 10): pattern 1281x720@30 must look like 1280x720@30 (128x96 to 4096x2304, even sizes, 1 to 120 fps)',
      '  paths./cam.colour (line 12): Unrecognized key: "colour"',
      '  paths.door (line 14): paths start with /',
      "  paths./x.source (line 15): Invalid discriminator value. Expected 'relay' | 'pattern' | 'file' | 'ffmpeg' | 'publish'",
    ]);
  });

  it('gives the line and column of a YAML syntax error', () => {
    assert.match(
      problem('paths:\n  /a:\n    source: pattern\n   pattern: [160x120\n'),
      /^cannot read config smolrtsp\.yaml: line 4, column \d+: /,
    );
    assert.match(
      problem('paths:\n  /a: 1\n  /a: 2\n'),
      /^cannot read config smolrtsp\.yaml: line 3, column 3: .*unique/i,
    );
  });

  it('names lines in JSON too, and the line of a JSON syntax error', () => {
    const json =
      '{\n  "port": 8554,\n  "paths": {\n    "/a": { "source": "pattern", "pattern": "1x" }\n  }\n}\n';
    assert.equal(
      problem(json, 'smolrtsp.json'),
      'config smolrtsp.json is not valid:\n  paths./a.pattern (line 4): like 1280x720@30',
    );
    assert.match(
      problem('{\n  "port": 8554,\n}\n', 'smolrtsp.json'),
      /^cannot read config smolrtsp\.json: line 3, column 1: /,
    );
  });

  it('maps a path to the line of its key, or of the nearest key above it', () => {
    const { lineOf } = readConfigText('a:\n  b:\n    - x\n    - y: 1\n      z:\n        2\n', 'yaml');
    assert.equal(lineOf(['a']), 1);
    assert.equal(lineOf(['a', 'b', 1, 'y']), 4);
    assert.equal(lineOf(['a', 'b', 1, 'missing']), 4);
    assert.equal(lineOf(['a', 'b', 0]), 3);
    assert.equal(lineOf(['a', 'b', 1, 'z']), 6, 'a scalar on its own line');
    assert.equal(lineOf(['nope']), 1, 'the document itself');
  });
});
