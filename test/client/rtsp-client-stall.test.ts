// A playing session that goes silent (the server stalls, or expires a UDP session without a word,
// as GStreamer's rtsp-server does) is lost after mediaTimeoutMs: the client reconnects instead of
// waiting forever. A session that keeps sending is never touched.
import assert from 'node:assert/strict';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { RtspClient } from '../../src/client/rtsp-client.js';
import { RtspParser } from '../../src/protocol/parser.js';
import { serializeResponse } from '../../src/protocol/serializer.js';
import { startTestServer } from '../helpers/server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Answers OPTIONS, DESCRIBE, SETUP (interleaved), PLAY; sends RTP only to the first `sendTo` connections. */
async function stallingServer(): Promise<{ url: string; plays: () => number; close: () => void }> {
  const sdp =
    'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=stall\r\nt=0 0\r\n' +
    'm=audio 0 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=control:track1\r\n';
  let plays = 0;
  const conns = new Set<Socket>();
  const server = createNetServer((socket) => {
    conns.add(socket);
    socket.on('close', () => conns.delete(socket));
    socket.on('error', () => {});
    const parser = new RtspParser();
    socket.on('data', (chunk) => {
      for (const m of parser.push(chunk)) {
        if (m.kind !== 'request') continue;
        const headers: Record<string, string> = { CSeq: m.headers.get('cseq') ?? '0' };
        let body: Buffer | undefined;
        if (m.method === 'OPTIONS') headers.Public = 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN';
        if (m.method === 'DESCRIBE') {
          headers['Content-Type'] = 'application/sdp';
          body = Buffer.from(sdp);
        }
        if (m.method === 'SETUP') {
          headers.Session = 'a1b2c3;timeout=60';
          headers.Transport = 'RTP/AVP/TCP;unicast;interleaved=0-1';
        }
        socket.write(serializeResponse({ status: 200, headers, body }));
        if (m.method === 'PLAY') {
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
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `rtsp://127.0.0.1:${(server.address() as AddressInfo).port}/cam`,
    plays: () => plays,
    close: () => {
      for (const c of conns) c.destroy();
      server.close();
    },
  };
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
