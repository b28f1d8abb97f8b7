// How requests name streams and tracks, and the application hooks around the methods.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { MediaFormatError } from '../../src/codecs/errors.js';
import { AacTrackCodec } from '../../src/media/formats/aac.js';
import { GenericTrackCodec } from '../../src/media/formats/generic.js';
import type { TrackCodec } from '../../src/media/track.js';
import type { RequestInfo } from '../../src/server/dispatcher.js';
import type { RefusalInfo } from '../../src/server/rtsp-server.js';
import { RawRtspClient } from '../helpers/rtsp-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const ADTS = readFileSync(new URL('../unit/codecs/aac/fixtures/sine-44100-stereo.aac', import.meta.url));

describe('track URLs and hooks', () => {
  let ts: TestServer;
  const seen: RequestInfo[] = [];
  const events: string[] = [];
  before(async () => {
    ts = await startTestServer({
      describeWaitMs: 400,
      hooks: {
        authorize(req) {
          seen.push(req);
          if (req.path === '/secret') {
            return req.headers.get('authorization') === 'Basic dTpw'
              ? true
              : { status: 401, headers: [['WWW-Authenticate', 'Basic realm="smolrtsp"']] };
          }
          return req.remoteAddress === '127.0.0.1';
        },
      },
    });
    ts.server.addStream('/secret', { video: { codec: 'H264' } });
    ts.server.addStream('/live/cam', { video: { codec: 'H264' } });
    ts.server.on('session', (s) => events.push(`session ${s.path}`));
    ts.server.on('play', (s) => events.push(`play ${s.path}`));
    ts.server.on('sessionEnd', (s, reason) => events.push(`end ${s.path} ${reason}`));
  });
  after(async () => {
    await ts.close();
  });

  const base = () => `rtsp://127.0.0.1:${ts.port}`;
  for (const [name, uri] of [
    ['absolute', () => `${base()}/test/trackID=0`],
    ['bare path', () => '/test/trackID=0'],
    ['trailing slash', () => `${base()}/test/trackID=0/`],
    ['query before the track', () => `${base()}/test?channel=1/trackID=0`],
    ['query after the track', () => `${base()}/test/trackID=0?channel=1`],
    ['aggregate URL of a one-track stream', () => `${base()}/test`],
    ['nested stream path', () => `${base()}/live/cam/trackID=0`],
  ] as const) {
    it(`SETUP by ${name}`, async () => {
      const c = await RawRtspClient.connect(ts.port);
      const r = await c.request('SETUP', uri(), { Transport: 'RTP/AVP/TCP;unicast' });
      assert.equal(r.status, 200, uri());
      await c.request('TEARDOWN', uri(), { Session: (r.headers.get('session') ?? '').split(';')[0] });
      c.close();
    });
  }

  it('authorize sees each request and can answer 401 with a challenge', async () => {
    const c = await RawRtspClient.connect(ts.port);
    const denied = await c.request('DESCRIBE', `${base()}/secret`);
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get('www-authenticate'), 'Basic realm="smolrtsp"');
    const t0 = Date.now();
    const allowed = await c.request('DESCRIBE', `${base()}/secret`, { Authorization: 'Basic dTpw' });
    assert.equal(allowed.status, 200);
    // Nothing feeds /secret: DESCRIBE waited for parameter sets, then answered without them.
    assert.ok(Date.now() - t0 >= 350, `answered after ${Date.now() - t0} ms`);
    assert.doesNotMatch(allowed.body.toString(), /sprop-parameter-sets/);
    assert.match(allowed.body.toString(), /a=fmtp:96 packetization-mode=1\r\n/);
    const last = seen[seen.length - 1];
    assert.equal(last.method, 'DESCRIBE');
    assert.equal(last.path, '/secret');
    assert.equal(last.remoteAddress, '127.0.0.1');
    c.close();
  });

  it('session, play and sessionEnd events tell when a client starts and stops', async () => {
    events.length = 0;
    const c = await RawRtspClient.connect(ts.port);
    c.onFrame = () => {};
    const s = await c.request('SETUP', `${ts.url}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast' });
    const id = (s.headers.get('session') ?? '').split(';')[0];
    await c.request('PLAY', ts.url, { Session: id });
    await c.request('TEARDOWN', ts.url, { Session: id });
    assert.deepEqual(events, ['session /test', 'play /test', 'end /test teardown']);
    c.close();
  });

  it('DESCRIBE of an AAC stream before its first frame is 503 with Retry-After, then 200 once it came', async () => {
    const codec = new AacTrackCodec({});
    const stream = ts.server.addStream('/radio', { tracks: [codec] });
    const c = await RawRtspClient.connect(ts.port);
    const early = await c.request('DESCRIBE', `${base()}/radio`);
    assert.equal(early.status, 503);
    assert.equal(early.headers.get('retry-after'), '1');
    // The connection stays usable: the same client asks again once the source has started.
    stream.tracks[0].push(ADTS, { pts: 0 });
    const late = await c.request('DESCRIBE', `${base()}/radio`);
    assert.equal(late.status, 200);
    assert.match(late.body.toString(), /a=rtpmap:97 mpeg4-generic\/44100\/2\r\n/);
    c.close();
  });

  it('DESCRIBE of a ready stream whose SDP cannot be built is 500 (a refusal, not a client error)', async () => {
    const codec: TrackCodec = {
      ...new GenericTrackCodec({ kind: 'video', encoding: 'X', clockRate: 90000, payloadType: 96 }),
      ready: true,
      toUnits: (d) => (Array.isArray(d) ? d : [d]),
      packetize: () => null,
      describe() {
        throw new MediaFormatError('unreadable parameter sets');
      },
    };
    ts.server.addStream('/broken', { tracks: [codec] });
    const refused: Array<[number | undefined, string]> = [];
    const clientErrors: Error[] = [];
    const onRefused = (r: RefusalInfo) => refused.push([r.status, r.code]);
    const onClientError = (err: Error) => clientErrors.push(err);
    ts.server.on('refused', onRefused);
    ts.server.on('clientError', onClientError);
    try {
      const c = await RawRtspClient.connect(ts.port);
      const res = await c.request('DESCRIBE', `${base()}/broken`);
      assert.equal(res.status, 500);
      c.close();
      assert.deepEqual(refused, [[500, 'ERR_MEDIA_FORMAT']]);
      assert.deepEqual(clientErrors, []);
    } finally {
      ts.server.off('refused', onRefused);
      ts.server.off('clientError', onClientError);
    }
  });
});
