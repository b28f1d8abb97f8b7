// Bad input on RTSP over HTTP and over WebSocket, from raw sockets: each gets a clear status or a
// close, and nothing is left behind (no connection, no session). Also: base64 split at every byte.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { HttpServer } from '../../src/http/http-server.js';
import type { RefusalInfo } from '../../src/server/rtsp-server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

interface Raw {
  socket: Socket;
  /** Everything received so far. */
  readonly text: string;
  closed: Promise<void>;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

function open(port: number): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
    });
    socket.on('error', () => {});
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('connect', () =>
      resolve({
        socket,
        get text() {
          return text;
        },
        closed,
        async waitFor(pattern, timeoutMs = 5000) {
          const deadline = Date.now() + timeoutMs;
          while (!pattern.test(text)) {
            assert.ok(Date.now() < deadline, `not seen: ${pattern}; got ${JSON.stringify(text)}`);
            await new Promise((r) => setTimeout(r, 20));
          }
        },
      }),
    );
    socket.once('error', reject);
  });
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} not within ${ms} ms`)), ms)),
  ]);
}

const getHead = (cookie?: string) =>
  `GET /test HTTP/1.0\r\n${cookie ? `x-sessioncookie: ${cookie}\r\n` : ''}Accept: application/x-rtsp-tunnelled\r\n\r\n`;
const postHead = (cookie: string) =>
  `POST /test HTTP/1.0\r\nx-sessioncookie: ${cookie}\r\nContent-Type: application/x-rtsp-tunnelled\r\nContent-Length: 32767\r\n\r\n`;
const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('RTSP over HTTP and WebSocket: bad input', { concurrency: 1 }, () => {
  let ts: TestServer;
  let http: HttpServer;
  const refused: RefusalInfo[] = [];

  before(async () => {
    ts = await startTestServer({ requestTimeoutMs: 800 });
    ts.server.on('refused', (r) => refused.push(r));
    http = new HttpServer({ host: '127.0.0.1', port: 0 });
    http.divert((socket, head, rest) => ts.server.takeHttpSocket(socket, head, rest));
    await http.listen();
  });
  after(async () => {
    await Promise.all([ts.close(), http.close()]);
  });
  afterEach(async () => {
    // Nothing leaked: every socket closed, every session ended.
    const deadline = Date.now() + 5000;
    while ((ts.server.connectionCount > 0 || ts.server.sessions().length > 0) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal(ts.server.connectionCount, 0, 'connections back to zero');
    assert.equal(ts.server.sessions().length, 0, 'sessions back to zero');
  });

  for (const which of ['RTSP', 'HTTP'] as const) {
    const portOf = () => (which === 'RTSP' ? ts.port : http.port);

    it(`${which} port: a tunnel GET without a cookie gets 400 and is closed`, async () => {
      const c = await open(portOf());
      c.socket.write(getHead());
      await within(c.closed, 5000, 'close');
      assert.match(c.text, /^HTTP\/1\.0 400 /);
      assert.equal(refused.at(-1)?.code, 'ERR_RTSP_TUNNEL_NO_COOKIE');
    });

    it(`${which} port: a POST for an unknown cookie gets 404 and is closed`, async () => {
      const c = await open(portOf());
      c.socket.write(postHead('nosuchcookie') + b64('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n'));
      await within(c.closed, 5000, 'close');
      assert.match(c.text, /^HTTP\/1\.0 404 /);
      assert.equal(refused.at(-1)?.code, 'ERR_RTSP_TUNNEL_UNKNOWN_COOKIE');
    });

    it(`${which} port: base64 garbage in the POST gets 400 and closes both halves`, async () => {
      const get = await open(portOf());
      get.socket.write(getHead('garbage1'));
      await get.waitFor(/application\/x-rtsp-tunnelled\r\n\r\n/);
      const post = await open(portOf());
      post.socket.write(`${postHead('garbage1')}${b64('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n')}`);
      await get.waitFor(/RTSP\/1\.0 200 OK/);
      post.socket.write('*** not base64 ***');
      await within(Promise.all([get.closed, post.closed]), 5000, 'both halves closed');
      assert.match(post.text, /^HTTP\/1\.0 400 /);
      assert.equal(refused.at(-1)?.code, 'ERR_RTSP_TUNNEL_BAD_BASE64');
    });

    it(`${which} port: a half-open tunnel (GET only) is closed after the request deadline`, async () => {
      const get = await open(portOf());
      get.socket.write(getHead('halfopen'));
      await get.waitFor(/^HTTP\/1\.0 200 OK/);
      await within(get.closed, 5000, 'close of the lone GET');
      assert.equal(refused.at(-1)?.code, 'ERR_RTSP_TUNNEL_TIMEOUT');
    });

    it(`${which} port: WebSocket frames the client did not mask close it (1002)`, async () => {
      const c = await open(portOf());
      c.socket.write(
        'GET /rtsp-over-websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
          'Sec-WebSocket-Protocol: binary\r\n\r\n',
      );
      await c.waitFor(/Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/);
      assert.match(c.text, /Sec-WebSocket-Protocol: binary\r\n/);
      c.socket.write(Buffer.from([0x82, 0x03, 0x41, 0x42, 0x43]));
      await within(c.closed, 5000, 'close');
      const bytes = Buffer.from(c.text.slice(c.text.indexOf('\r\n\r\n') + 4), 'latin1');
      assert.deepEqual([...bytes.subarray(0, 4)], [0x88, bytes[1], 0x03, 0xea], 'a close frame with 1002');
    });
  }

  it('a WebSocket upgrade on another path gets 404 on the RTSP port', async () => {
    const c = await open(ts.port);
    c.socket.write(
      'GET /elsewhere HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    await within(c.closed, 5000, 'close');
    assert.match(c.text, /^HTTP\/1\.0 404 /);
  });

  it('base64 split at every byte, each request padded on its own, is read whole; a session ends with the GET', async () => {
    const get = await open(ts.port);
    get.socket.write(getHead('bytewise'));
    await get.waitFor(/application\/x-rtsp-tunnelled\r\n\r\n/);
    const post = await open(ts.port);
    post.socket.write(postHead('bytewise'));
    // "OPTIONS" encodes with padding, then the next request starts a fresh base64 run.
    const body =
      b64('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n') + b64(`DESCRIBE ${ts.url} RTSP/1.0\r\nCSeq: 2\r\n\r\n`);
    assert.match(body, /=.+/, 'padding in the middle of the stream');
    for (const ch of body) {
      post.socket.write(ch);
      await new Promise((r) => setImmediate(r));
    }
    await get.waitFor(/CSeq: 2\r\n[\s\S]*m=video/);
    post.socket.write(
      b64(
        `SETUP ${ts.url}/trackID=0 RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n`,
      ),
    );
    await get.waitFor(/CSeq: 3\r\n/);
    const session = /Session: ([^;\r]+)/.exec(get.text)?.[1];
    assert.ok(session, get.text);
    post.socket.write(b64(`PLAY ${ts.url} RTSP/1.0\r\nCSeq: 4\r\nSession: ${session}\r\n\r\n`));
    await get.waitFor(/CSeq: 4\r\n[\s\S]*\$\x00/);
    assert.equal(ts.server.sessions().length, 1);
    assert.equal(ts.server.connectionCount, 2, 'both halves count as connections');
    get.socket.destroy();
    await within(post.closed, 5000, 'the POST closed with its GET');
  });
});
