// The RTSP client against our own server: what is pushed into a stream comes out of the client, byte for
// byte, over TCP and UDP, with each authentication scheme; refusals are typed; keepalives hold a UDP
// session; a restarted server is reconnected to.
import assert from 'node:assert/strict';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { describe, it } from 'node:test';
import { RtspClientError, RtspResponseError } from '../../src/client/errors.js';
import { RtspClient, type RtspClientOptions, type RtspClientUnit } from '../../src/client/rtsp-client.js';
import { TrackReceiver } from '../../src/client/track-receiver.js';
import { AacTrackCodec } from '../../src/media/formats/aac.js';
import { digestResponse, ha1, parseAuthorization } from '../../src/protocol/headers/authorization.js';
import { RtspParser } from '../../src/protocol/parser.js';
import { serializeResponse } from '../../src/protocol/serializer.js';
import { writeRtpHeader } from '../../src/rtp/packet.js';
import type { AuthOptions } from '../../src/server/auth.js';
import { createServer, type RtspServer, type RtspServerOptions } from '../../src/server/rtsp-server.js';
import { sampleParameterSets } from '../helpers/synthetic.js';

const { sps, pps } = sampleParameterSets();
const FRAME_US = 40_000;
const GOP = 10;

/** Frame `n`'s slice: its number in bytes 1..4, then a size that needs FU-A for keyframes. */
function slice(n: number): Buffer {
  const keyframe = n % GOP === 0;
  const body = Buffer.alloc(keyframe ? 3000 + (n % 7) * 100 : 200 + (n % 5) * 10);
  body[0] = keyframe ? 0x65 : 0x41;
  body.writeUInt32BE(n, 1);
  for (let i = 5; i < body.length; i++) body[i] = (n * 31 + i) & 0xff;
  return body;
}

interface Fed {
  server: RtspServer;
  port: number;
  url: string;
  stop(): void;
  close(): Promise<void>;
}

/** A server whose `/cam` H.264 track gets frame n (pts n × 40 ms) every 20 ms. */
async function fedServer(options: RtspServerOptions = {}): Promise<Fed> {
  const server = await createServer({ host: '127.0.0.1', port: 0, rtpPortRange: [41000, 41999], ...options });
  const stream = server.addStream('/cam', { video: { codec: 'H264', sps, pps } });
  let n = 0;
  const timer = setInterval(() => {
    const units = n % GOP === 0 ? [sps, pps, slice(n)] : [slice(n)];
    stream.video!.pushUnits(units, { pts: n * FRAME_US });
    n++;
  }, 20);
  const stop = () => clearInterval(timer);
  return {
    server,
    port: server.port,
    url: `rtsp://127.0.0.1:${server.port}/cam`,
    stop,
    async close() {
      stop();
      await server.close();
    },
  };
}

/** Reads `count` units (bounded in time) and checks each against what was pushed. */
async function receiveAndCheck(
  client: RtspClient,
  count: number,
  fromKeyframe = true,
): Promise<RtspClientUnit[]> {
  const got: RtspClientUnit[] = [];
  const deadline = setTimeout(() => void client.close(), 15_000);
  for await (const unit of client.units()) {
    got.push(unit);
    if (got.length >= count) break;
  }
  clearTimeout(deadline);
  assert.equal(got.length, count, `received ${got.length} units`);
  checkUnits(got, fromKeyframe);
  return got;
}

function checkUnits(got: RtspClientUnit[], fromKeyframe = true): void {
  const first = frameOf(got[0]);
  if (fromKeyframe) assert.equal(first % GOP, 0, 'the first unit is a keyframe');
  for (const unit of got) {
    assert.ok(Array.isArray(unit.data));
    const nalus = unit.data as Buffer[];
    const n = frameOf(unit);
    assert.deepEqual(nalus.at(-1), slice(n), `frame ${n} bytes`);
    assert.equal(unit.keyframe, n % GOP === 0);
    if (unit.keyframe) {
      assert.deepEqual(nalus[0], sps);
      assert.deepEqual(nalus[1], pps);
    }
    assert.equal(unit.pts - got[0].pts, (n - first) * FRAME_US, `frame ${n} pts`);
    assert.equal(unit.track.codec, 'H264');
  }
}

function frameOf(unit: RtspClientUnit): number {
  return (unit.data as Buffer[]).at(-1)!.readUInt32BE(1);
}

const USERS: AuthOptions['users'] = [{ name: 'alice', password: 's3cret' }];

async function roundTrip(serverOptions: RtspServerOptions, clientOptions: RtspClientOptions): Promise<void> {
  const fed = await fedServer(serverOptions);
  try {
    const client = new RtspClient(fed.url, clientOptions);
    const tracks = await client.start();
    assert.equal(tracks.length, 1);
    assert.equal(tracks[0].clockRate, 90000);
    await receiveAndCheck(client, 30);
    // The receiver reports reach the server (rtcpIntervalMs 200 below).
    const waitUntil = Date.now() + 5000;
    while (fed.server.sessions()[0]?.tracks[0]?.receiverReport === undefined && Date.now() < waitUntil) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(fed.server.sessions()[0]?.tracks[0]?.receiverReport?.cumulativeLost, 0);
    const stats = client.stats().get(0)!;
    assert.equal(stats.packetsLost, 0);
    assert.ok(stats.packetsReceived > 30);
    await client.close();
  } finally {
    await fed.close();
  }
}

describe('RtspClient against our server', () => {
  it('TCP interleaved, no auth: the units pushed come out', async () => {
    await roundTrip({}, { transport: 'tcp', rtcpIntervalMs: 200 });
  });

  it('UDP with Digest MD5 (credentials in the URL)', async () => {
    const fed = await fedServer({ auth: { users: USERS, digestAlgorithms: ['MD5'] } });
    try {
      const client = new RtspClient(fed.url.replace('rtsp://', 'rtsp://alice:s3cret@'), { transport: 'udp' });
      await client.start();
      await receiveAndCheck(client, 30);
      assert.equal(fed.server.sessions()[0]?.tracks[0]?.transport.startsWith('udp'), true);
      await client.close();
    } finally {
      await fed.close();
    }
  });

  it('TCP with Digest SHA-256, UDP with Basic', async () => {
    await roundTrip(
      { auth: { users: USERS, digestAlgorithms: ['SHA-256'] } },
      { transport: 'tcp', user: 'alice', password: 's3cret', rtcpIntervalMs: 200 },
    );
    await roundTrip(
      { auth: { users: USERS, methods: ['basic'] } },
      { transport: 'udp', user: 'alice', password: 's3cret', rtcpIntervalMs: 200 },
    );
  });

  it('a wrong password is a RtspResponseError with status 401; a missing path 404', async () => {
    const fed = await fedServer({ auth: { users: USERS } });
    try {
      const wrong = new RtspClient(fed.url, { user: 'alice', password: 'nope' });
      await assert.rejects(wrong.start(), (e: unknown) => {
        assert.ok(e instanceof RtspResponseError);
        assert.equal(e.status, 401);
        assert.equal(e.method, 'DESCRIBE'); // our server answers OPTIONS to anyone
        return true;
      });
      await wrong.close();
      const missing = new RtspClient(`rtsp://alice:s3cret@127.0.0.1:${fed.port}/nothing`);
      await assert.rejects(
        missing.start(),
        (e: unknown) => e instanceof RtspResponseError && e.status === 404,
      );
      await missing.close();
      const refused = new RtspClient('rtsp://127.0.0.1:1/x');
      await assert.rejects(
        refused.start(),
        (e: unknown) => e instanceof RtspClientError && e.code === 'ERR_RTSP_CLIENT_CONNECT',
      );
    } finally {
      await fed.close();
    }
  });

  it('keepalives hold a UDP session past the session timeout; without them it ends', async () => {
    const fed = await fedServer({ sessionTimeoutSec: 5 });
    try {
      const kept = new RtspClient(fed.url, { transport: 'udp', rtcpIntervalMs: 0 });
      const dropped = new RtspClient(fed.url, { transport: 'udp', rtcpIntervalMs: 0, keepalive: false });
      await kept.start();
      await dropped.start();
      assert.ok(kept.publicMethods.includes('GET_PARAMETER'));
      assert.equal(fed.server.sessions().length, 2);
      await new Promise((resolve) => setTimeout(resolve, 8000));
      const ids = fed.server.sessions().map((s) => s.id);
      assert.deepEqual(ids, [kept.sessionId], 'only the kept-alive session is left');
      await receiveAndCheck(kept, 5, false); // joined mid-GOP: units() starts now
      await kept.close();
      await dropped.close();
    } finally {
      await fed.close();
    }
  });

  it('reconnects to a restarted server and the same units() goes on', async () => {
    let fed = await fedServer();
    const port = fed.port;
    const client = new RtspClient(fed.url, { reconnect: { initialDelayMs: 100, maxDelayMs: 400 } });
    let reconnects = 0;
    client.on('reconnect', () => reconnects++);
    try {
      await client.start();
      const units = client.units();
      const before: RtspClientUnit[] = [];
      for (let i = 0; i < 10; i++) before.push((await units.next()).value as RtspClientUnit);
      checkUnits(before);
      await fed.close();
      await new Promise((resolve) => setTimeout(resolve, 300));
      fed = await fedServer({ port });
      const afterRestart: RtspClientUnit[] = [];
      const deadline = setTimeout(() => void client.close(), 15_000);
      for (;;) {
        const r = await units.next();
        if (r.done) break;
        afterRestart.push(r.value);
        if (afterRestart.length >= 10) break;
      }
      clearTimeout(deadline);
      assert.equal(afterRestart.length, 10, 'units after the restart');
      checkUnits(afterRestart);
      assert.ok(afterRestart[0].pts > before.at(-1)!.pts, 'pts keeps counting');
      assert.ok(reconnects >= 1);
    } finally {
      await client.close();
      await fed.close();
    }
  });

  it('an AbortSignal ends units() and rejects what is pending', async () => {
    const fed = await fedServer();
    try {
      const controller = new AbortController();
      const client = new RtspClient(fed.url, { signal: controller.signal });
      await client.start();
      let n = 0;
      for await (const _ of client.units()) {
        if (++n === 5) controller.abort();
        assert.ok(n < 1000);
      }
      assert.ok(n >= 5);
      await assert.rejects(client.describe(), { name: 'AbortError' });
    } finally {
      await fed.close();
    }
  });
});

describe('RtspClient with audio', () => {
  it('AAC (mpeg4-generic) over UDP: raw AUs out as pushed, fragmented ones reassembled', async () => {
    const server = await createServer({ host: '127.0.0.1', port: 0, rtpPortRange: [41000, 41999] });
    const track = server.addStream('/aac', { tracks: [new AacTrackCodec({ input: 'raw', config: '1190' })] })
      .tracks[0]!;
    const au = (n: number) => {
      const b = Buffer.alloc(n % 4 === 0 ? 2500 : 300 + n);
      b.writeUInt32BE(n, 0);
      for (let i = 4; i < b.length; i++) b[i] = (n + i) & 0xff;
      return b;
    };
    let n = 0;
    const timer = setInterval(() => {
      track.push(au(n), { pts: Math.round((n * 1024 * 1e6) / 48000) });
      n++;
    }, 20);
    try {
      const client = new RtspClient(`rtsp://127.0.0.1:${server.port}/aac`, { transport: 'udp' });
      const [t] = await client.start();
      assert.equal(t.codec, 'MPEG4-GENERIC');
      assert.equal(t.clockRate, 48000);
      const got: RtspClientUnit[] = [];
      const deadline = setTimeout(() => void client.close(), 15_000);
      for await (const unit of client.units()) {
        got.push(unit);
        if (got.length >= 20) break;
      }
      clearTimeout(deadline);
      assert.equal(got.length, 20);
      const first = (got[0].data as Buffer).readUInt32BE(0);
      for (const unit of got) {
        const k = (unit.data as Buffer).readUInt32BE(0);
        assert.deepEqual(unit.data, au(k));
        assert.equal(unit.rtpTimestamp - got[0].rtpTimestamp, (k - first) * 1024);
        assert.ok(Math.abs(unit.pts - got[0].pts - ((k - first) * 1024 * 1e6) / 48000) < 1, `AU ${k} pts`);
      }
      assert.equal(client.stats().get(0)?.packetsLost, 0);
      await client.close();
    } finally {
      clearInterval(timer);
      await server.close();
    }
  });
});

describe('RtspClient Digest without qop (RFC 2069)', () => {
  it('answers a challenge that offers no qop with the plain response', async () => {
    const seen: string[] = [];
    const server = createNetServer((socket) => {
      const parser = new RtspParser();
      socket.on('data', (chunk) => {
        for (const m of parser.push(chunk)) {
          if (m.kind !== 'request') continue;
          const cseq = m.headers.get('cseq') ?? '0';
          const authorization = m.headers.get('authorization');
          if (authorization === undefined) {
            socket.write(
              serializeResponse({
                status: 401,
                headers: { CSeq: cseq, 'WWW-Authenticate': 'Digest realm="old cam", nonce="abc123"' },
              }),
            );
            continue;
          }
          seen.push(authorization);
          socket.write(
            serializeResponse({ status: 200, headers: { CSeq: cseq, Public: 'OPTIONS, DESCRIBE' } }),
          );
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const url = `rtsp://127.0.0.1:${port}/cam`;
      const client = new RtspClient(url, { user: 'bob', password: 'pw' });
      assert.deepEqual(await client.requestOptions(), ['OPTIONS', 'DESCRIBE']);
      await client.close();
      assert.equal(seen.length, 1);
      const creds = parseAuthorization(seen[0]);
      assert.equal(creds.scheme, 'digest');
      if (creds.scheme !== 'digest') return;
      assert.equal(creds.digest.qop, undefined);
      const expected = digestResponse({
        algorithm: 'MD5',
        ha1: ha1('MD5', 'bob', 'old cam', 'pw'),
        nonce: 'abc123',
        method: 'OPTIONS',
        uri: url,
      });
      assert.equal(creds.digest.response, expected);
    } finally {
      server.close();
    }
  });
});

describe('TrackReceiver', () => {
  it('puts reordered packets back in order and counts a gap it gives up on as loss', () => {
    const track = {
      index: 0,
      kind: 'audio',
      codec: 'L16',
      payloadType: 96,
      clockRate: 8000,
      fmtp: '',
      controlUrl: 'rtsp://127.0.0.1/x',
      media: { kind: 'audio', payloadType: 96, encoding: 'L16', clockRate: 8000, control: '' },
    };
    const out: number[] = [];
    const receiver = new TrackReceiver(track, 4, (u) => out.push((u.data as Buffer)[0]));
    const packet = (seq: number) => {
      const b = Buffer.alloc(13);
      writeRtpHeader(b, 0, {
        marker: false,
        payloadType: 96,
        sequenceNumber: seq & 0xffff,
        timestamp: seq * 160,
        ssrc: 7,
      });
      b[12] = seq & 0xff;
      return b;
    };
    // 65534, 65535, 0 wrap; 2 before 1; 5 never comes.
    for (const s of [65534, 65535, 0, 2, 1, 3, 4, 6, 7, 8, 9, 10]) receiver.receive(packet(s));
    const block = receiver.reportBlock()!;
    assert.equal(block.ssrc, 7);
    assert.equal(block.cumulativeLost, 1);
    assert.equal(block.fractionLost, Math.floor(256 / 13));
    assert.equal(block.highestSequence, 0x10000 + 10);
    receiver.receive(packet(3)); // late duplicate
    assert.deepEqual(out, [254, 255, 0, 1, 2, 3, 4, 6, 7, 8, 9, 10]);
    assert.equal(receiver.stats.packetsLost, 1);
    assert.equal(receiver.stats.packetsDropped, 1);
  });
});
