// The server's `refused` event: one per refused request or connection, with what an operator's log
// needs (who, what, status, why) and a failed login told apart from a routine Digest challenge.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { RefusalInfo } from '../../src/server/rtsp-server.js';
import { digestAuthorization, RawRtspClient } from '../helpers/rtsp-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('refused event', () => {
  let ts: TestServer;
  const events: RefusalInfo[] = [];
  const clientErrors: Error[] = [];
  const clients: RawRtspClient[] = [];
  const open = async (localAddress?: string) => {
    const c = await RawRtspClient.connect(ts.port, '127.0.0.1', localAddress);
    clients.push(c);
    return c;
  };
  /** Closes every client and waits until the server has let go of them. */
  const closeAll = async () => {
    for (const c of clients.splice(0)) c.close();
    const deadline = Date.now() + 5000;
    while (ts.server.connectionCount > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
  };

  before(async () => {
    ts = await startTestServer({
      auth: { users: [{ name: 'alice', password: 'secret' }] },
      maxConnectionsPerAddress: 2,
      ipFilter: { deny: ['127.0.0.2/32'] },
      requestTimeoutMs: 400,
    });
    ts.server.on('refused', (info) => events.push(info));
    ts.server.on('clientError', (err) => clientErrors.push(err));
  });
  beforeEach(async () => {
    await closeAll();
    events.length = 0;
    clientErrors.length = 0;
  });
  after(async () => {
    await closeAll();
    await ts.close();
  });

  it('a Digest challenge and a failed login are one event each, told apart; a good login is none', async () => {
    const c = await open();
    const challenge = await c.request('DESCRIBE', ts.url);
    assert.equal(challenge.status, 401);
    assert.equal(events.length, 1);
    assert.deepEqual(events[0], {
      status: 401,
      method: 'DESCRIBE',
      path: '/test',
      remoteAddress: '127.0.0.1',
      remotePort: c.socket.localPort,
      reason: 'authentication required',
      code: 'ERR_RTSP_AUTH_REQUIRED',
    });

    const wrong = await c.request('DESCRIBE', ts.url, {
      Authorization: digestAuthorization(challenge, 'DESCRIBE', ts.url, 'alice', 'guess'),
    });
    assert.equal(wrong.status, 401);
    assert.equal(events.length, 2);
    assert.deepEqual(events[1], {
      status: 401,
      method: 'DESCRIBE',
      path: '/test',
      remoteAddress: '127.0.0.1',
      remotePort: c.socket.localPort,
      reason: 'authentication failed',
      code: 'ERR_RTSP_AUTH_FAILED',
      user: 'alice',
    });

    const ok = await c.request('DESCRIBE', ts.url, {
      Authorization: digestAuthorization(wrong, 'DESCRIBE', ts.url, 'alice', 'secret'),
    });
    assert.equal(ok.status, 200);
    assert.equal(events.length, 2, 'a success is no refusal');
  });

  it('404, 405, 501 and a missing CSeq each give one event with method, path and code', async () => {
    const c = await open();
    const challenge = await c.request('DESCRIBE', `rtsp://127.0.0.1:${ts.port}/nope`);
    events.length = 0;
    const nope = `rtsp://alice:pw@127.0.0.1:${ts.port}/nope?x=1`;
    const r404 = await c.request('DESCRIBE', nope, {
      Authorization: digestAuthorization(challenge, 'DESCRIBE', nope, 'alice', 'secret'),
    });
    assert.equal(r404.status, 404);
    assert.equal((await c.request('REDIRECT', ts.url)).status, 405);
    assert.equal((await c.request('FROBNICATE', ts.url)).status, 501);
    c.send(`OPTIONS ${ts.url} RTSP/1.0\r\n\r\n`);
    assert.equal((await c.nextResponse()).status, 400);
    assert.deepEqual(
      events.map((e) => [e.status, e.method, e.path, e.code, e.remoteAddress]),
      [
        [404, 'DESCRIBE', '/nope', 'ERR_RTSP_NOT_FOUND', '127.0.0.1'],
        [405, 'REDIRECT', '/test', 'ERR_RTSP_METHOD_NOT_ALLOWED', '127.0.0.1'],
        [501, 'FROBNICATE', '/test', 'ERR_RTSP_NOT_IMPLEMENTED', '127.0.0.1'],
        [400, 'OPTIONS', '/test', 'ERR_RTSP_NO_CSEQ', '127.0.0.1'],
      ],
    );
    // The path only: a password in the request URL never reaches the event.
    assert.doesNotMatch(JSON.stringify(events), /pw/);
  });

  it('unframeable bytes and a request not finished in time: one event each, no clientError', async () => {
    const garbage = await open();
    garbage.send('\x01\x02 not rtsp\r\n\r\n');
    assert.equal((await garbage.nextResponse()).status, 400);
    await garbage.closed;
    const slow = await open();
    slow.send(`OPTIONS ${ts.url} RTSP/1.0\r\nCSeq: 1\r\n`);
    assert.equal((await slow.nextResponse()).status, 408);
    await slow.closed;
    assert.deepEqual(
      events.map((e) => [e.status, e.method, e.code]),
      [
        [400, undefined, 'ERR_RTSP_PARSE'],
        [408, undefined, 'ERR_RTSP_REQUEST_TIMEOUT'],
      ],
    );
    assert.deepEqual(clientErrors, []);
  });

  it('a connection over the per-address limit and a denied address: one event each, no status', async () => {
    await open();
    await open();
    const third = await open();
    const thirdPort = third.socket.localPort;
    await third.closed;
    const denied = await open('127.0.0.2');
    await denied.closed;
    assert.deepEqual(
      events.map((e) => [e.status, e.method, e.remoteAddress, e.code, e.reason]),
      [
        [
          undefined,
          undefined,
          '127.0.0.1',
          'ERR_RTSP_TOO_MANY_CONNECTIONS',
          'connection limit per address reached',
        ],
        [undefined, undefined, '127.0.0.2', 'ERR_RTSP_ADDRESS_DENIED', 'address not allowed'],
      ],
    );
    assert.equal(events[0].remotePort, thirdPort);
  });
});
