// Multicast without a network: the setting's checks, and SETUP/PLAY/TEARDOWN through the dispatcher
// onto the real shared senders, whose sockets are fakes that record what would have been sent.
import assert from 'node:assert/strict';
import type { Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { after, describe, it } from 'node:test';
import { GenericTrackCodec } from '../../../src/media/formats/generic.js';
import { parseMulticastAddress, resolveMulticast } from '../../../src/media/multicast.js';
import { Stream } from '../../../src/media/stream.js';
import { RtspError } from '../../../src/protocol/errors.js';
import { RtspHeaders } from '../../../src/protocol/message.js';
import { parseRtcpCompound } from '../../../src/rtp/rtcp.js';
import { Dispatcher } from '../../../src/server/dispatcher.js';
import { MulticastSenders } from '../../../src/server/multicast.js';
import { SessionTable } from '../../../src/server/session.js';
import { FakeConnection, FakeTransportFactory } from '../../helpers/fake-transports.js';

class FakeSocket extends EventEmitter {
  readonly sent: Array<{ port: number; address: string; data: Buffer }> = [];
  readonly calls: string[] = [];
  closed = false;
  bind(port: number, address: string, cb: () => void): void {
    this.calls.push(`bind ${address}:${port}`);
    setImmediate(cb);
  }
  send(data: Buffer, port: number, address: string): void {
    this.sent.push({ port, address, data });
  }
  setMulticastTTL(ttl: number): void {
    this.calls.push(`ttl ${ttl}`);
  }
  setMulticastLoopback(): void {}
  setMulticastInterface(): void {}
  addMembership(group: string): void {
    this.calls.push(`join ${group}`);
  }
  close(): void {
    this.closed = true;
  }
}

describe('multicast setting', () => {
  it('takes GROUP[:PORT] and fills in port 5004 and TTL 1', () => {
    assert.deepEqual(parseMulticastAddress('239.1.2.3:5000'), { group: '239.1.2.3', port: 5000, ttl: 1 });
    assert.deepEqual(parseMulticastAddress('239.1.2.3'), { group: '239.1.2.3', port: 5004, ttl: 1 });
    assert.deepEqual(resolveMulticast({ group: '239.0.0.1', port: 6000, ttl: 16 }), {
      group: '239.0.0.1',
      port: 6000,
      ttl: 16,
    });
  });

  for (const [what, text] of [
    ['a unicast address', '10.0.0.1:5000'],
    ['the local control block', '224.0.0.251:5000'],
    ['an odd port', '239.1.2.3:5001'],
    ['a low port', '239.1.2.3:80'],
    ['a host name', 'example.com:5000'],
    ['IPv6', 'ff02::1'],
  ]) {
    it(`refuses ${what}`, () => assert.throws(() => parseMulticastAddress(text)));
  }
  it('refuses TTL 0 and 256', () => {
    assert.throws(() => resolveMulticast({ group: '239.1.2.3', ttl: 0 }), /ttl/);
    assert.throws(() => resolveMulticast({ group: '239.1.2.3', ttl: 256 }), /ttl/);
  });
});

describe('multicast SETUP and the shared sender', () => {
  const tables: SessionTable[] = [];
  after(() => {
    for (const t of tables) t.close();
  });

  function harness() {
    const codec = () =>
      new GenericTrackCodec({ kind: 'audio', encoding: 'L16', clockRate: 8000, payloadType: 96 });
    const streams = new Map([
      ['/a', new Stream('/a', { tracks: [codec()], multicast: { group: '239.1.2.3', port: 5000, ttl: 4 } })],
      ['/b', new Stream('/b', { tracks: [codec()] })],
    ]);
    const sockets: FakeSocket[] = [];
    const senders = new MulticastSenders(
      { bye: () => Buffer.from([0x81, 203, 0, 1, 0, 0, 0, 1]) },
      undefined,
      () => {
        const s = new FakeSocket();
        sockets.push(s);
        return s as unknown as Socket;
      },
    );
    const sessions = new SessionTable(
      {
        timeoutSec: 60,
        graceSec: 6,
        maxSessions: 10,
        maxSessionsPerPath: 10,
        maxSessionsPerConnection: 10,
        maxSessionsPerAddress: 10,
      },
      { senderReport: () => undefined, bye: () => Buffer.from([0x81, 203, 0, 1, 0, 0, 0, 1]) },
      () => {},
    );
    tables.push(sessions);
    const fakes = new FakeTransportFactory();
    const transports = Object.assign(fakes, {
      multicast: (
        conn: FakeConnection,
        stream: Stream,
        track: Stream['tracks'][0],
        onPacket: (p: Buffer) => void,
      ) =>
        senders.reader(
          stream.path,
          stream.multicast!,
          track,
          stream.tracks.indexOf(track),
          conn.remoteAddress,
          onPacket,
        ),
    });
    const dispatcher = new Dispatcher<FakeConnection>({
      findStream: (path) => streams.get(path),
      sessions,
      transports,
      hooks: {},
      limits: { allowUdpOverTls: false, playStartTimeoutMs: 1000, describeWaitMs: 10 },
      sessionStarted: () => {},
      sessionPlaying: () => {},
      reportError: () => {},
    });
    let cseq = 0;
    async function request(
      conn: FakeConnection,
      method: string,
      uri: string,
      headers: Record<string, string> = {},
    ) {
      const seq = String(++cseq);
      const req = {
        kind: 'request' as const,
        method,
        uri,
        version: 'RTSP/1.0',
        headers: new RtspHeaders({ CSeq: seq, ...headers }),
        body: Buffer.alloc(0),
      };
      try {
        const spec = await dispatcher.handle(req, conn);
        const answer = spec ?? conn.written.find((w) => w.cseq === seq)!.spec;
        return { status: answer.status, headers: new RtspHeaders(answer.headers ?? []) };
      } catch (err) {
        if (err instanceof RtspError) return { status: err.status, headers: new RtspHeaders() };
        throw err;
      }
    }
    return { streams, sockets, senders, sessions, request };
  }

  it('answers with the path’s group whatever was asked; three readers, one send per packet; BYE after the last', async () => {
    const h = harness();
    const track = h.streams.get('/a')!.tracks[0];
    const readers: Array<{ conn: FakeConnection; session: string }> = [];
    for (let i = 0; i < 3; i++) {
      const conn = new FakeConnection(`127.0.0.${i + 2}`);
      const setup = await h.request(conn, 'SETUP', 'rtsp://h/a/trackID=0', {
        Transport: 'RTP/AVP;multicast;destination=239.9.9.9;port=6000-6001;ttl=127',
      });
      assert.equal(setup.status, 200);
      assert.match(
        setup.headers.get('transport') ?? '',
        /^RTP\/AVP;multicast;destination=239\.1\.2\.3;ttl=4;port=5000-5001;ssrc=[0-9A-F]{8}$/,
      );
      readers.push({ conn, session: (setup.headers.get('session') ?? '').split(';')[0] });
    }
    // Readers are sessions like any other; they share one sender, with one pair of sockets.
    assert.equal(h.sessions.size, 3);
    assert.equal(h.sockets.length, 2);
    assert.deepEqual(h.sockets[1].calls.slice(0, 1), ['bind 239.1.2.3:5001']);
    assert.ok(h.sockets[1].calls.includes('join 239.1.2.3'));
    assert.ok(h.sockets[0].calls.includes('ttl 4'));
    assert.equal(h.senders.list()[0].readers, 3);

    for (const r of readers) {
      assert.equal((await h.request(r.conn, 'PLAY', 'rtsp://h/a', { Session: r.session })).status, 200);
    }
    const out = h.sockets[0];
    const rtp = () => out.sent.filter((s) => s.port === 5000);
    const byes = () =>
      out.sent.filter((s) => s.port === 5001 && parseRtcpCompound(s.data).some((p) => p.type === 'bye'));
    for (let i = 0; i < 5; i++) track.push(Buffer.alloc(320));
    assert.equal(rtp().length, 5);
    assert.ok(rtp().every((s) => s.address === '239.1.2.3'));
    assert.equal(h.senders.list()[0].packets, 5);
    assert.equal(h.senders.list()[0].playing, 3);

    // Pausing or leaving readers do not stop the others, nor say BYE to them.
    assert.equal(
      (await h.request(readers[0].conn, 'PAUSE', 'rtsp://h/a', { Session: readers[0].session })).status,
      200,
    );
    await h.request(readers[1].conn, 'TEARDOWN', 'rtsp://h/a', { Session: readers[1].session });
    track.push(Buffer.alloc(320));
    assert.equal(rtp().length, 6);
    assert.equal(byes().length, 0);
    // The last player pauses: nothing goes to the group; it resumes: sending again.
    await h.request(readers[2].conn, 'PAUSE', 'rtsp://h/a', { Session: readers[2].session });
    track.push(Buffer.alloc(320));
    assert.equal(rtp().length, 6);
    await h.request(readers[2].conn, 'PLAY', 'rtsp://h/a', { Session: readers[2].session });
    track.push(Buffer.alloc(320));
    assert.equal(rtp().length, 7);

    await h.request(readers[0].conn, 'TEARDOWN', 'rtsp://h/a', { Session: readers[0].session });
    assert.equal(byes().length, 0);
    await h.request(readers[2].conn, 'TEARDOWN', 'rtsp://h/a', { Session: readers[2].session });
    assert.equal(byes().length, 1);
    assert.deepEqual(h.senders.list(), []);
    await new Promise((r) => setImmediate(r));
    assert.ok(h.sockets.every((s) => s.closed));
    track.push(Buffer.alloc(320));
    assert.equal(rtp().length, 7);
  });

  it('461 for multicast where the path has none; a unicast alternative is taken instead', async () => {
    const h = harness();
    const conn = new FakeConnection();
    const refused = await h.request(conn, 'SETUP', 'rtsp://h/b/trackID=0', {
      Transport: 'RTP/AVP;multicast',
    });
    assert.equal(refused.status, 461);
    const fallback = await h.request(conn, 'SETUP', 'rtsp://h/b/trackID=0', {
      Transport: 'RTP/AVP;multicast, RTP/AVP;unicast;client_port=5000-5001',
    });
    assert.equal(fallback.status, 200);
    assert.match(fallback.headers.get('transport') ?? '', /^RTP\/AVP;unicast;client_port=5000-5001;/);
    assert.equal(h.sockets.length, 0);
  });

  it('a receiver report on the group is a sign of life for the sessions at its address only', async () => {
    const h = harness();
    const a = new FakeConnection('127.0.0.2');
    const b = new FakeConnection('127.0.0.3');
    for (const conn of [a, b]) {
      const setup = await h.request(conn, 'SETUP', 'rtsp://h/a/trackID=0', {
        Transport: 'RTP/AVP;multicast',
      });
      assert.equal(setup.status, 200);
    }
    const [sa, sb] = [...h.sessions.values()];
    sa.lastActivityMs = 0;
    sb.lastActivityMs = 0;
    const rr = Buffer.from([0x80, 201, 0, 1, 0x12, 0x34, 0x56, 0x78]);
    h.sockets[1].emit('message', rr, { address: '127.0.0.3', port: 40000, family: 'IPv4', size: rr.length });
    assert.equal(sa.lastActivityMs, 0);
    assert.ok(sb.lastActivityMs > 0);
    for (const s of [sa, sb]) s.end('teardown');
  });
});
