// UDP multicast with real clients. The whole scenario (server, ffmpeg, GStreamer, bare readers) runs
// in a network namespace made for it, whose only interface is its own loopback with 224.0.0.0/4
// routed to it: no multicast ever reaches a real network. See test/helpers/multicast-netns.ts.
import assert from 'node:assert/strict';
import { before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  canUseNetns,
  hasTool,
  requireGstElements,
  requireNetns,
  requireTools,
  run,
} from '../helpers/tools.js';

const SCENARIO = fileURLToPath(new URL('../helpers/multicast-netns.ts', import.meta.url));
const NAMESPACE_SETUP =
  'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo && ' +
  'exec node --import tsx "$0"';

interface Figures {
  transports: string[];
  metricsPackets: number;
  metricsReaders: number;
  senderPackets: number;
  trackPackets: number;
  sessionPackets: number;
  sessions: number;
  playing: number;
  senderReaders: number;
}

// biome-ignore lint/suspicious/noExplicitAny: the scenario's JSON, checked field by field below.
type Scenario = any;

describe('UDP multicast (in a network namespace)', () => {
  let scenario: Scenario | undefined;

  before(async () => {
    // Each test says why it skips (or fails under SMOLRTSP_REQUIRE_TOOLS); here, just do not run.
    if (!canUseNetns() || !hasTool('ffmpeg') || !hasTool('gst-launch-1.0')) return;
    const r = await run('unshare', ['-n', 'sh', '-c', NAMESPACE_SETUP, SCENARIO], 150_000);
    const line = r.stdout.toString().trim().split('\n').pop() ?? '';
    try {
      scenario = JSON.parse(line);
    } catch {
      scenario = { error: `scenario printed no result (exit ${r.code}): ${r.stderr.slice(-2000)}` };
    }
  });

  const ready = (t: TestContext): Scenario | undefined => {
    if (!requireNetns(t) || !requireTools(t, 'ffmpeg', 'gst-launch-1.0')) return undefined;
    if (!requireGstElements(t, 'rtspsrc', 'avdec_h264')) return undefined;
    assert.equal(scenario?.error, undefined, scenario?.error);
    return scenario;
  };

  it('ffmpeg (-rtsp_transport udp_multicast) and GStreamer (protocols=udp-mcast) decode from the group', (t) => {
    const s = ready(t);
    if (!s) return;
    assert.ok(s.ffmpeg.frames >= 50, `ffmpeg decoded ${s.ffmpeg.frames} frames in 3 s`);
    assert.equal(s.ffmpeg.errors, '');
    assert.ok(s.gst.frames >= 50, `GStreamer decoded ${s.gst.frames} frames in 4 s`);
    assert.equal(s.gst.errors, '');
    // Each left; with no reader left the sender is gone.
    assert.equal(s.sendersAfterClients, 0);
  });

  it('ten readers cost one send per packet; ten unicast readers cost ten', (t) => {
    const s = ready(t);
    if (!s) return;
    const { before: b, after: a }: { before: Figures; after: Figures } = s.tenReaders;
    assert.equal(b.playing, 10);
    assert.equal(a.playing, 10);
    assert.equal(a.senderReaders, 10);
    const produced = a.trackPackets - b.trackPackets;
    const sent = a.senderPackets - b.senderPackets;
    assert.ok(produced > 20, `the track made ${produced} packets in 2 s`);
    // Every packet the track made went to the group exactly once, not once per reader.
    assert.equal(sent, produced);
    // What the readers were offered is ten times that: what unicast would have cost.
    assert.equal(a.sessionPackets - b.sessionPackets, 10 * produced);
    // The metrics tell multicast apart and count the group's sends once, not once per reader.
    assert.deepEqual(a.transports, ['multicast']);
    assert.equal(a.metricsReaders, 10);
    assert.equal(a.metricsPackets, a.senderPackets);
    // The bare readers got what was sent (loopback loses nothing).
    for (const n of s.tenReaders.rawPackets) assert.ok(n >= produced, `a bare reader got ${n}`);
    assert.match(
      s.tenReaders.transport,
      /^RTP\/AVP;multicast;destination=239\.255\.12\.1;ttl=1;port=5000-5001;/,
    );
    assert.ok(s.tenClients.ffmpeg.frames >= 100, `ffmpeg among ten decoded ${s.tenClients.ffmpeg.frames}`);
    assert.equal(s.tenClients.ffmpeg.errors, '');
    assert.ok(s.tenClients.gst.frames >= 100, `GStreamer among ten decoded ${s.tenClients.gst.frames}`);
    assert.equal(s.tenClients.gst.errors, '');

    // The control: ten unicast UDP readers, where the server sends each packet ten times.
    const u: { before: Figures; after: Figures } = s.unicast;
    assert.equal(u.after.playing, 10);
    const uProduced = u.after.trackPackets - u.before.trackPackets;
    assert.equal(u.after.sessionPackets - u.before.sessionPackets, 10 * uProduced);
    assert.equal(u.after.senderPackets, 0);
  });

  it('sender reports go to the group, and a BYE once the last reader has left', (t) => {
    const s = ready(t);
    if (!s) return;
    assert.equal(s.afterTen.senders, 0);
    for (const type of ['sr', 'sdes', 'bye', 'rr']) assert.ok(s.afterTen.rtcpSeen.includes(type), type);
  });

  it('multicast where a path has none: 461; another group asked for: the path’s own', (t) => {
    const s = ready(t);
    if (!s) return;
    assert.equal(s.refusals.plainMulticast, 461);
    // Offered with a unicast alternative, the unicast one is taken.
    assert.equal(s.refusals.plainFallback[0], 200);
    assert.match(s.refusals.plainFallback[1], /^RTP\/AVP;unicast;client_port=41000-41001;/);
    assert.equal(s.refusals.overridden[0], 200);
    assert.match(s.refusals.overridden[1], /;destination=239\.255\.12\.1;ttl=1;port=5000-5001;/);
  });

  it('a silent multicast reader times out; one whose receiver reports reach the group does not', (t) => {
    const s = ready(t);
    if (!s) return;
    // The silent one ended first, by timeout; the reporting one only by its TEARDOWN at the end.
    assert.deepEqual(s.timeout.ended[0], ['127.0.0.2', 'timeout']);
    assert.ok(!s.timeout.ended.some((e: string[]) => e[0] === '127.0.0.3' && e[1] === 'timeout'));
    assert.deepEqual(s.timeout.left, [['127.0.0.3', 'playing']]);
    assert.ok(s.timeout.rtcpReceived >= 5, `${s.timeout.rtcpReceived} reports received`);
  });
});
