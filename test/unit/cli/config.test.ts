import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig, resolveUsers } from '../../../src/cli/config.js';

function write(obj: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'smolrtsp-config-'));
  const file = join(dir, 'smolrtsp.json');
  writeFileSync(file, typeof obj === 'string' ? obj : JSON.stringify(obj));
  return file;
}

describe('config file', () => {
  it('reads paths with their sources, resolves file paths against the config, fills defaults', () => {
    const file = write({
      port: 8555,
      rtpPorts: '30000-30999',
      paths: {
        '/test': { source: 'pattern', pattern: '1280x720@30', audio: true },
        '/cam': { source: 'ffmpeg', ffmpeg: '-f v4l2 -i /dev/video0' },
        '/clip': { source: 'file', file: 'clips/a.mp4' },
      },
    });
    const c = loadConfig(file);
    assert.equal(c.port, 8555);
    assert.deepEqual(c.rtpPorts, [30000, 30999]);
    assert.deepEqual(c.paths['/test'], { source: 'pattern', pattern: '1280x720@30', audio: true, gop: 2 });
    // gop also sets the keyframe interval of video the ffmpeg source has to encode.
    assert.deepEqual(c.paths['/cam'], { source: 'ffmpeg', ffmpeg: '-f v4l2 -i /dev/video0', gop: 2 });
    const clip = c.paths['/clip'];
    assert.ok(clip.source === 'file' && clip.file === join(file, '..', 'clips', 'a.mp4'));
  });

  it("reads a path's multicast group in the short and the long form, and refuses a bad one", () => {
    const c = loadConfig(
      write({
        paths: {
          '/a': { source: 'pattern', multicast: '239.1.2.3:5000' },
          '/b': { source: 'publish', multicast: { group: '239.1.2.4', ttl: 8 } },
        },
      }),
    );
    assert.deepEqual(c.paths['/a'].multicast, { group: '239.1.2.3', port: 5000, ttl: 1 });
    assert.deepEqual(c.paths['/b'].multicast, { group: '239.1.2.4', port: 5004, ttl: 8 });
    for (const bad of ['10.0.0.1:5000', '239.1.2.3:5001', { group: '239.1.2.3', ttl: 0 }]) {
      assert.throws(
        () => loadConfig(write({ paths: { '/a': { source: 'pattern', multicast: bad } } })),
        /paths\.\/a\.multicast/,
      );
    }
  });

  it('names every problem with its place', () => {
    const file = write({ port: 'x', paths: { cam: { source: 'file' } }, bogus: 1 });
    assert.throws(
      () => loadConfig(file),
      (err: Error) =>
        /port/.test(err.message) && /paths/.test(err.message) && /bogus|Unrecognized/.test(err.message),
    );
    assert.throws(() => loadConfig(write('{ not json')), /cannot read config/);
  });

  it('takes passwords from the environment and refuses a missing variable', () => {
    const users = [
      { name: 'a', passwordEnv: 'CAM_PW' },
      { name: 'b', ha1Md5: '0123456789abcdef0123456789abcdef' },
    ];
    assert.deepEqual(resolveUsers(users, { CAM_PW: 's3cret' }), [
      { name: 'a', password: 's3cret', ha1Md5: undefined, ha1Sha256: undefined },
      { name: 'b', password: undefined, ha1Md5: '0123456789abcdef0123456789abcdef', ha1Sha256: undefined },
    ]);
    assert.throws(() => resolveUsers(users, {}), /CAM_PW is not set/);
  });

  it('requires some credential for each user', () => {
    assert.throws(() => loadConfig(write({ auth: { users: [{ name: 'x' }] } })), /password/);
  });
});
