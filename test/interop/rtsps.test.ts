// RTSPS: RTSP over TLS on its own port, with a self-signed certificate made here.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { RtspParser } from '../../src/protocol/parser.js';
import { createServer } from '../../src/server/rtsp-server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { hasTool, requireTools, run } from '../helpers/tools.js';

describe('RTSPS', { concurrency: 1 }, () => {
  let dir = '';
  let ts: TestServer | undefined;
  let rtsps = '';
  let pem: { cert: Buffer; key: Buffer } | undefined;

  before(async () => {
    if (!hasTool('openssl')) return;
    dir = mkdtempSync(join(tmpdir(), 'smolrtsp-tls-'));
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    const r = await run(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
      ],
      30_000,
    );
    assert.equal(r.code, 0, r.stderr);
    pem = { cert: readFileSync(cert), key: readFileSync(key) };
    ts = await startTestServer({ tls: { ...pem, port: 0 } });
    rtsps = `rtsps://127.0.0.1:${ts.server.tlsPort}/test`;
  });
  after(async () => {
    await ts?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ffprobe plays rtsps:// against a self-signed certificate', async (t) => {
    if (!requireTools(t, 'openssl', 'ffprobe')) return;
    const r = await run(
      'ffprobe',
      ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0', rtsps],
      20_000,
    );
    assert.equal(r.stdout.toString().trim(), 'h264,640,480', r.stderr);
  });

  it('ffmpeg decodes 3 s over RTSPS with no errors', async (t) => {
    if (!requireTools(t, 'openssl', 'ffmpeg')) return;
    const r = await run(
      'ffmpeg',
      ['-nostdin', '-v', 'error', '-i', rtsps, '-t', '3', '-f', 'framecrc', '-'],
      20_000,
    );
    const frames = r.stdout
      .toString()
      .split('\n')
      .filter((l) => /^0,/.test(l)).length;
    assert.equal(r.stderr.trim(), '');
    assert.ok(frames >= 73, `${frames} frames`);
  });

  it('plain UDP media is refused on a TLS connection (461); interleaved is accepted', async (t) => {
    if (!requireTools(t, 'openssl')) return;
    const socket = tlsConnect({ host: '127.0.0.1', port: ts!.server.tlsPort!, rejectUnauthorized: false });
    const parser = new RtspParser();
    const responses: number[] = [];
    socket.on('data', (d: Buffer) => {
      for (const m of parser.push(d)) if (m.kind === 'response') responses.push(m.status);
    });
    await new Promise<void>((resolve) => socket.once('secureConnect', () => resolve()));
    socket.write(
      `SETUP ${rtsps}/trackID=0 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP;unicast;client_port=5000-5001\r\n\r\n`,
    );
    socket.write(
      `SETUP ${rtsps}/trackID=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n`,
    );
    const deadline = Date.now() + 5000;
    while (responses.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(responses, [461, 200]);
    socket.destroy();
  });

  it('plain RTSP on the TLS port fails the handshake without hurting the server', async (t) => {
    if (!requireTools(t, 'openssl', 'ffprobe')) return;
    const r = await run('ffprobe', ['-v', 'error', `rtsp://127.0.0.1:${ts!.server.tlsPort}/test`], 10_000);
    assert.notEqual(r.code, 0);
    const ok = await run(
      'ffprobe',
      ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', rtsps],
      20_000,
    );
    assert.equal(ok.stdout.toString().trim(), 'h264');
  });

  it('the address filter and the connection limits act before the handshake; close() does not wait for one', async (t) => {
    if (!requireTools(t, 'openssl')) return;
    const open = (port: number) =>
      new Promise<Socket>((resolve, reject) => {
        const s = tcpConnect(port, '127.0.0.1', () => resolve(s));
        s.once('error', reject);
      });
    const closedWithin = (s: Socket, ms: number) =>
      new Promise<boolean>((resolve) => {
        if (s.destroyed) return resolve(true);
        const timer = setTimeout(() => resolve(false), ms);
        s.once('close', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
    // Denied: the socket is closed without a handshake (a TLS client sees no certificate).
    const denied = await createServer({
      host: '127.0.0.1',
      port: 0,
      tls: { ...pem!, port: 0 },
      ipFilter: { deny: ['127.0.0.1'] },
    });
    try {
      let certSeen = false;
      const client = tlsConnect(
        { port: denied.tlsPort!, host: '127.0.0.1', rejectUnauthorized: false },
        () => {
          certSeen = true;
        },
      );
      client.on('error', () => {});
      await new Promise((r) => client.once('close', r));
      assert.equal(certSeen, false, 'handshake completed for a denied address');
    } finally {
      await denied.close();
    }
    // Two per address: silent sockets (still handshaking) count; the third is closed at once.
    const limited = await createServer({
      host: '127.0.0.1',
      port: 0,
      tls: { ...pem!, port: 0 },
      maxConnectionsPerAddress: 2,
    });
    const silent = [await open(limited.tlsPort!), await open(limited.tlsPort!)];
    await new Promise((r) => setTimeout(r, 50));
    const third = await open(limited.tlsPort!);
    assert.equal(await closedWithin(third, 3000), true, 'a third handshaking socket was let in');
    assert.equal(silent[0].destroyed, false);
    const t0 = performance.now();
    await limited.close();
    const took = performance.now() - t0;
    assert.ok(took < 3000, `close() took ${took.toFixed(0)} ms with sockets in their handshake`);
    for (const s of silent) s.destroy();
  });
});
