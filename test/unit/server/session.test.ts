// The session state machine and the session table, without sockets.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { GenericTrackCodec } from '../../../src/media/formats/generic.js';
import { Stream } from '../../../src/media/stream.js';
import { RtspError } from '../../../src/protocol/errors.js';
import {
  type EndReason,
  Session,
  type SessionOwner,
  type SessionState,
  SessionTable,
} from '../../../src/server/session.js';
import { FakeTransport } from '../../helpers/fake-transports.js';

const audioStream = (path = '/a') =>
  new Stream(path, {
    tracks: [new GenericTrackCodec({ kind: 'audio', encoding: 'L16', clockRate: 8000, payloadType: 96 })],
  });

const owner = (remoteAddress = '127.0.0.1'): SessionOwner => ({
  remoteAddress,
  remotePort: 1,
  closed: false,
});

function newSession() {
  const stream = audioStream();
  const ended: EndReason[] = [];
  const session = new Session('s1', stream, owner(), {
    senderReport: (track) => (track.started ? Buffer.from('SR') : undefined),
    bye: () => Buffer.from('BYE'),
    ended: (_s, reason) => ended.push(reason),
  });
  const track = stream.tracks[0];
  const transport = new FakeTransport('udp');
  return { stream, session, track, transport, ended };
}

function status455(fn: () => unknown, validIn: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof RtspError);
    assert.equal(err.status, 455);
    assert.match(err.message, new RegExp(`valid in: ${validIn}`));
    return true;
  });
}

describe('Session state machine', () => {
  it('starts ready; PLAY without a track is 455; state cannot be written from outside', () => {
    const { session } = newSession();
    assert.equal(session.state, 'ready');
    assert.throws(
      () => session.play(),
      (e: unknown) => e instanceof RtspError && e.status === 455,
    );
    assert.throws(() => {
      (session as unknown as { state: SessionState }).state = 'playing';
    }, TypeError);
    assert.equal(session.state, 'ready');
  });

  it('ready -> playing: transports start and subscribe, a sender report goes out once the track has started', () => {
    const { session, track, transport } = newSession();
    track.push(Buffer.from([1, 2, 3]));
    session.addTrack(track, transport, 'rtsp://h/a/trackID=0');
    assert.equal(session.play(), true);
    assert.equal(session.state, 'playing');
    assert.deepEqual(transport.calls, ['start', 'rtcp']);
    assert.equal(transport.rtcp[0].toString(), 'SR');
    assert.equal(track.subscriberCount, 1);
    track.push(Buffer.from([4]));
    assert.equal(transport.batches.length, 1);
    // PLAY while playing: nothing to do.
    assert.equal(session.play(), false);
    assert.equal(track.subscriberCount, 1);
  });

  it('playing <-> paused: PAUSE stops sending, PLAY resumes; SETUP is valid when paused, not when playing', () => {
    const { session, track, transport } = newSession();
    session.addTrack(track, transport, 'u');
    session.play();
    status455(() => session.addTrack(track, new FakeTransport('udp'), 'u'), 'ready, paused');
    session.pause();
    assert.equal(session.state, 'paused');
    assert.equal(track.subscriberCount, 0);
    assert.equal(transport.active, false);
    track.push(Buffer.from([1]));
    assert.equal(transport.batches.length, 0);
    // A re-SETUP while paused replaces the track's transport and closes the old one.
    const replacement = new FakeTransport('udp');
    session.addTrack(track, replacement, 'u');
    assert.equal(transport.closed, true);
    assert.equal(session.tracks.get(track.id)?.transport, replacement);
    assert.equal(session.play(), true);
    assert.equal(session.state, 'playing');
    track.push(Buffer.from([2]));
    assert.equal(replacement.batches.length, 1);
  });

  it('PAUSE when ready stays ready; PAUSE when paused stays paused', () => {
    const { session, track, transport } = newSession();
    session.addTrack(track, transport, 'u');
    session.pause();
    assert.equal(session.state, 'ready');
    session.play();
    session.pause();
    session.pause();
    assert.equal(session.state, 'paused');
  });

  it('end(): unsubscribes, sends BYE, closes the transports, tells once; idempotent; nothing is valid after', () => {
    const { session, track, transport, ended } = newSession();
    session.addTrack(track, transport, 'u');
    session.play();
    let told = 0;
    session.onEnd(() => told++);
    session.end('teardown');
    assert.equal(session.state, 'ended');
    assert.equal(session.endedBecause, 'teardown');
    assert.equal(track.subscriberCount, 0);
    assert.deepEqual(transport.calls.slice(-2), ['rtcp', 'close']);
    assert.equal(transport.rtcp.at(-1)?.toString(), 'BYE');
    session.end('timeout');
    assert.deepEqual(ended, ['teardown']);
    assert.equal(told, 1);
    assert.equal(transport.calls.filter((c) => c === 'close').length, 1);
    status455(() => session.play(), 'ready, playing, paused');
    status455(() => session.pause(), 'ready, playing, paused');
    status455(() => session.addTrack(track, new FakeTransport('udp'), 'u'), 'ready, paused');
    status455(() => session.checkState('RECORD'), 'ready, recording');
    // A listener added after the end is told at once.
    let late: EndReason | undefined;
    session.onEnd((r) => {
      late = r;
    });
    assert.equal(late, 'teardown');
  });

  it('a transport whose BYE throws is still closed', () => {
    const { session, track, transport } = newSession();
    transport.sendRtcp = () => {
      throw new Error('gone');
    };
    session.addTrack(track, transport, 'u');
    session.end('disconnect');
    assert.equal(transport.closed, true);
  });

  it('receiver reports from the client update the track view and count as a sign of life', () => {
    const { session, track, transport } = newSession();
    session.addTrack(track, transport, 'u');
    session.lastActivityMs = 0;
    // RR: V=2, RC=1, PT=201, length 7; reporter SSRC; one block for our SSRC.
    const rr = Buffer.alloc(32);
    rr.writeUInt8(0x81, 0);
    rr.writeUInt8(201, 1);
    rr.writeUInt16BE(7, 2);
    rr.writeUInt32BE(1234, 4);
    rr.writeUInt32BE(track.sender.ssrc, 8);
    rr.writeUInt8(64, 12); // fraction lost 64/256
    rr.writeUInt32BE(8000, 20); // jitter: 8000 ticks at 8 kHz = 1 s
    session.receiveRtcp(rr);
    assert.ok(session.lastActivityMs > 0);
    const report = session.tracks.get(track.id)?.receiverReport;
    assert.equal(report?.fractionLost, 0.25);
    assert.equal(report?.jitter, 1);
  });
});

describe('SessionTable', () => {
  const tables: SessionTable[] = [];
  afterEach(() => {
    for (const t of tables.splice(0)) t.close();
  });
  const table = (limits: Partial<ConstructorParameters<typeof SessionTable>[0]> = {}) => {
    const endedLog: Array<[string, EndReason]> = [];
    const t = new SessionTable(
      {
        timeoutSec: 60,
        graceSec: 6,
        maxSessions: 100,
        maxSessionsPerPath: 100,
        maxSessionsPerConnection: 100,
        maxSessionsPerAddress: 100,
        ...limits,
      },
      { senderReport: () => undefined, bye: () => Buffer.alloc(0) },
      (s, reason) => endedLog.push([s.id, reason]),
    );
    tables.push(t);
    return { t, endedLog };
  };
  const limitMessage = (fn: () => unknown, what: string) =>
    assert.throws(fn, (e: unknown) => e instanceof RtspError && e.status === 503 && e.message.includes(what));

  it('finds sessions by id, by owner and by stream; an ended session leaves every index', () => {
    const { t, endedLog } = table();
    const a = audioStream('/a');
    const b = audioStream('/b');
    const c1 = owner('10.0.0.1');
    const c2 = owner('10.0.0.2');
    const s1 = t.create(a, c1);
    const s2 = t.create(b, c1);
    const s3 = t.create(a, c2);
    assert.match(s1.id, /^[0-9a-f]{24}$/);
    assert.equal(t.get(s2.id), s2);
    assert.deepEqual(new Set(t.ofOwner(c1)), new Set([s1, s2]));
    assert.deepEqual(new Set(t.ofStream(a)), new Set([s1, s3]));
    assert.equal(t.hasSessions(c2), true);
    s3.end('disconnect');
    assert.equal(t.get(s3.id), undefined);
    assert.deepEqual(t.ofStream(a), [s1]);
    assert.equal(t.hasSessions(c2), false);
    assert.equal(t.size, 2);
    assert.deepEqual(endedLog, [[s3.id, 'disconnect']]);
  });

  it('limits per path, per connection, per address and in total, counted from the indexes', () => {
    const a = audioStream('/a');
    const b = audioStream('/b');
    {
      const { t } = table({ maxSessionsPerPath: 1 });
      t.create(a, owner());
      limitMessage(() => t.create(a, owner('10.0.0.9')), 'this path');
      t.create(b, owner());
    }
    {
      const { t } = table({ maxSessionsPerConnection: 1 });
      const c = owner();
      const s = t.create(a, c);
      limitMessage(() => t.create(b, c), 'this connection');
      s.end('teardown');
      t.create(b, c); // room again
    }
    {
      const { t } = table({ maxSessionsPerAddress: 2 });
      t.create(a, owner('10.0.0.1'));
      t.create(a, owner('10.0.0.1'));
      limitMessage(() => t.create(a, owner('10.0.0.1')), 'this address');
      t.create(a, owner('10.0.0.2'));
    }
    {
      const { t } = table({ maxSessions: 1 });
      t.create(a, owner('10.0.0.1'));
      limitMessage(() => t.create(b, owner('10.0.0.2')), 'session limit reached');
    }
  });

  it('reaps a quiet session with reason timeout; one kept alive by its TCP connection stays', () => {
    const { t, endedLog } = table();
    const a = audioStream();
    const quiet = t.create(a, owner());
    quiet.addTrack(a.tracks[0], new FakeTransport('udp'), 'u');
    const tcp = t.create(a, owner());
    tcp.addTrack(a.tracks[0], new FakeTransport('tcp', [0, 1]), 'u');
    t.reap(performance.now() + 67_000);
    assert.deepEqual(endedLog, [[quiet.id, 'timeout']]);
    assert.equal(quiet.state, 'ended');
    assert.equal(tcp.state, 'ready');
  });
});
