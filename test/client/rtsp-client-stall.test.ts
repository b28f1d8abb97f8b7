// A playing session that goes silent (the server stalls, or expires a UDP session without a word,
// as GStreamer's rtsp-server does) is lost after mediaTimeoutMs: the client reconnects instead of
// waiting forever. A session that keeps sending is never touched.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RtspClient } from '../../src/client/rtsp-client.js';
import { startScriptedRtspServer } from '../helpers/scripted-rtsp-server.js';
import { startTestServer } from '../helpers/server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Answers OPTIONS, DESCRIBE, SETUP (interleaved), PLAY; after each PLAY, ten RTP packets and then silence. */
async function stallingServer(): Promise<{ url: string; plays: () => number; close: () => void }> {
  const sdp =
    'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=stall\r\nt=0 0\r\n' +
    'm=audio 0 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=control:track1\r\n';
  let plays = 0;
  const server = await startScriptedRtspServer({
    sdp,
    onPlay({ socket }, answer) {
      socket.write(answer);
      plays++;
      // Ten packets, then silence on a connection that stays open.
      for (let i = 0; i < 10; i++) {
        const rtp = Buffer.alloc(12 + 160, 0xff);
        rtp[0] = 0x80;
        rtp[1] = 0x80;
        rtp.writeUInt16BE(i, 2);
        rtp.writeUInt32BE(i * 160, 4);
        rtp.writeUInt32BE(0x1234, 8);
        const frame = Buffer.alloc(4);
        frame[0] = 0x24;
        frame[1] = 0;
        frame.writeUInt16BE(rtp.length, 2);
        socket.write(Buffer.concat([frame, rtp]));
      }
    },
  });
  return { url: server.url, plays: () => plays, close: server.close };
}

describe('RtspClient media watchdog', () => {
  it('a session that goes silent is lost after mediaTimeoutMs and set up again', async () => {
    const server = await stallingServer();
    const client = new RtspClient(server.url, {
      mediaTimeoutMs: 400,
      reconnect: { initialDelayMs: 50, maxDelayMs: 100 },
    });
    const reasons: string[] = [];
    client.on('reconnect', (info) => reasons.push(info.error.message));
    client.on('error', () => {});
    try {
      await client.start();
      const deadline = Date.now() + 5000;
      while (server.plays() < 2 && Date.now() < deadline) await sleep(50);
      assert.ok(
        server.plays() >= 2,
        `played ${server.plays()} times: the stall was noticed and the session set up again`,
      );
      assert.match(reasons[0] ?? '', /no media for 400 ms/);
    } finally {
      await client.close();
      server.close();
    }
  });

  it('a session that keeps sending is never lost', async () => {
    const server = await startTestServer({ rtpPortRange: [43000, 43999] });
    // Short against 25 fps, yet longer than the wait for the sample's next keyframe after PLAY.
    const client = new RtspClient(server.url, { mediaTimeoutMs: 1000, reconnect: {} });
    let reconnects = 0;
    let units = 0;
    client.on('reconnect', () => reconnects++);
    client.on('unit', () => units++);
    try {
      await client.start();
      const deadline = Date.now() + 5000;
      while (units === 0 && Date.now() < deadline) await sleep(20);
      await sleep(2500);
      assert.equal(reconnects, 0);
      assert.ok(units > 40, `${units} units`);
    } finally {
      await client.close();
      await server.close();
    }
  });
});

describe('RtspClient with nothing to set up', () => {
  it('says the tracks filter took no track instead of sending PLAY without a session', async () => {
    const server = await startTestServer({ rtpPortRange: [43000, 43999] });
    const client = new RtspClient(server.url, { tracks: () => false });
    try {
      await assert.rejects(client.start(), /no track to set up: the tracks filter took none of H264/);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
