// Every status the dispatcher promises, over a real socket against a real server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawRtspClient } from '../helpers/rtsp-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('dispatcher over a real socket', () => {
  let ts: TestServer;
  const clients: RawRtspClient[] = [];
  const open = async () => {
    const c = await RawRtspClient.connect(ts.port);
    clients.push(c);
    return c;
  };

  before(async () => {
    ts = await startTestServer({ maxSessions: 4 });
    ts.server.addStream('/other', { video: { codec: 'H264' } });
  });
  after(async () => {
    for (const c of clients) c.close();
    await ts.close();
  });

  it('OPTIONS lists Public methods and echoes CSeq', async () => {
    const c = await open();
    const r = await c.request('OPTIONS', ts.url);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('cseq'), '1');
    assert.equal(
      r.headers.get('public'),
      'OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER, ANNOUNCE, RECORD',
    );
  });

  it('a request without CSeq gets 400', async () => {
    const c = await open();
    c.send(`OPTIONS ${ts.url} RTSP/1.0\r\n\r\n`);
    const r = await c.nextResponse();
    assert.equal(r.status, 400);
    assert.equal(r.headers.get('cseq'), undefined);
  });

  it('DESCRIBE an unknown path gets 404; a known one SDP with Content-Base ending in /', async () => {
    const c = await open();
    assert.equal((await c.request('DESCRIBE', `rtsp://127.0.0.1:${ts.port}/nope`)).status, 404);
    const r = await c.request('DESCRIBE', `${ts.url}?channel=1`, { Accept: 'application/sdp' });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/sdp');
    const base = r.headers.get('content-base') ?? '';
    assert.ok(base.endsWith('/'), base);
    assert.ok(base.startsWith(ts.url), base);
    const sdp = r.body.toString();
    assert.match(sdp, /^v=0\r\n/);
    assert.match(sdp, /a=control:\*\r\n/);
    assert.match(sdp, /m=video 0 RTP\/AVP 96\r\n/);
    assert.match(sdp, /a=rtpmap:96 H264\/90000\r\n/);
    assert.match(sdp, /a=fmtp:96 [^\r]*packetization-mode=1/);
    assert.match(sdp, /profile-level-id=42C01E/i);
    assert.match(sdp, /sprop-parameter-sets=Z[A-Za-z0-9+/=]+,aM[A-Za-z0-9+/=]+/);
    // With a query in the URL, track controls are absolute: clients resolve relative ones differently.
    assert.match(sdp, new RegExp(`a=control:${ts.url}\\?channel=1/trackID=0\r\n`));
    assert.match(sdp, /a=range:npt=now-\r\n/);
    const plain = await c.request('DESCRIBE', ts.url);
    assert.equal(plain.headers.get('content-base'), `${ts.url}/`);
    assert.match(plain.body.toString(), /a=control:trackID=0\r\n/);
  });

  it('unknown methods get 501, known but unoffered ones 405 with Allow, ANNOUNCE off a publish path 405', async () => {
    const c = await open();
    assert.equal((await c.request('FROBNICATE', ts.url)).status, 501);
    const r = await c.request('REDIRECT', ts.url);
    assert.equal(r.status, 405);
    assert.match(r.headers.get('allow') ?? '', /DESCRIBE/);
    const a = await c.request('ANNOUNCE', ts.url, { 'Content-Type': 'application/sdp' }, 'v=0\r\n');
    assert.equal(a.status, 405);
    assert.doesNotMatch(a.headers.get('allow') ?? '', /ANNOUNCE/);
  });

  it('an unsupported Require gets 551 with Unsupported', async () => {
    const c = await open();
    const r = await c.request('OPTIONS', ts.url, { Require: 'funky-feature, play.basic' });
    assert.equal(r.status, 551);
    assert.equal(r.headers.get('unsupported'), 'funky-feature, play.basic');
  });

  it('SETUP: unknown track 404, unsupported transports 461, first supported alternative wins', async () => {
    const c = await open();
    assert.equal(
      (await c.request('SETUP', `${ts.url}/trackID=9`, { Transport: 'RTP/AVP/TCP;interleaved=0-1' })).status,
      404,
    );
    assert.equal(
      (
        await c.request('SETUP', `${ts.url}/trackID=0`, {
          Transport: 'RTP/SAVP;unicast;client_port=5000-5001',
        })
      ).status,
      461,
    );
    assert.equal(
      (await c.request('SETUP', `${ts.url}/trackID=0`, { Transport: 'RTP/AVP;multicast' })).status,
      461,
    );
    assert.equal((await c.request('SETUP', `${ts.url}/trackID=0`)).status, 461);
    const r = await c.request('SETUP', `${ts.url}/trackID=0`, {
      Transport: 'RTP/SAVP;unicast;client_port=5000-5001, RTP/AVP/TCP;unicast',
    });
    assert.equal(r.status, 200);
    // No interleaved= asked for: the next free pair is assigned.
    assert.match(r.headers.get('transport') ?? '', /^RTP\/AVP\/TCP;unicast;interleaved=0-1;ssrc=[0-9A-F]{8}/);
    assert.match(r.headers.get('session') ?? '', /^[0-9a-f]{24};timeout=60$/);
  });

  it('PLAY/PAUSE/TEARDOWN without or with an unknown session get 454', async () => {
    const c = await open();
    assert.equal((await c.request('PLAY', ts.url)).status, 454);
    assert.equal((await c.request('PAUSE', ts.url, { Session: 'deadbeef00' })).status, 454);
    assert.equal((await c.request('TEARDOWN', ts.url, { Session: 'deadbeef00' })).status, 454);
    assert.equal((await c.request('GET_PARAMETER', ts.url, { Session: 'deadbeef00' })).status, 454);
  });

  it('PLAY on another stream 459; SETUP while playing 455', async () => {
    const c = await open();
    const s = await c.request('SETUP', `${ts.url}/trackID=0`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
    });
    const session = (s.headers.get('session') ?? '').split(';')[0];
    const other = await c.request('PLAY', `rtsp://127.0.0.1:${ts.port}/other`, { Session: session });
    assert.equal(other.status, 459);
    c.onFrame = () => {};
    const play = await c.request('PLAY', ts.url, { Session: session });
    assert.equal(play.status, 200);
    const again = await c.request('SETUP', `${ts.url}/trackID=0`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=2-3',
      Session: session,
    });
    assert.equal(again.status, 455);
    assert.equal((await c.request('TEARDOWN', ts.url, { Session: session })).status, 200);
  });

  it('GET_PARAMETER and SET_PARAMETER bodies do not desynchronise the stream', async () => {
    const c = await open();
    const g = await c.request(
      'GET_PARAMETER',
      ts.url,
      { 'Content-Type': 'text/parameters' },
      'position\r\nscale\r\n',
    );
    assert.equal(g.status, 200);
    const s = await c.request(
      'SET_PARAMETER',
      ts.url,
      { 'Content-Type': 'text/parameters' },
      'barparam: barstuff\r\n',
    );
    assert.equal(s.status, 451);
    const o = await c.request('OPTIONS', ts.url);
    assert.equal(o.status, 200);
    assert.equal(o.headers.get('cseq'), '3');
  });

  it('garbage bytes get 400 and a closed connection; others keep being served', async () => {
    const good = await open();
    const bad = await open();
    bad.send(Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0d, 0x0a, 0x0d, 0x0a]));
    const r = await bad.nextResponse();
    assert.equal(r.status, 400);
    await bad.closed;
    assert.equal((await good.request('OPTIONS', ts.url)).status, 200);
  });

  it('an oversized header block gets 431 and a closed connection', async () => {
    const c = await open();
    c.send(`OPTIONS ${ts.url} RTSP/1.0\r\nCSeq: 7\r\nX-Filler: ${'a'.repeat(10_000)}\r\n\r\n`);
    const r = await c.nextResponse();
    assert.equal(r.status, 431);
    await c.closed;
  });

  it('a wrong RTSP version gets 505', async () => {
    const c = await open();
    c.send(`OPTIONS ${ts.url} RTSP/2.0\r\nCSeq: 1\r\n\r\n`);
    assert.equal((await c.nextResponse()).status, 505);
  });

  it('beyond maxSessions SETUP gets 503', async () => {
    const c = await open();
    const mine = () => ts.server.sessions().filter((s) => s.remotePort === c.socket.localPort).length;
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await c.request('SETUP', `${ts.url}/trackID=0`, {
        Transport: `RTP/AVP/TCP;unicast;interleaved=${i * 2}-${i * 2 + 1}`,
      });
      codes.push(r.status);
    }
    assert.ok(codes.includes(503), codes.join(','));
    assert.equal(ts.server.sessions().length, 4);
    assert.ok(mine() > 0);
    c.close();
    await c.closed;
    // The connection's sessions are reclaimed when it closes.
    await waitUntil(() => mine() === 0);
  });
});

async function waitUntil(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a stream whose source is down', () => {
  it('DESCRIBE and SETUP get 503 with Retry-After at once; playing sessions go on', async () => {
    const ts = await startTestServer();
    const c = await RawRtspClient.connect(ts.port);
    const d = await RawRtspClient.connect(ts.port);
    try {
      // A playing session before the source goes down.
      const s = await c.request('SETUP', `${ts.url}/trackID=0`, {
        Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
      });
      assert.equal(s.status, 200);
      const session = (s.headers.get('session') ?? '').split(';')[0];
      assert.equal((await c.request('PLAY', ts.url, { Session: session })).status, 200);

      ts.stream.setUnavailable('ffmpeg exited (1): camera: Connection refused');
      // A path with no media yet would otherwise wait describeWaitMs (3 s) for its parameter sets.
      const waiting = ts.server.addStream('/waiting', { video: { codec: 'H264' } });
      waiting.setUnavailable('ffmpeg is starting');
      for (const url of [ts.url, `rtsp://127.0.0.1:${ts.port}/waiting`]) {
        const started = Date.now();
        const r = await d.request('DESCRIBE', url);
        const took = Date.now() - started;
        assert.equal(r.status, 503, url);
        assert.equal(r.headers.get('retry-after'), '1');
        assert.ok(took < 1000, `${url}: answered after ${took} ms`);
      }
      const r = await d.request('DESCRIBE', ts.url);
      assert.match(r.body.toString(), /stream unavailable: ffmpeg exited \(1\): camera: Connection refused/);
      const setup = await d.request('SETUP', `${ts.url}/trackID=0`, {
        Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
      });
      assert.equal(setup.status, 503);
      assert.equal(setup.headers.get('retry-after'), '1');

      // The session that was playing still gets media.
      const before = c.frames.filter((f) => f.channel === 0).length;
      await c.waitFor(() => c.frames.filter((f) => f.channel === 0).length > before + 5);

      ts.stream.setAvailable();
      assert.equal(ts.stream.unavailableReason, undefined);
      assert.equal((await d.request('DESCRIBE', ts.url)).status, 200);
    } finally {
      c.close();
      d.close();
      await ts.close();
    }
  });
});
