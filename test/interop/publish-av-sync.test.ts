// A publisher whose audio reaches us 400 ms after the video it belongs with (both tracks' RTCP
// sender reports say so): the players of the published path, and of a relay of it, get audio and
// video lined up — judged as a player does, from our RTCP sender reports and RTP timestamps. Each
// video frame and audio packet carries its index, so the player knows its content time.
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { after, describe, it } from 'node:test';
import type { InterleavedFrame } from '../../src/protocol/message.js';
import { msToNtp, ntpToMs } from '../../src/rtp/ntp.js';
import { readRtpHeader } from '../../src/rtp/packet.js';
import { buildSenderReport, parseRtcpCompound } from '../../src/rtp/rtcp.js';
import { createServer, type RtspServer } from '../../src/server/rtsp-server.js';
import { RelaySource } from '../../src/sources/relay.js';
import { RawRtspClient } from '../helpers/rtsp-client.js';
import { sampleParameterSets } from '../helpers/synthetic.js';

const VIDEO_MS = 40;
const AUDIO_MS = 20;
/** How much later than its video the publisher's audio arrives. */
const AUDIO_LAG_MS = 400;
const RUN_MS = 3400;
/** The publisher's wall clock: an hour off ours, as a camera's may be. */
const SENDER_CLOCK_OFFSET_MS = -3_600_000;
const VIDEO_BASE = 0xfffc0000; // wraps within the run
const AUDIO_BASE = 0x12345678;
const VIDEO_SSRC = 0x1111;
const AUDIO_SSRC = 0x2222;

function pubSdp(): string {
  const { sps, pps } = sampleParameterSets();
  return [
    'v=0',
    'o=- 0 0 IN IP4 127.0.0.1',
    's=pub',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    'm=video 0 RTP/AVP 96',
    'a=rtpmap:96 H264/90000',
    `a=fmtp:96 packetization-mode=1;sprop-parameter-sets=${sps.toString('base64')},${pps.toString('base64')}`,
    'a=control:streamid=0',
    'm=audio 0 RTP/AVP 0',
    'a=rtpmap:0 PCMU/8000',
    'a=control:streamid=1',
    '',
  ].join('\r\n');
}

function rtp(payloadType: number, seq: number, timestamp: number, ssrc: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = 0x80 | payloadType;
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(timestamp >>> 0, 4);
  h.writeUInt32BE(ssrc, 8);
  return Buffer.concat([h, payload]);
}

function interleaved(channel: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x24, channel, data.length >> 8, data.length & 0xff]), data]);
}

/** An IDR slice (every frame decodes on its own) whose bytes 3-4 are the frame index. */
function videoFrame(index: number): Buffer {
  const nal = Buffer.alloc(24, 0x5a);
  nal.set([0x65, 0x88, 0x84, index >> 8, index & 0xff]);
  return nal;
}

/** 20 ms of µ-law whose first two bytes are the packet index. */
function audioPacket(index: number): Buffer {
  const samples = Buffer.alloc(160, 0xff);
  samples.set([index >> 8, index & 0xff]);
  return samples;
}

/** The index a served video RTP payload carries (single NAL or STAP-A), or undefined. */
function videoIndex(payload: Buffer): number | undefined {
  const type = payload[0] & 0x1f;
  if (type === 5) return payload.readUInt16BE(3);
  if (type === 24) {
    for (let o = 1; o + 2 <= payload.length; ) {
      const size = payload.readUInt16BE(o);
      const nal = payload.subarray(o + 2, o + 2 + size);
      if ((nal[0] & 0x1f) === 5) return nal.readUInt16BE(3);
      o += 2 + size;
    }
  }
  return undefined;
}

async function bindPair(): Promise<[UdpSocket, UdpSocket]> {
  const bind = (s: UdpSocket, port: number) =>
    new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(port, '127.0.0.1', () => {
        s.off('error', reject);
        resolve();
      });
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const a = createSocket('udp4');
    await bind(a, 0);
    const port = a.address().port;
    if (port % 2 === 0 && port < 65535) {
      const b = createSocket('udp4');
      try {
        await bind(b, port + 1);
        return [a, b];
      } catch {
        b.close();
      }
    }
    a.close();
  }
  throw new Error('no UDP port pair');
}

/** A publisher over `transport`: ANNOUNCE, SETUP of both tracks (mode=record), RECORD. */
async function startPublisher(port: number, url: string, transport: 'tcp' | 'udp') {
  const c = await RawRtspClient.connect(port);
  c.onFrame = () => {};
  const announce = await c.request('ANNOUNCE', url, { 'Content-Type': 'application/sdp' }, pubSdp());
  assert.equal(announce.status, 200, announce.reason);
  const pairs: Array<[UdpSocket, UdpSocket]> = [];
  const serverPorts: Array<[number, number]> = [];
  let session = '';
  for (const i of [0, 1]) {
    let spec = `RTP/AVP/TCP;unicast;interleaved=${2 * i}-${2 * i + 1};mode=record`;
    if (transport === 'udp') {
      const pair = await bindPair();
      pairs.push(pair);
      spec = `RTP/AVP;unicast;client_port=${pair[0].address().port}-${pair[1].address().port};mode=record`;
    }
    const s = await c.request('SETUP', `${url}/streamid=${i}`, {
      Transport: spec,
      ...(session ? { Session: session } : {}),
    });
    assert.equal(s.status, 200, s.reason);
    session = (s.headers.get('session') ?? '').split(';')[0];
    const m = /server_port=(\d+)-(\d+)/.exec(s.headers.get('transport') ?? '');
    if (transport === 'udp') {
      assert.ok(m, 'server_port in the answer');
      serverPorts.push([Number(m[1]), Number(m[2])]);
    }
  }
  assert.equal((await c.request('RECORD', url, { Session: session })).status, 200);
  const send = (track: number, rtcp: boolean, data: Buffer) => {
    if (transport === 'tcp') c.send(interleaved(2 * track + (rtcp ? 1 : 0), data));
    else pairs[track][rtcp ? 1 : 0].send(data, serverPorts[track][rtcp ? 1 : 0], '127.0.0.1');
  };
  return {
    send,
    close() {
      c.close();
      for (const [a, b] of pairs) {
        a.close();
        b.close();
      }
    },
  };
}

/**
 * Sends RUN_MS of video (25 fps) and audio (50 packets/s, AUDIO_LAG_MS late), each with a sender
 * report on its first packet and every 250 ms after, all saying content time t was captured at
 * senderStart + t.
 */
async function sendMedia(send: (track: number, rtcp: boolean, data: Buffer) => void): Promise<void> {
  const senderStart = Date.now() + SENDER_CLOCK_OFFSET_MS;
  const start = performance.now();
  const sr = (ssrc: number, contentMs: number, rtpTimestamp: number) => {
    const ntp = msToNtp(senderStart + contentMs);
    return buildSenderReport({
      ssrc,
      ntpSeconds: ntp.seconds,
      ntpFraction: ntp.fraction,
      rtpTimestamp,
      packetCount: 0,
      octetCount: 0,
    });
  };
  let v = 0;
  let a = 0;
  while (performance.now() - start < RUN_MS + AUDIO_LAG_MS) {
    const now = performance.now() - start;
    for (; v * VIDEO_MS <= now && v * VIDEO_MS < RUN_MS; v++) {
      const ts = VIDEO_BASE + v * VIDEO_MS * 90;
      if (v % 6 === 0) send(0, true, sr(VIDEO_SSRC, v * VIDEO_MS, ts));
      send(0, false, rtp(96, v, ts, VIDEO_SSRC, videoFrame(v)));
    }
    for (; a * AUDIO_MS + AUDIO_LAG_MS <= now && a * AUDIO_MS < RUN_MS; a++) {
      const ts = AUDIO_BASE + a * 160;
      if (a % 12 === 0) send(1, true, sr(AUDIO_SSRC, a * AUDIO_MS, ts));
      send(1, false, rtp(0, a, ts, AUDIO_SSRC, audioPacket(a)));
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A player of both tracks over TCP that keeps every frame. */
async function startPlayer(port: number, url: string, timeoutMs = 10_000) {
  const c = await RawRtspClient.connect(port);
  const frames: InterleavedFrame[] = [];
  c.onFrame = (f) => frames.push({ ...f, data: Buffer.from(f.data) });
  const deadline = Date.now() + timeoutMs;
  // A relay's path answers 503 until its upstream plays.
  while ((await c.request('DESCRIBE', url)).status !== 200) {
    if (Date.now() > deadline) throw new Error(`${url} not describable in time`);
    await new Promise((r) => setTimeout(r, 100));
  }
  let session = '';
  for (const i of [0, 1]) {
    const s = await c.request('SETUP', `${url}/trackID=${i}`, {
      Transport: `RTP/AVP/TCP;unicast;interleaved=${2 * i}-${2 * i + 1}`,
      ...(session ? { Session: session } : {}),
    });
    assert.equal(s.status, 200, s.reason);
    session = (s.headers.get('session') ?? '').split(';')[0];
  }
  assert.equal((await c.request('PLAY', url, { Session: session })).status, 200);
  return { client: c, frames };
}

/**
 * Where the player puts each track relative to its content, in ms (median over the units with
 * content time from `fromMs` on): the wall time our last sender report gives the unit's RTP
 * timestamp, less its content time. Lined-up tracks have the same figure.
 */
function placement(frames: readonly InterleavedFrame[], fromMs: number): { video: number; audio: number } {
  const out = { video: 0, audio: 0 };
  for (const [kind, channel, rate, unitMs] of [
    ['video', 0, 90_000, VIDEO_MS],
    ['audio', 2, 8000, AUDIO_MS],
  ] as const) {
    const reports = frames
      .filter((f) => f.channel === channel + 1)
      .flatMap((f) => parseRtcpCompound(f.data))
      .filter((p) => p.type === 'sr');
    const sr = reports.at(-1);
    assert.ok(sr, `a sender report for ${kind}`);
    const figures: number[] = [];
    for (const f of frames) {
      if (f.channel !== channel) continue;
      const h = readRtpHeader(f.data);
      const payload = f.data.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength);
      const index = kind === 'video' ? videoIndex(payload) : payload.readUInt16BE(0);
      if (index === undefined || index * unitMs < fromMs) continue;
      const wallMs =
        ntpToMs(sr.ntpSeconds, sr.ntpFraction) + (((h.timestamp - sr.rtpTimestamp) | 0) * 1000) / rate;
      figures.push(wallMs - index * unitMs);
    }
    assert.ok(figures.length > 10, `${figures.length} ${kind} units with content from ${fromMs} ms`);
    figures.sort((x, y) => x - y);
    out[kind] = figures[figures.length >> 1];
  }
  return out;
}

describe('publish and relay: audio and video lined up by the sender reports', { timeout: 60_000 }, () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  for (const transport of ['tcp', 'udp'] as const) {
    it(`a publisher over ${transport} whose audio comes ${AUDIO_LAG_MS} ms after its video: players of the path and of a relay of it see them within 20 ms`, async (t) => {
      const server: RtspServer = await createServer({
        host: '127.0.0.1',
        port: 0,
        rtpPortRange: [55000, 55999],
        rtcpIntervalMs: 250,
      });
      cleanup.push(() => server.close());
      server.addPublishPath('/pub');
      const url = `rtsp://127.0.0.1:${server.port}/pub`;
      const publisher = await startPublisher(server.port, url, transport);
      cleanup.push(() => publisher.close());
      const media = sendMedia(publisher.send);
      const direct = await startPlayer(server.port, url);
      cleanup.push(() => direct.client.close());
      // The relay starts pulling once the published path's timeline is settled: from then on its
      // upstream's audio keeps coming AUDIO_LAG_MS after the video it belongs with.
      await new Promise((r) => setTimeout(r, 1000));
      const relay = new RelaySource({ url, retry: { initialDelayMs: 100, maxDelayMs: 500 } });
      const relayed = server.addStream('/relayed', { tracks: [...(await relay.open())] });
      relay.start(relayed);
      cleanup.push(() => relay.stop());
      const viaRelay = await startPlayer(server.port, `rtsp://127.0.0.1:${server.port}/relayed`);
      cleanup.push(() => viaRelay.client.close());
      await media;
      // The relay's last units and both paths' last sender reports.
      await new Promise((r) => setTimeout(r, 600));
      for (const [name, player, fromMs] of [
        ['published path', direct, 1600],
        ['relay', viaRelay, 2200],
      ] as const) {
        const p = placement(player.frames, fromMs);
        const skew = p.audio - p.video;
        t.diagnostic(`${transport} ${name}: audio ${skew.toFixed(1)} ms from video`);
        assert.ok(Math.abs(skew) < 20, `${name}: audio placed ${skew.toFixed(1)} ms from its video`);
      }
    });
  }
});
