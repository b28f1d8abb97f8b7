// One bad client never hurts the others: vanished UDP ports, abrupt resets, a reader too slow
// for the stream. Also checks the sender reports' NTP↔RTP mapping against the data packets.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ntpToMs } from '../../src/rtp/ntp.js';
import { readRtpHeader } from '../../src/rtp/packet.js';
import { parseRtcpCompound, type RtcpSenderReportPacket } from '../../src/rtp/rtcp.js';
import { RawRtspClient } from '../helpers/rtsp-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startSyntheticSource } from '../helpers/synthetic.js';

async function waitUntil(predicate: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function playTcp(url: string, c: RawRtspClient): Promise<string> {
  const s = await c.request('SETUP', `${url}/trackID=0`, {
    Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
  });
  const id = (s.headers.get('session') ?? '').split(';')[0];
  assert.equal((await c.request('PLAY', url, { Session: id })).status, 200);
  return id;
}

describe('robustness', () => {
  let ts: TestServer;
  const errors: Error[] = [];
  before(async () => {
    ts = await startTestServer({ maxBufferedBytes: 64 * 1024, maxLagMs: 1500, rtcpIntervalMs: 300 });
    ts.server.on('clientError', (e) => errors.push(e));
  });
  after(async () => {
    await ts.close();
  });

  it('a UDP client whose ports are closed (ICMP unreachable) does not disturb a TCP client', async () => {
    const watcher = await RawRtspClient.connect(ts.port);
    await playTcp(ts.url, watcher);
    const ghost = await RawRtspClient.connect(ts.port);
    // Nothing listens on these ports: every datagram bounces with ICMP port unreachable.
    const s = await ghost.request('SETUP', `${ts.url}/trackID=0`, {
      Transport: 'RTP/AVP;unicast;client_port=9-10',
    });
    assert.equal(s.status, 200);
    const id = (s.headers.get('session') ?? '').split(';')[0];
    assert.equal((await ghost.request('PLAY', ts.url, { Session: id })).status, 200);
    const before = watcher.frames.length;
    await watcher.waitFor(() => watcher.frames.length > before + 100);
    assert.ok(ts.server.sessions().some((x) => x.id === id && x.packetsSent > 0));
    ghost.close();
    watcher.close();
    await waitUntil(() => ts.server.sessions().length === 0);
  });

  it('an abrupt reset mid-play ends that session only', async () => {
    const steady = await RawRtspClient.connect(ts.port);
    await playTcp(ts.url, steady);
    const rude = await RawRtspClient.connect(ts.port);
    await playTcp(ts.url, rude);
    await rude.waitFor(() => rude.frames.length > 10);
    rude.socket.resetAndDestroy();
    await waitUntil(() => ts.server.sessions().length === 1);
    const before = steady.frames.length;
    await steady.waitFor(() => steady.frames.length > before + 50);
    steady.close();
    await waitUntil(() => ts.server.sessions().length === 0);
  });

  it('a client that stops reading is skipped to keyframes, then dropped; the others lose nothing', async () => {
    // 8 Mbit/s, so a stalled reader fills the socket buffers within a second or two.
    const fast = ts.server.addStream('/fast', { video: { codec: 'H264' } });
    const stop = startSyntheticSource(fast.video!, { idrBytes: 120_000, pBytes: 36_000, gop: 25 });
    const url = `rtsp://127.0.0.1:${ts.port}/fast`;
    const ended: string[] = [];
    const onEnd = (info: { id: string }, reason: string) => ended.push(`${info.id}:${reason}`);
    ts.server.on('sessionEnd', onEnd);
    const good = await RawRtspClient.connect(ts.port);
    await playTcp(url, good);
    const slow = await RawRtspClient.connect(ts.port);
    const slowId = await playTcp(url, slow);
    slow.socket.pause();
    let skipped = 0;
    await waitUntil(() => {
      const view = ts.server.sessions().find((x) => x.id === slowId);
      if (view) skipped = view.droppedBatches;
      return ended.includes(`${slowId}:slow`);
    }, 15_000);
    assert.ok(skipped > 0, 'batches were skipped before the drop');
    ts.server.off('sessionEnd', onEnd);
    stop();
    // The good client saw every packet: contiguous sequence numbers throughout.
    const rtp = good.frames.filter((f) => f.channel === 0).map((f) => readRtpHeader(f.data).sequenceNumber);
    assert.ok(rtp.length > 100, `${rtp.length} packets`);
    for (let i = 1; i < rtp.length; i++) assert.equal(rtp[i], (rtp[i - 1] + 1) & 0xffff, `gap at ${i}`);
    good.close();
    slow.close();
    await waitUntil(() => ts.server.sessions().length === 0);
  });

  it('sender reports map NTP to RTP on the clock of the data packets', async () => {
    const c = await RawRtspClient.connect(ts.port);
    const arrivals: Array<{ wallMs: number; rtp: number }> = [];
    const reports: RtcpSenderReportPacket[] = [];
    c.onFrame = (f) => {
      if (f.channel === 0) {
        const h = readRtpHeader(f.data);
        // The first packet of each access unit leaves the server right as it is pushed.
        if (!arrivals.length || arrivals[arrivals.length - 1].rtp !== h.timestamp) {
          arrivals.push({ wallMs: Date.now(), rtp: h.timestamp });
        }
      } else {
        for (const p of parseRtcpCompound(f.data)) if (p.type === 'sr') reports.push(p);
      }
    };
    await playTcp(ts.url, c);
    await c.waitFor(() => reports.length >= 3 && arrivals.length > 25, 10_000);
    for (const sr of reports) {
      const srMs = ntpToMs(sr.ntpSeconds, sr.ntpFraction);
      // Predict the RTP timestamp of every received access unit from the SR: within 60 ms.
      for (const a of arrivals.slice(-20)) {
        const predicted = sr.rtpTimestamp + Math.round(((a.wallMs - srMs) * 90000) / 1000);
        const diffMs = (((a.rtp - predicted) << 0) / 90000) * 1000;
        assert.ok(Math.abs(diffMs) < 60, `SR mapping off by ${diffMs.toFixed(1)} ms`);
      }
    }
    c.close();
    await waitUntil(() => ts.server.sessions().length === 0);
  });
});
