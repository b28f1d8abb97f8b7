// The dispatcher without sockets: every method in every session state, against a fake connection
// and fake transports.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { GenericTrackCodec } from '../../../src/media/formats/generic.js';
import { Stream } from '../../../src/media/stream.js';
import { RtspError } from '../../../src/protocol/errors.js';
import { RtspHeaders } from '../../../src/protocol/message.js';
import { Dispatcher } from '../../../src/server/dispatcher.js';
import type { Session, SessionState } from '../../../src/server/session.js';
import { SessionTable } from '../../../src/server/session.js';
import { FakeConnection, FakeTransportFactory } from '../../helpers/fake-transports.js';

const URL = 'rtsp://127.0.0.1:8554/a';
const tables: SessionTable[] = [];

function harness() {
  // One audio track: PLAY starts at once (there is no keyframe to wait for).
  const stream = new Stream('/a', {
    tracks: [new GenericTrackCodec({ kind: 'audio', encoding: 'L16', clockRate: 8000, payloadType: 96 })],
  });
  const sessions = new SessionTable(
    {
      timeoutSec: 60,
      graceSec: 6,
      maxSessions: 10,
      maxSessionsPerPath: 10,
      maxSessionsPerConnection: 10,
      maxSessionsPerAddress: 10,
    },
    { senderReport: () => undefined, bye: () => Buffer.from('BYE') },
    () => {},
  );
  tables.push(sessions);
  const events: string[] = [];
  const transports = new FakeTransportFactory();
  const dispatcher = new Dispatcher<FakeConnection>({
    findStream: (path) => (path === '/a' ? stream : undefined),
    sessions,
    transports,
    hooks: {},
    limits: { allowUdpOverTls: false, playStartTimeoutMs: 1000, describeWaitMs: 10 },
    sessionStarted: (s) => events.push(`session ${s.id}`),
    sessionPlaying: (s) => events.push(`play ${s.id}`),
    reportError: (err) => events.push(`error ${String(err)}`),
  });
  const conn = new FakeConnection();
  let cseq = 0;
  /** The status of one request: returned, thrown (RtspError) or written directly (PLAY). */
  async function request(method: string, uri: string, headers: Record<string, string> = {}) {
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
      if (spec) return { status: spec.status, headers: new RtspHeaders(spec.headers ?? []) };
      const written = conn.written.find((w) => w.cseq === seq);
      assert.ok(written, `${method} answered neither by return nor by write`);
      return { status: written.spec.status, headers: new RtspHeaders(written.spec.headers ?? []) };
    } catch (err) {
      if (err instanceof RtspError) return { status: err.status, headers: new RtspHeaders() };
      throw err;
    }
  }
  return { stream, sessions, transports, dispatcher, conn, request, events };
}

type Start = 'none' | Exclude<SessionState, 'recording'>;

/** A harness with a session brought into `state` (none: no session header at all). */
async function inState(state: Start) {
  const h = harness();
  if (state === 'none') return { ...h, session: undefined, sessionHeaders: {} as Record<string, string> };
  const setup = await h.request('SETUP', `${URL}/trackID=0`, {
    Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
  });
  assert.equal(setup.status, 200);
  const id = (setup.headers.get('session') ?? '').split(';')[0];
  const session = h.sessions.get(id) as Session;
  if (state === 'playing' || state === 'paused')
    assert.equal((await h.request('PLAY', URL, { Session: id })).status, 200);
  if (state === 'paused') assert.equal((await h.request('PAUSE', URL, { Session: id })).status, 200);
  if (state === 'ended') assert.equal((await h.request('TEARDOWN', URL, { Session: id })).status, 200);
  assert.equal(session.state, state);
  return { ...h, session, sessionHeaders: { Session: id } as Record<string, string> };
}

const METHODS = [
  'OPTIONS',
  'DESCRIBE',
  'SETUP',
  'PLAY',
  'PAUSE',
  'TEARDOWN',
  'GET_PARAMETER',
  'SET_PARAMETER',
  'ANNOUNCE',
  'RECORD',
] as const;
const STATES: Start[] = ['none', 'ready', 'playing', 'paused', 'ended'];

/**
 * Expected [status, state after] of each method in each state. An ended session's id is unknown
 * (454) to every request that names it; ANNOUNCE on a path that takes no publishers is 405, and
 * RECORD in a session not set up for recording 455.
 */
const EXPECTED: Record<(typeof METHODS)[number], Record<Start, [number, Start]>> = {
  OPTIONS: {
    none: [200, 'none'],
    ready: [200, 'ready'],
    playing: [200, 'playing'],
    paused: [200, 'paused'],
    ended: [454, 'ended'],
  },
  DESCRIBE: {
    none: [200, 'none'],
    ready: [200, 'ready'],
    playing: [200, 'playing'],
    paused: [200, 'paused'],
    ended: [454, 'ended'],
  },
  SETUP: {
    none: [200, 'none'],
    ready: [200, 'ready'],
    playing: [455, 'playing'],
    paused: [200, 'paused'],
    ended: [454, 'ended'],
  },
  PLAY: {
    none: [454, 'none'],
    ready: [200, 'playing'],
    playing: [200, 'playing'],
    paused: [200, 'playing'],
    ended: [454, 'ended'],
  },
  PAUSE: {
    none: [454, 'none'],
    ready: [200, 'ready'],
    playing: [200, 'paused'],
    paused: [200, 'paused'],
    ended: [454, 'ended'],
  },
  TEARDOWN: {
    none: [454, 'none'],
    ready: [200, 'ended'],
    playing: [200, 'ended'],
    paused: [200, 'ended'],
    ended: [454, 'ended'],
  },
  GET_PARAMETER: {
    none: [200, 'none'],
    ready: [200, 'ready'],
    playing: [200, 'playing'],
    paused: [200, 'paused'],
    ended: [454, 'ended'],
  },
  SET_PARAMETER: {
    none: [200, 'none'],
    ready: [200, 'ready'],
    playing: [200, 'playing'],
    paused: [200, 'paused'],
    ended: [454, 'ended'],
  },
  // The stream here takes no publishers.
  ANNOUNCE: {
    none: [405, 'none'],
    ready: [405, 'ready'],
    playing: [405, 'playing'],
    paused: [405, 'paused'],
    ended: [454, 'ended'],
  },
  // Only a session set up for recording may RECORD.
  RECORD: {
    none: [455, 'none'],
    ready: [455, 'ready'],
    playing: [455, 'playing'],
    paused: [455, 'paused'],
    ended: [454, 'ended'],
  },
};

describe('dispatcher: every method in every session state, without sockets', () => {
  after(() => {
    for (const t of tables) t.close();
  });

  for (const method of METHODS) {
    for (const state of STATES) {
      const [status, after] = EXPECTED[method][state];
      it(`${method} with ${state === 'none' ? 'no session' : `a session ${state}`}: ${status}, then ${after}`, async () => {
        const h = await inState(state);
        const headers: Record<string, string> = { ...h.sessionHeaders };
        // SETUP names a free channel pair, so a second SETUP of the track is a re-SETUP of it.
        if (method === 'SETUP') headers.Transport = 'RTP/AVP/TCP;unicast;interleaved=2-3';
        const uri = method === 'SETUP' ? `${URL}/trackID=0` : URL;
        const r = await h.request(method, uri, headers);
        assert.equal(r.status, status);
        if (state === 'none') {
          // A SETUP without a session makes one; nothing else does.
          assert.equal(h.sessions.size, method === 'SETUP' ? 1 : 0);
          return;
        }
        assert.equal(h.session?.state, after);
        if (after === 'ended') assert.equal(h.sessions.size, 0);
        const transport = h.transports.made.at(-1)!;
        if (after === 'playing') {
          assert.equal(transport.active, true);
          assert.equal(h.stream.tracks[0].subscriberCount, 1);
        } else {
          assert.equal(transport.active, false);
          assert.equal(h.stream.tracks[0].subscriberCount, 0);
        }
      });
    }
  }

  it('PLAY is answered before the session starts, with RTP-Info naming the track; play is told after', async () => {
    const h = await inState('ready');
    const track = h.stream.tracks[0];
    let answersAtSubscribe = -1;
    const subscribe = track.subscribe.bind(track);
    track.subscribe = (sink) => {
      answersAtSubscribe = h.conn.written.length;
      subscribe(sink);
    };
    const r = await h.request('PLAY', URL, h.sessionHeaders);
    assert.equal(r.status, 200);
    assert.equal(answersAtSubscribe, 1);
    // An audio-only session starts at once: its next sequence number is its first; no rtptime is promised.
    assert.match(r.headers.get('rtp-info') ?? '', /^url=rtsp:\/\/127\.0\.0\.1:8554\/a\/trackID=0;seq=\d+$/);
    assert.deepEqual(h.events, [`session ${h.session?.id}`, `play ${h.session?.id}`]);
  });

  it('a re-SETUP while paused replaces the track transport and closes the old one', async () => {
    const h = await inState('paused');
    const old = h.transports.made[0];
    const r = await h.request('SETUP', `${URL}/trackID=0`, {
      ...h.sessionHeaders,
      Transport: 'RTP/AVP;unicast;client_port=5000-5001',
    });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('transport') ?? '', /server_port=40000-40001/);
    assert.equal(old.closed, true);
    assert.equal(h.session?.tracks.get(0)?.transport, h.transports.made[1]);
  });

  it('SETUP while playing is refused before any transport is made', async () => {
    const h = await inState('playing');
    const before = h.transports.made.length;
    assert.equal(
      (
        await h.request('SETUP', `${URL}/trackID=0`, {
          ...h.sessionHeaders,
          Transport: 'RTP/AVP;unicast;client_port=5000-5001',
        })
      ).status,
      455,
    );
    assert.equal(h.transports.made.length, before);
  });
});
