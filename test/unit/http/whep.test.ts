// WHEP without a browser: werift as the viewer, over loopback. A session answers 201 with an SDP
// answer and its resource, plays from a keyframe, ends on DELETE, when its stream goes away and on
// close; bad offers get the status WHEP clients expect; no session is left behind.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HttpServer } from '../../../src/http/http-server.js';
import { registerWebPage, type WebPage } from '../../../src/http/web/routes.js';
import { AnnexBFileSource } from '../../../src/sources/annexb-file.js';
import { SAMPLE_FILE, startTestServer, type TestServer } from '../../helpers/server.js';

type Werift = typeof import('werift');

interface Viewer {
  res: Response;
  packets: Buffer[];
  close(): Promise<void>;
}

/** A recvonly werift peer that POSTs its offer to `url` (non-trickle, loopback only). */
async function view(w: Werift, url: string): Promise<Viewer> {
  const pc = new w.RTCPeerConnection({
    iceServers: [],
    iceUseIpv4: false,
    iceUseIpv6: false,
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    codecs: { video: [w.useH264()] },
  });
  const packets: Buffer[] = [];
  pc.onTrack.subscribe((track) => track.onReceiveRtp.subscribe((rtp) => packets.push(rtp.payload)));
  pc.addTransceiver('video', { direction: 'recvonly' });
  await pc.setLocalDescription(await pc.createOffer());
  for (let i = 0; i < 100 && pc.iceGatheringState !== 'complete'; i++)
    await new Promise((r) => setTimeout(r, 20));
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/sdp' },
    body: pc.localDescription!.sdp,
  });
  if (res.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp: await res.clone().text() });
  return { res, packets, close: () => pc.close() };
}

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!check()) {
    assert.ok(performance.now() < end, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('WHEP', () => {
  let w: Werift;
  let rtsp: TestServer;
  let http: HttpServer;
  let web: WebPage;
  let base: string;

  before(async () => {
    w = await import('werift');
    rtsp = await startTestServer();
    http = new HttpServer();
    web = registerWebPage(http, {
      server: rtsp.server,
      whep: { iceAddress: '127.0.0.1' },
    });
    await http.listen();
    base = http.url;
  });
  after(async () => {
    await web.close();
    await http.close();
    await rtsp.close();
  });

  it('serving the page readies WebRTC (werift loaded, DTLS certificate made) before any offer', async () => {
    assert.equal(web.whep.ready, false, 'nothing loaded before the page is asked for');
    assert.equal((await fetch(`${base}/`)).status, 200);
    await until('WebRTC ready', () => web.whep.ready, 20_000);
    assert.equal(web.whep.sessionCount, 0);
  });

  it('answers an offer with 201, SDP and Location; plays from a keyframe; DELETE ends it; PATCH is 405', async () => {
    const v = await view(w, `${base}/whep/test`);
    try {
      assert.equal(v.res.status, 201);
      assert.equal(v.res.headers.get('content-type'), 'application/sdp');
      const location = v.res.headers.get('location') ?? '';
      assert.match(location, /^\/whep-sessions\/[0-9a-f-]{36}$/);
      const answer = await v.res.text();
      assert.match(answer, /a=rtpmap:\d+ H264\/90000/i);
      assert.match(answer, /packetization-mode=1/);
      assert.match(answer, /a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 /);
      assert.equal(web.whep.sessionCount, 1);
      await until('video packets', () => v.packets.length > 20);
      // The first packet starts an IDR access unit: SPS (alone or in a STAP-A), or the IDR itself.
      const first = v.packets[0];
      const type = first[0] & 0x1f;
      const inner = type === 28 ? first[1] & 0x1f : type === 24 ? first[3] & 0x1f : type;
      assert.ok([5, 7].includes(inner), `the first packet starts a keyframe (NAL type ${type}/${inner})`);
      assert.equal(rtsp.stream.sessions, 1, 'the WebRTC viewer counts as a reader of the stream');

      const patch = await fetch(`${base}${location}`, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/trickle-ice-sdpfrag' },
        body: 'a=end-of-candidates\r\n',
      });
      assert.equal(patch.status, 405);
      const del = await fetch(`${base}${location}`, { method: 'DELETE' });
      assert.equal(del.status, 200);
      assert.equal(web.whep.sessionCount, 0);
      assert.equal(rtsp.stream.sessions, 0);
      assert.equal((await fetch(`${base}${location}`, { method: 'DELETE' })).status, 404);
    } finally {
      await v.close();
    }
  });

  it('refuses unknown paths (404), non-SDP bodies (415), codecs WebRTC cannot carry (415) and non-offers (400)', async () => {
    const offer = (url: string, body: string, type = 'application/sdp') =>
      fetch(url, { method: 'POST', headers: { 'Content-Type': type }, body });
    assert.equal((await offer(`${base}/whep/nope`, 'v=0\r\n')).status, 404);
    assert.equal((await offer(`${base}/whep/test`, '{}', 'application/json')).status, 415);
    assert.equal((await offer(`${base}/whep/test`, 'hello')).status, 400);
    rtsp.server.addStream('/hevc', { video: { codec: 'H265' } });
    try {
      const res = await offer(
        `${base}/whep/hevc`,
        'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 H264/90000\r\n',
      );
      assert.equal(res.status, 415);
      assert.match(((await res.json()) as { error: string }).error, /WebRTC cannot carry.*H265/);
    } finally {
      rtsp.server.removeStream('/hevc');
    }
    assert.equal(web.whep.sessionCount, 0);
  });

  it('ends sessions when their stream goes away and on close: none is left', async () => {
    const extra = rtsp.server.addStream('/second', { video: { codec: 'H264' } });
    const feed = new AnnexBFileSource(extra.video!, { file: SAMPLE_FILE, loop: true });
    feed.start();
    const viewers = [
      await view(w, `${base}/whep/second`),
      await view(w, `${base}/whep/test`),
      await view(w, `${base}/whep/test`),
    ];
    try {
      for (const v of viewers) assert.equal(v.res.status, 201);
      assert.equal(web.whep.sessionCount, 3);
      rtsp.server.removeStream('/second');
      assert.equal(web.whep.sessionCount, 2, 'the removed stream ended its session');
      assert.deepEqual(
        web.whep.list().map((s) => s.path),
        ['/test', '/test'],
      );
      await web.close();
      assert.equal(web.whep.sessionCount, 0, 'close ended the rest');
      assert.equal(rtsp.stream.sessions, 0);
      assert.equal(
        (
          await fetch(`${base}/whep/test`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/sdp' },
            body: 'v=0\r\n',
          })
        ).status,
        503,
      );
    } finally {
      feed.stop();
      for (const v of viewers) await v.close();
    }
  });
});
