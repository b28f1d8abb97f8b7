// The HTTP server under the API and web page: routing, JSON errors, body limits, and the RTSP
// server's authenticator (users, rules with the `api` and `read` actions, Digest challenges).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { after, describe, it } from 'node:test';
import { HttpError, HttpServer } from '../../../src/http/http-server.js';
import { createAuthenticator } from '../../../src/server/auth.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(
  port: number,
  method: string,
  path: string,
  options: { body?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('HttpServer', () => {
  const servers: HttpServer[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });

  async function start(http: HttpServer): Promise<number> {
    servers.push(http);
    return http.listen();
  }

  it('routes by method and pattern, with :params and a *rest', async () => {
    const http = new HttpServer();
    http.route('GET', '/api/v1/things/:id', (c) => c.sendJson(200, { id: c.params.id }));
    http.route('DELETE', '/api/v1/things/:id', (c) => c.sendJson(200, { gone: c.params.id }));
    http.route('POST', '/whep/*path', (c) => c.sendJson(201, { path: c.params.path }));
    const port = await start(http);
    assert.deepEqual(JSON.parse((await call(port, 'GET', '/api/v1/things/a%20b')).body), { id: 'a b' });
    assert.deepEqual(JSON.parse((await call(port, 'DELETE', '/api/v1/things/7')).body), { gone: '7' });
    const whep = await call(port, 'POST', '/whep/cam/sub');
    assert.equal(whep.status, 201);
    assert.deepEqual(JSON.parse(whep.body), { path: 'cam/sub' });
    const missing = await call(port, 'GET', '/api/v1/nothing');
    assert.equal(missing.status, 404);
    assert.match(JSON.parse(missing.body).error, /no such resource/);
    const wrong = await call(port, 'PATCH', '/api/v1/things/7');
    assert.equal(wrong.status, 405);
    const head = await call(port, 'HEAD', '/api/v1/things/1');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  });

  it('answers an HttpError with its status, message and field; anything else is a 500 without details', async () => {
    const http = new HttpServer({ maxBodyBytes: 64 });
    const errors: Error[] = [];
    http.on('error', (e) => errors.push(e));
    http.route('POST', '/echo', async (c) => c.sendJson(200, await c.json()));
    http.route('GET', '/bad', () => {
      throw new HttpError(400, 'port must be a number', 'port');
    });
    http.route('GET', '/boom', () => {
      throw new Error('secret internals');
    });
    const port = await start(http);
    assert.deepEqual(JSON.parse((await call(port, 'POST', '/echo', { body: '{"a":1}' })).body), { a: 1 });
    const notJson = await call(port, 'POST', '/echo', { body: '{nope' });
    assert.equal(notJson.status, 400);
    assert.match(JSON.parse(notJson.body).error, /not JSON/);
    const big = await call(port, 'POST', '/echo', { body: JSON.stringify({ a: 'x'.repeat(100) }) });
    assert.equal(big.status, 413);
    const bad = await call(port, 'GET', '/bad');
    assert.equal(bad.status, 400);
    assert.deepEqual(JSON.parse(bad.body), { error: 'port must be a number', field: 'port' });
    const boom = await call(port, 'GET', '/boom');
    assert.equal(boom.status, 500);
    assert.doesNotMatch(boom.body, /secret/);
    assert.equal(errors.length, 1);
  });

  it('asks for credentials with the RTSP users and rules: 401 with a challenge, 403 for a rule, the user for the handler', async () => {
    const authenticator = createAuthenticator({
      methods: ['digest', 'basic'],
      users: [
        { name: 'admin', password: 'pw-admin' },
        { name: 'viewer', password: 'pw-viewer' },
      ],
      rules: [
        { path: '*', action: 'api', users: ['admin'] },
        { path: '/cam', action: 'read', users: ['viewer', 'admin'] },
      ],
    });
    const http = new HttpServer({ authenticator });
    http.route('GET', '/api/v1/whoami', (c) => c.sendJson(200, { user: c.user }));
    http.route('POST', '/whep/*path', (c) => c.sendJson(201, { user: c.user }), {
      action: 'read',
      path: (c) => `/${c.params.path}`,
    });
    http.route('GET', '/app.js', (c) => c.send(200, '1', 'text/javascript'), 'public');
    const port = await start(http);

    const none = await call(port, 'GET', '/api/v1/whoami');
    assert.equal(none.status, 401);
    const challenge = String(none.headers['www-authenticate']);
    assert.match(challenge, /Digest realm="smolrtsp"/);
    assert.match(challenge, /Basic realm="smolrtsp"/);

    const admin = await call(port, 'GET', '/api/v1/whoami', {
      headers: { Authorization: basic('admin', 'pw-admin') },
    });
    assert.equal(admin.status, 200);
    assert.deepEqual(JSON.parse(admin.body), { user: 'admin' });
    const viewer = await call(port, 'GET', '/api/v1/whoami', {
      headers: { Authorization: basic('viewer', 'pw-viewer') },
    });
    assert.equal(viewer.status, 403, 'the api rule names admin only');
    const wrong = await call(port, 'GET', '/api/v1/whoami', {
      headers: { Authorization: basic('admin', 'nope') },
    });
    assert.equal(wrong.status, 401);

    // Digest as a browser answers it: the HTTP method and the request target.
    const digest = /Digest realm="([^"]+)", nonce="([^"]+)"(?:, algorithm=MD5)?/.exec(challenge);
    assert.ok(digest, challenge);
    const [, realm, nonce] = digest;
    const md5 = (s: string) => createHash('md5').update(s).digest('hex');
    const response = md5(`${md5(`viewer:${realm}:pw-viewer`)}:${nonce}:${md5('POST:/whep/cam')}`);
    const whep = await call(port, 'POST', '/whep/cam', {
      headers: {
        Authorization: `Digest username="viewer", realm="${realm}", nonce="${nonce}", uri="/whep/cam", response="${response}"`,
      },
    });
    assert.equal(whep.status, 201, whep.body);
    assert.deepEqual(JSON.parse(whep.body), { user: 'viewer' });
    const other = await call(port, 'POST', '/whep/door', {
      headers: { Authorization: basic('viewer', 'pw-viewer') },
    });
    assert.equal(other.status, 403, 'no read rule for /door');

    assert.equal((await call(port, 'GET', '/app.js')).status, 200, 'public routes need nothing');
  });

  it('closes with clients still connected', async () => {
    const http = new HttpServer();
    http.route('GET', '/hang', () => new Promise<void>(() => {}));
    const port = await http.listen();
    const pending = call(port, 'GET', '/hang').catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 100));
    await http.close();
    assert.ok((await pending) instanceof Error);
  });
});
