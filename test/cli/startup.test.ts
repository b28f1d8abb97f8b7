// What a user meets when a command line is wrong or something is in the way: one line on stderr
// naming the real reason, exit code 2, nothing served. And the options that take a value accept
// one that starts with '-' (ffmpeg's arguments), as the help shows them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createTcpServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { joinOptionValues } from '../../src/cli/main.js';
import { createServer, ListenError } from '../../src/server/rtsp-server.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    encoding: 'utf8',
    input,
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Asserts a startup failure: exit 2, exactly one line on stderr containing `text`, nothing on stdout. */
function assertOneLineFailure(args: string[], text: string | RegExp): string {
  const r = cli(args);
  assert.equal(r.code, 2, `exit code for ${args.join(' ')}: ${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`);
  if (typeof text === 'string') assert.ok(lines[0].includes(text), `${lines[0]} should say ${text}`);
  else assert.match(lines[0], text);
  assert.equal(r.stdout, '', 'nothing served, nothing printed on stdout');
  return lines[0];
}

const base = ['serve', '--host', '127.0.0.1', '--port', '0'];

function listening(): Promise<Server> {
  return new Promise((resolve) => {
    const s = createTcpServer();
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
}

describe('serve: HTTP startup failures', () => {
  it('an HTTP port in use, --http-tls without a certificate, --http-host without a port: one line, exit 2', async () => {
    const busy = await listening();
    try {
      const busyPort = (busy.address() as { port: number }).port;
      assertOneLineFailure(
        [...base, '--http-port', String(busyPort)],
        `cannot listen for HTTP on port ${busyPort}`,
      );
    } finally {
      busy.close();
    }
    assertOneLineFailure(
      [...base, '--http-port', '0', '--http-tls'],
      '--http-tls uses the RTSPS certificate',
    );
    assertOneLineFailure([...base, '--http-host', '0.0.0.0'], '--http-host and --http-tls need --http-port');
  });
});

describe('serve: option values', () => {
  it('takes a separate value that starts with "-" (ffmpeg arguments)', () => {
    const set = new Set(['ffmpeg', 'path', 'port']);
    assert.deepEqual(joinOptionValues(['--ffmpeg', '-f v4l2 -i /dev/video0', '--path', '/cam'], set), [
      '--ffmpeg=-f v4l2 -i /dev/video0',
      '--path=/cam',
    ]);
    // A flag is never given a value; a missing value stays missing; `--` ends the options.
    assert.deepEqual(joinOptionValues(['--audio', '-x'], set), ['--audio', '-x']);
    assert.deepEqual(joinOptionValues(['--port', '--path', '/a'], set), ['--port', '--path=/a']);
    assert.deepEqual(joinOptionValues(['--', '--port', '1'], set), ['--', '--port', '1']);
  });

  it('serve --ffmpeg "-re -i movie.mp4" parses as the help shows it', () => {
    const r = cli(['serve', '--ffmpeg', '-re -i movie.mp4', '--path', '/movie', '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /--ffmpeg "ARGS"/);
  });
});

describe('serve: startup failures', () => {
  it('names the RTSPS port that could not be bound, and 8322 is the default TLS port', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smolrtsp-tls-'));
    const ssl = spawnSync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-days',
      '1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ]);
    assert.equal(ssl.status, 0, 'openssl made a certificate');
    const busy = await listening();
    try {
      const busyPort = (busy.address() as { port: number }).port;
      assertOneLineFailure(
        [
          ...base,
          '--tls-cert',
          join(dir, 'cert.pem'),
          '--tls-key',
          join(dir, 'key.pem'),
          '--tls-port',
          String(busyPort),
        ],
        `cannot listen for RTSPS on 127.0.0.1:${busyPort}: address already in use`,
      );
      // The RTSP port gets its own message, and a failed TLS listen gives the RTSP port back.
      await assert.rejects(
        createServer({ host: '127.0.0.1', port: busyPort }),
        (err: ListenError) => err instanceof ListenError && err.protocol === 'RTSP' && err.port === busyPort,
      );
    } finally {
      busy.close();
    }
    assert.match(cli(['serve', '--help']).stdout, /--tls-port N {8}RTSPS port \(default 8322\)/);
    // A key that does not belong to the certificate.
    const other = spawnSync('openssl', ['genrsa', '-out', join(dir, 'other.pem'), '2048']);
    assert.equal(other.status, 0);
    assertOneLineFailure(
      [...base, '--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'other.pem')],
      'the TLS certificate and key do not make a usable pair',
    );
    writeFileSync(join(dir, 'junk.pem'), 'not a certificate\n');
    assertOneLineFailure(
      [...base, '--tls-cert', join(dir, 'junk.pem'), '--tls-key', join(dir, 'key.pem')],
      'the TLS certificate and key do not make a usable pair',
    );
  });

  it('a bad --allow network says so, not "cannot listen"', () => {
    const line = assertOneLineFailure([...base, '--allow', '10.0.0.0/33'], '--allow/--deny: ');
    assert.ok(!line.includes('cannot listen'), line);
    assert.ok(line.includes('10.0.0.0/33'), line);
  });

  it('a source that cannot start gives its reason on stderr', () => {
    assertOneLineFailure(
      [...base, '--file', 'no-such-clip.264'],
      'cannot serve /test: no such file: no-such-clip.264',
    );
    assertOneLineFailure(
      [...base, '--file', 'no-such-clip.mp4', '--path', '/c'],
      /cannot serve \/c: .*no-such-clip\.mp4/,
    );
  });

  it('refuses options that do not apply to the chosen source', () => {
    const clip = fileURLToPath(new URL('../../fixtures/sample-640x480-25fps.264', import.meta.url));
    assertOneLineFailure(
      [...base, '--file', clip, '--audio'],
      '--audio gives the test pattern a sound track',
    );
    assertOneLineFailure([...base, '--file', clip, '--gop', '3'], '--gop sets the keyframe interval');
    assertOneLineFailure([...base, '--fps', '30'], '--fps applies to .264/.265 files only');
    assertOneLineFailure([...base, '--ffmpeg', '-i x.mp4', '--audio'], '--audio gives the test pattern');
  });

  it('--gop 0 says what it takes', () => {
    assertOneLineFailure(
      [...base, '--gop', '0'],
      '--gop must be a number of seconds above 0 and at most 60 (got 0)',
    );
  });

  it('a pattern too small names the smallest size', () => {
    assertOneLineFailure(
      [...base, '--pattern', '64x48'],
      'pattern 64x48 must look like 1280x720@30 (128x96 to',
    );
  });
});

describe('hash-password', () => {
  it('prints MD5(name:realm:password) from stdin, with the default or a given realm', () => {
    // Values from: printf 'viewer:smolrtsp:s3cret' | md5sum
    const r = cli(['hash-password', 'viewer'], 's3cret\n');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '546c5fdfb8374d99d368423078e96c88\n');
    const other = cli(['hash-password', 'viewer', '--realm', 'cams'], 's3cret');
    assert.notEqual(other.stdout, r.stdout);
    assert.match(other.stdout, /^[0-9a-f]{32}\n$/);
    assert.match(cli(['hash-password', 'viewer', '--sha256'], 's3cret').stdout, /^[0-9a-f]{64}\n$/);
    assert.equal(cli(['hash-password'], 'x').code, 2);
    assert.equal(cli(['hash-password', 'viewer'], '').code, 2);
  });
});
