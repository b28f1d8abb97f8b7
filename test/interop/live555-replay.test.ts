// Replays, byte for byte in the headers that matter, what live555's RTSPClient (openRTSP, VLC and
// many NVRs; LIVE555 Streaming Media v2026.06.24) sends to a server that asks for Digest:
//   - the first request of each kind goes out without Authorization; a 401 is answered by taking
//     the LAST `WWW-Authenticate: Digest` header, reading it with the fixed sscanf pattern
//     `Digest realm="%[^"]", nonce="%[^"]"` and resending with `Authorization: Digest username,
//     realm, nonce, uri, response` — MD5, never qop/nc/cnonce/algorithm, whatever the challenge offers;
//   - the Digest `uri` of EVERY request is the client's base URL: the URL it was started with
//     (user:password@ included) until DESCRIBE, then the DESCRIBE answer's Content-Base. So SETUP
//     of `<base>trackID=0` carries uri `<base>`, and PLAY, GET_PARAMETER and TEARDOWN go to `<base>`
//     (the session URL, as the SDP's `a=control:*` names no other) with uri `<base>`;
//   - Transport `RTP/AVP;unicast;client_port=a-b` (a even) or `RTP/AVP/TCP;unicast;interleaved=0-1`.
// live555 is not installed in CI, so this is a replay rather than a run of openRTSP.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import type { RtspResponse } from '../../src/protocol/message.js';
import { createAuthenticator } from '../../src/server/auth.js';
import { RawRtspClient } from '../helpers/rtsp-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const USER_AGENT = 'LIVE555 Streaming Media v2026.06.24';
const USER = 'viewer';
const PASSWORD = 'S3cret-pa55';
const MISMATCH_CODE = 'ERR_RTSP_DIGEST_URI_MISMATCH';

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

/** live555's Authenticator: realm and nonce from a 401, the response as DigestAuthentication.cpp computes it. */
class Live555Digest {
  realm: string | undefined;
  nonce: string | undefined;

  /** handleAuthenticationFailure: the last Digest challenge wins, read with a fixed pattern. */
  takeChallenge(res: RtspResponse): void {
    let chosen: string | undefined;
    for (const value of res.headers.getAll('www-authenticate')) {
      if (chosen === undefined || /^digest/i.test(value)) chosen = value;
    }
    const m = /^Digest realm="([^"]+)", nonce="([^"]+)"/.exec(chosen ?? '');
    assert.ok(m, `live555 cannot read the challenge '${chosen}'`);
    this.realm = m[1];
    this.nonce = m[2];
  }

  /** createAuthenticatorString: empty until a challenge came; `uri` is always the base URL. */
  header(method: string, uri: string): Record<string, string> {
    if (this.realm === undefined || this.nonce === undefined) return {};
    const ha1 = md5(`${USER}:${this.realm}:${PASSWORD}`);
    const ha2 = md5(`${method}:${uri}`);
    const response = md5(`${ha1}:${this.nonce}:${ha2}`);
    return {
      Authorization: `Digest username="${USER}", realm="${this.realm}", nonce="${this.nonce}", uri="${uri}", response="${response}"`,
    };
  }
}

/** One live555 RTSPClient on one connection: its base URL, its authenticator, its session. */
class Live555Client {
  readonly digest = new Live555Digest();
  baseUrl: string;
  sessionId: string | undefined;
  readonly responses: RtspResponse[] = [];

  constructor(
    readonly rtsp: RawRtspClient,
    startUrl: string,
  ) {
    this.baseUrl = startUrl;
  }

  /**
   * sendRequest: Authorization first, then User-Agent, then the command's own headers. `uri` is
   * the base URL, as live555 sends it; the refusal checks pass another one.
   */
  async send(
    method: string,
    url: string,
    extra: Record<string, string> = {},
    body = '',
    uri = this.baseUrl,
  ): Promise<RtspResponse> {
    const headers = { ...this.digest.header(method, uri), 'User-Agent': USER_AGENT, ...extra };
    const res = await this.rtsp.request(method, url, headers, body);
    this.responses.push(res);
    const contentBase = res.headers.get('content-base');
    if (contentBase !== undefined) this.baseUrl = contentBase;
    return res;
  }

  /** constructSubsessionURL: base + control, with a '/' between unless one is there already. */
  trackUrl(control: string): string {
    if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(control)) return control;
    const sep = this.baseUrl.endsWith('/') || control.startsWith('/') ? '' : '/';
    return `${this.baseUrl}${sep}${control}`;
  }

  sessionHeader(): Record<string, string> {
    assert.ok(this.sessionId, 'no session yet');
    return { Session: this.sessionId };
  }
}

/** MediaSubsession::initiate: an ephemeral even port for RTP, the next one for RTCP. */
async function bindLive555Ports(): Promise<[UdpSocket, UdpSocket]> {
  const bind = (port: number) =>
    new Promise<UdpSocket | null>((resolve) => {
      const s = createSocket('udp4');
      s.once('error', () => {
        s.close();
        resolve(null);
      });
      s.bind(port, '127.0.0.1', () => resolve(s));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const rtp = await bind(0);
    if (!rtp) continue;
    const port = rtp.address().port;
    if (port % 2 === 0 && port < 65535) {
      const rtcp = await bind(port + 1);
      if (rtcp) return [rtp, rtcp];
    }
    rtp.close();
  }
  throw new Error('no even/odd UDP port pair in 50 attempts');
}

function isRtp(packet: Buffer): boolean {
  return packet.length >= 12 && packet[0] >> 6 === 2 && (packet[1] & 0x7f) === 96;
}

async function waitUntil(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The media `a=control:` of the SDP's only video section. */
function videoControl(sdp: string): string {
  const media = sdp.split(/\r?\n(?=m=)/).find((part) => part.startsWith('m=video'));
  const m = /^a=control:(.+)$/m.exec(media ?? '');
  assert.ok(m, `no video control in\n${sdp}`);
  return m[1].trim();
}

function assertNoCredentials(res: RtspResponse): void {
  const text = `${[...res.headers].map(([n, v]) => `${n}: ${v}`).join('\n')}\n${res.body.toString('latin1')}`;
  assert.doesNotMatch(text, new RegExp(`${USER}|${PASSWORD}|@`), `credentials echoed:\n${text}`);
}

describe('live555 (openRTSP/VLC) replay with Digest', () => {
  let ts: TestServer;
  let reported: Array<{ code: string | undefined; message: string }>;
  let base: string;

  before(async () => {
    const auth = createAuthenticator({ users: [{ name: USER, password: PASSWORD }], maxFailures: 1000 });
    ts = await startTestServer({ hooks: { authorize: (req) => auth.authorize(req) } });
    // Other streams a uri could name: a different one and a sibling sharing the prefix.
    ts.server.addStream('/other', { video: { codec: 'H264' } });
    ts.server.addStream('/test2', { video: { codec: 'H264' } });
    reported = [];
    ts.server.on('refused', (info) => {
      if (info.code === MISMATCH_CODE) reported.push({ code: info.code, message: info.reason });
    });
    base = `rtsp://127.0.0.1:${ts.port}/test/`;
  });
  after(async () => {
    await ts.close();
  });

  /** OPTIONS, DESCRIBE → 401 → DESCRIBE with Digest → 200; returns the client and the track URL. */
  async function describe555(
    rtsp: RawRtspClient,
    startUrl: string,
  ): Promise<{ c: Live555Client; track: string }> {
    const c = new Live555Client(rtsp, startUrl);
    const options = await c.send('OPTIONS', startUrl);
    assert.equal(options.status, 200);
    const first = await rtsp.request('DESCRIBE', startUrl, {
      'User-Agent': USER_AGENT,
      Accept: 'application/sdp',
    });
    assert.equal(first.status, 401);
    assertNoCredentials(first);
    c.digest.takeChallenge(first);
    // The resend: uri is still the URL openRTSP was started with, user:password@ and all.
    const described = await c.send('DESCRIBE', startUrl, { Accept: 'application/sdp' });
    assert.equal(described.status, 200, 'DESCRIBE with Digest');
    assert.equal(described.headers.get('content-base'), base, 'Content-Base, without credentials');
    assertNoCredentials(described);
    assert.equal(c.baseUrl, base);
    return { c, track: c.trackUrl(videoControl(described.body.toString('utf8'))) };
  }

  for (const transport of ['tcp', 'udp'] as const) {
    for (const withUrlCredentials of [true, false]) {
      const label = `${transport.toUpperCase()}, ${withUrlCredentials ? 'user:password@ in the URL' : '-u user password'}`;
      it(`plays over ${label}: OPTIONS, DESCRIBE 401/200, SETUP, PLAY, GET_PARAMETER, TEARDOWN`, async () => {
        const rtsp = await RawRtspClient.connect(ts.port);
        let ports: [UdpSocket, UdpSocket] | undefined;
        const udpPackets: Buffer[] = [];
        try {
          const startUrl = withUrlCredentials
            ? `rtsp://${USER}:${PASSWORD}@127.0.0.1:${ts.port}/test`
            : `rtsp://127.0.0.1:${ts.port}/test`;
          const { c, track } = await describe555(rtsp, startUrl);
          assert.equal(track, `${base}trackID=0`);

          let transportHeader = 'RTP/AVP/TCP;unicast;interleaved=0-1';
          if (transport === 'udp') {
            ports = await bindLive555Ports();
            ports[0].on('message', (m) => udpPackets.push(m));
            const rtpPort = ports[0].address().port;
            transportHeader = `RTP/AVP;unicast;client_port=${rtpPort}-${rtpPort + 1}`;
          }
          // SETUP <base>trackID=0 with Digest uri <base>: what used to get a bare 400.
          const setup = await c.send('SETUP', track, { Transport: transportHeader });
          assert.equal(setup.status, 200, `SETUP ${track} with Digest uri ${base}`);
          c.sessionId = (setup.headers.get('session') ?? '').split(';')[0];
          assert.match(
            setup.headers.get('transport') ?? '',
            transport === 'tcp' ? /interleaved=0-1/ : /server_port=/,
          );

          const play = await c.send('PLAY', c.baseUrl, { ...c.sessionHeader(), Range: 'npt=0.000-' });
          assert.equal(play.status, 200, `PLAY ${base} with Digest uri ${base}`);
          assert.match(play.headers.get('rtp-info') ?? '', new RegExp(`^url=${base}trackID=0$`));
          assertNoCredentials(play);

          if (transport === 'tcp') {
            await waitUntil(() => rtsp.frames.filter((f) => f.channel === 0 && isRtp(f.data)).length >= 10);
          } else {
            await waitUntil(() => udpPackets.filter(isRtp).length >= 10);
          }

          // VLC's keepalive (sendGetParameterCommand with an empty name) and one naming a parameter.
          const keepalive = await c.send('GET_PARAMETER', c.baseUrl, c.sessionHeader());
          assert.equal(keepalive.status, 200, 'GET_PARAMETER keepalive');
          const named = await c.send('GET_PARAMETER', c.baseUrl, c.sessionHeader(), 'position\r\n');
          assert.equal(named.status, 200, 'GET_PARAMETER with a body');

          const teardown = await c.send('TEARDOWN', c.baseUrl, c.sessionHeader());
          assert.equal(teardown.status, 200, 'TEARDOWN');
          for (const res of c.responses) assertNoCredentials(res);
          // Every authenticated request was answered without a new challenge.
          assert.equal(c.responses.filter((r) => r.status === 401).length, 0);
        } finally {
          rtsp.close();
          for (const s of ports ?? []) s.close();
        }
      });
    }
  }

  it('echoes no user:password@ when a client keeps it in every URL (RTP-Info, Content-Base)', async () => {
    // What live555 does when a server sends no Content-Base: its base URL stays the start URL.
    const rtsp = await RawRtspClient.connect(ts.port);
    try {
      const withCredentials = `rtsp://${USER}:${PASSWORD}@127.0.0.1:${ts.port}/test`;
      const { c } = await describe555(rtsp, withCredentials);
      c.baseUrl = withCredentials;
      const setup = await c.send('SETUP', `${withCredentials}/trackID=0`, {
        Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
      });
      assert.equal(setup.status, 200);
      c.sessionId = (setup.headers.get('session') ?? '').split(';')[0];
      const play = await c.send('PLAY', withCredentials, { ...c.sessionHeader(), Range: 'npt=0.000-' });
      assert.equal(play.status, 200);
      assert.match(play.headers.get('rtp-info') ?? '', new RegExp(`^url=${base}trackID=0$`));
      for (const res of c.responses) assertNoCredentials(res);
      assert.equal((await c.send('TEARDOWN', withCredentials, c.sessionHeader())).status, 200);
    } finally {
      rtsp.close();
    }
  });

  it('still refuses a Digest uri naming another stream, a parent, a sibling or another track', async () => {
    const rtsp = await RawRtspClient.connect(ts.port);
    try {
      const { c, track } = await describe555(rtsp, `rtsp://127.0.0.1:${ts.port}/test`);
      const before = reported.length;
      const wrongUris = [
        `rtsp://127.0.0.1:${ts.port}/other/`,
        '/other/',
        `rtsp://127.0.0.1:${ts.port}/`,
        '/',
        `rtsp://127.0.0.1:${ts.port}/test2/`,
        `${base}trackID=1`,
      ];
      for (const uri of wrongUris) {
        const res = await c.send(
          'SETUP',
          track,
          { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' },
          '',
          uri,
        );
        assert.equal(res.status, 400, `SETUP ${track} with Digest uri ${uri}`);
        assert.equal(res.reason, 'Digest URI Mismatch');
        assert.equal(res.headers.get('session'), undefined);
      }
      assert.deepEqual(
        reported.slice(before).map((r) => r.code),
        wrongUris.map(() => MISMATCH_CODE),
      );
      assert.match(reported[before].message, /digest uri .*\/other\/.* names neither/);

      // The connection is kept: the right uri still works, and PLAY is held to the same rule.
      const setup = await c.send('SETUP', track, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
      assert.equal(setup.status, 200);
      c.sessionId = (setup.headers.get('session') ?? '').split(';')[0];
      const otherPlay = await c.send(
        'PLAY',
        c.baseUrl,
        c.sessionHeader(),
        '',
        `rtsp://127.0.0.1:${ts.port}/other/`,
      );
      assert.equal(otherPlay.status, 400);
      const teardown = await c.send('TEARDOWN', c.baseUrl, c.sessionHeader());
      assert.equal(teardown.status, 200);
    } finally {
      rtsp.close();
    }
  });
});
