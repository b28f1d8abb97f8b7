// Publishing (ANNOUNCE / SETUP mode=record / RECORD): ffmpeg pushes to a publish path over TCP and
// UDP while ffprobe and ffmpeg play the same path; a second publisher is refused (409); the players
// of a publisher that leaves are parked (default) or ended; bad publishers get their status codes
// and their bad RTP is counted and dropped.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseRtcpCompound } from '../../src/rtp/rtcp.js';
import { createServer, type RtspServer } from '../../src/server/rtsp-server.js';
import { ffmpegDecode, ffprobeStreams, gstDecode } from '../helpers/clients.js';
import { RawRtspClient } from '../helpers/rtsp-client.js';
import { sampleParameterSets } from '../helpers/synthetic.js';
import { hasTool, requireTools, run } from '../helpers/tools.js';

const HAVE_FFMPEG = hasTool('ffmpeg') && hasTool('ffprobe');

async function startServer(): Promise<RtspServer> {
  return createServer({ host: '127.0.0.1', port: 0, rtpPortRange: [40000, 44999] });
}

/** ffmpeg publishing `input` args to `url`; stopped by the test (bounded by -t anyway). */
function publish(url: string, transport: 'tcp' | 'udp', input: string[], codec: string[]): ChildProcess {
  const child = spawn(
    'ffmpeg',
    ['-nostdin', '-v', 'error', '-re', ...input, ...codec, '-f', 'rtsp', '-rtsp_transport', transport, url],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr?.resume();
  return child;
}

const LIVE_INPUT = ['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '20'];
const LIVE_CODEC = ['-c:v', 'libx264', '-tune', 'zerolatency', '-g', '25', '-pix_fmt', 'yuv420p'];

/** Resolves once the path has a recording publisher, within `timeoutMs`. */
async function untilPublished(server: RtspServer, path: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (server.getStream(path)?.unavailableReason !== undefined) {
    if (Date.now() > deadline) throw new Error(`nobody published to ${path} in time`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

function h264Sdp(payloadType = 96): string {
  const { sps, pps } = sampleParameterSets();
  return [
    'v=0',
    'o=- 0 0 IN IP4 127.0.0.1',
    's=pub',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=video 0 RTP/AVP ${payloadType}`,
    `a=rtpmap:${payloadType} H264/90000`,
    `a=fmtp:${payloadType} packetization-mode=1;sprop-parameter-sets=${sps.toString('base64')},${pps.toString('base64')}`,
    'a=control:streamid=0',
    '',
  ].join('\r\n');
}

function interleaved(channel: number, data: Buffer): Buffer {
  const header = Buffer.from([0x24, channel, data.length >> 8, data.length & 0xff]);
  return Buffer.concat([header, data]);
}

function rtp(payloadType: number, seq: number, payload: Buffer, ssrc = 0x1234): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = 0x80 | payloadType;
  h.writeUInt16BE(seq, 2);
  h.writeUInt32BE(seq * 3600, 4);
  h.writeUInt32BE(ssrc, 8);
  return Buffer.concat([h, payload]);
}

describe('publish: requests and bad publishers', () => {
  let server: RtspServer;
  let base: string;
  before(async () => {
    server = await startServer();
    server.addPublishPath('/live');
    server.addStream('/fixed', { video: { codec: 'H264' } });
    base = `rtsp://127.0.0.1:${server.port}`;
  });
  after(() => server.close());

  it('OPTIONS offers ANNOUNCE and RECORD', async () => {
    const c = await RawRtspClient.connect(server.port);
    const r = await c.request('OPTIONS', `${base}/live`);
    assert.match(r.headers.get('public') ?? '', /ANNOUNCE.*RECORD/);
    c.close();
  });

  it('ANNOUNCE on a path that takes no publishers: 405 with the reason', async () => {
    const c = await RawRtspClient.connect(server.port);
    const r = await c.request('ANNOUNCE', `${base}/fixed`, { 'Content-Type': 'application/sdp' }, h264Sdp());
    assert.equal(r.status, 405);
    assert.match(r.body.toString(), /does not take publishers/);
    c.close();
  });

  it('malformed SDP: 400; no stream until a good one', async () => {
    const c = await RawRtspClient.connect(server.port);
    const r = await c.request(
      'ANNOUNCE',
      `${base}/live`,
      { 'Content-Type': 'application/sdp' },
      'v=0\r\nm=video\r\n',
    );
    assert.equal(r.status, 400);
    assert.match(r.body.toString(), /m= line|o= line/);
    const d = await c.request('DESCRIBE', `${base}/live`);
    assert.equal(d.status, 503);
    c.close();
  });

  it('an oversized SDP: 413; a format we cannot take: 415 naming it', async () => {
    const c = await RawRtspClient.connect(server.port);
    const big = `${h264Sdp()}${'a=x-pad:0123456789abcdef0123456789abcdef\r\n'.repeat(2000)}`;
    const r = await c.request('ANNOUNCE', `${base}/live`, { 'Content-Type': 'application/sdp' }, big);
    assert.equal(r.status, 413);
    c.close();
    const d = await RawRtspClient.connect(server.port);
    const vp8 = h264Sdp().replace('H264/90000', 'VP8/90000');
    const u = await d.request('ANNOUNCE', `${base}/live`, { 'Content-Type': 'application/sdp' }, vp8);
    assert.equal(u.status, 415);
    assert.match(u.body.toString(), /cannot publish video VP8/);
    d.close();
    await d.closed;
  });

  it('RECORD without SETUP: 455', async () => {
    const c = await RawRtspClient.connect(server.port);
    const a = await c.request('ANNOUNCE', `${base}/live`, { 'Content-Type': 'application/sdp' }, h264Sdp());
    assert.equal(a.status, 200);
    const r = await c.request('RECORD', `${base}/live`, { Range: 'npt=0.000-' });
    assert.equal(r.status, 455);
    c.close();
    await c.closed;
  });

  it('a second publisher is refused with 409; wrong payload type, wrong SSRC and garbage are counted and dropped', async () => {
    const a = await RawRtspClient.connect(server.port);
    assert.equal(
      (await a.request('ANNOUNCE', `${base}/live`, { 'Content-Type': 'application/sdp' }, h264Sdp())).status,
      200,
    );
    const s = await a.request('SETUP', `${base}/live/streamid=0`, {
      Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record',
    });
    assert.equal(s.status, 200, s.reason);
    const session = (s.headers.get('session') ?? '').split(';')[0];
    assert.equal((await a.request('RECORD', `${base}/live`, { Session: session })).status, 200);

    const b = await RawRtspClient.connect(server.port);
    const refused = await b.request(
      'ANNOUNCE',
      `${base}/live`,
      { 'Content-Type': 'application/sdp' },
      h264Sdp(),
    );
    assert.equal(refused.status, 409);
    assert.equal(refused.reason, 'Conflict');
    assert.match(refused.body.toString(), /someone is already publishing/);
    b.close();

    const before = server.publishStats('/live')!;
    const idr = Buffer.from([0x65, 0x88, 0x84, 0x00]);
    a.send(interleaved(0, rtp(96, 1, idr)));
    a.send(interleaved(0, rtp(100, 2, idr))); // wrong payload type
    a.send(interleaved(0, rtp(96, 3, idr, 0x9999))); // wrong SSRC
    a.send(interleaved(0, Buffer.from('not rtp at all'))); // garbage
    a.send(interleaved(0, rtp(96, 4, Buffer.from([0x00])))); // NAL type 0: malformed for the depacketizer
    a.send(interleaved(0, rtp(96, 5, idr)));
    await a.waitFor(() => server.publishStats('/live')!.packets - before.packets >= 3);
    const st = server.publishStats('/live')!;
    assert.equal(st.wrongPayloadType - before.wrongPayloadType, 1);
    assert.equal(st.wrongSsrc - before.wrongSsrc, 1);
    assert.ok(st.malformed - before.malformed >= 2, `malformed ${st.malformed}`);
    assert.ok(st.accessUnits - before.accessUnits >= 2);
    // The path still serves.
    const d = await a.request('OPTIONS', `${base}/live`);
    assert.equal(d.status, 200);
    a.close();
    await a.closed;
  });
});

describe('publish: ffmpeg publishes, ffprobe and ffmpeg play', {
  skip: !HAVE_FFMPEG && 'ffmpeg missing',
}, () => {
  let server: RtspServer;
  let dir: string;
  before(async () => {
    server = await startServer();
    dir = mkdtempSync(join(tmpdir(), 'smolrtsp-publish-'));
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const transport of ['tcp', 'udp'] as const) {
    it(`a live H.264 encode over ${transport}: ffprobe sees h264, ffmpeg decodes 2 s without errors`, async (t) => {
      if (!requireTools(t, 'ffmpeg', 'ffprobe')) return;
      const path = `/live-${transport}`;
      server.addPublishPath(path);
      const url = `rtsp://127.0.0.1:${server.port}${path}`;
      const publisher = publish(url, transport, LIVE_INPUT, LIVE_CODEC);
      try {
        await untilPublished(server, path);
        const probe = await ffprobeStreams(url);
        assert.deepEqual(probe.lines, ['h264,320,240'], probe.stderr);
        const played = await ffmpegDecode(url, 'tcp', 2);
        assert.equal(played.errors, '');
        assert.ok(played.frames >= 40, `decoded ${played.frames} frames`);
        if (hasTool('gst-launch-1.0')) {
          const gst = await gstDecode(url, transport, 3);
          assert.equal(gst.errors, '');
          // A live x264 publisher on a loaded 2-core machine may run below real time: the check is a clean decode.
          assert.ok(gst.frames >= 10, `GStreamer decoded ${gst.frames} frames`);
        }
        const st = server.publishStats(path)!;
        assert.equal(st.wrongPayloadType + st.wrongSsrc + st.malformed + st.oversized, 0, JSON.stringify(st));
      } finally {
        await stop(publisher);
      }
    });
  }

  it('an H.264 + AAC file published with -c copy: both tracks play without errors', async (t) => {
    if (!requireTools(t, 'ffmpeg', 'ffprobe')) return;
    const file = join(dir, 'av.mkv');
    const made = await run(
      'ffmpeg',
      [
        '-nostdin',
        '-v',
        'error',
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=320x240:rate=25',
        '-f',
        'lavfi',
        '-i',
        'sine=frequency=440:sample_rate=48000',
        '-t',
        '15',
        '-c:v',
        'libx264',
        '-g',
        '25',
        '-bf',
        '0',
        '-pix_fmt',
        'yuv420p',
        '-c:a',
        'aac',
        '-b:a',
        '64k',
        file,
      ],
      60_000,
    );
    assert.equal(made.code, 0, made.stderr);
    server.addPublishPath('/file');
    const url = `rtsp://127.0.0.1:${server.port}/file`;
    const publisher = publish(url, 'tcp', ['-i', file], ['-c', 'copy']);
    try {
      await untilPublished(server, '/file');
      const probe = await ffprobeStreams(url, { entries: 'codec_name' });
      assert.deepEqual(probe.lines, ['h264', 'aac'], probe.stderr);
      const played = await ffmpegDecode(url, 'tcp', 2, { audio: true });
      assert.equal(played.errors, '');
      assert.ok(played.framesByStream[0] >= 40, `video frames ${played.framesByStream[0]}`);
      assert.ok((played.framesByStream[1] ?? 0) >= 50, `audio frames ${played.framesByStream[1]}`);
    } finally {
      await stop(publisher);
    }
  });

  const FORMATS: Array<{ name: string; codec: string[]; expect: string; audio?: boolean }> = [
    {
      name: 'H.265',
      codec: ['-c:v', 'libx265', '-x265-params', 'log-level=error:keyint=25', '-pix_fmt', 'yuv420p'],
      expect: 'hevc',
    },
    {
      name: 'MJPEG',
      codec: ['-c:v', 'mjpeg', '-pix_fmt', 'yuvj420p', '-q:v', '5', '-huffman', 'default'],
      expect: 'mjpeg',
    },
    { name: 'Opus', codec: ['-vn', '-c:a', 'libopus', '-b:a', '64k'], expect: 'opus', audio: true },
    {
      name: 'G.711 µ-law',
      codec: ['-vn', '-c:a', 'pcm_mulaw', '-ar', '8000', '-ac', '1'],
      expect: 'pcm_mulaw',
      audio: true,
    },
  ];
  for (const f of FORMATS) {
    it(`${f.name} published live: ffprobe sees ${f.expect}, ffmpeg decodes without errors`, async (t) => {
      if (!requireTools(t, 'ffmpeg', 'ffprobe')) return;
      const path = `/fmt-${f.expect}`;
      server.addPublishPath(path);
      const url = `rtsp://127.0.0.1:${server.port}${path}`;
      const input = f.audio
        ? ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '20']
        : LIVE_INPUT;
      const publisher = publish(url, 'tcp', input, f.codec);
      try {
        await untilPublished(server, path);
        const probe = await ffprobeStreams(url, { entries: 'codec_name' });
        assert.deepEqual(probe.lines, [f.expect], probe.stderr);
        const played = await ffmpegDecode(url, 'tcp', 2, { audio: f.audio });
        assert.equal(played.errors, '');
        assert.ok(played.frames >= (f.audio ? 40 : 40), `decoded ${played.frames} frames`);
      } finally {
        await stop(publisher);
      }
    });
  }

  it('a second ffmpeg publisher is refused while the first publishes', async (t) => {
    if (!requireTools(t, 'ffmpeg')) return;
    server.addPublishPath('/busy');
    const url = `rtsp://127.0.0.1:${server.port}/busy`;
    const first = publish(url, 'tcp', LIVE_INPUT, LIVE_CODEC);
    try {
      await untilPublished(server, '/busy');
      const second = await run(
        'ffmpeg',
        ['-nostdin', '-v', 'error', ...LIVE_INPUT.slice(0, 4), '-t', '2', ...LIVE_CODEC, '-f', 'rtsp', url],
        30_000,
      );
      assert.notEqual(second.code, 0);
      assert.match(second.stderr, /409|Conflict/);
      assert.equal(server.getStream('/busy')?.unavailableReason, undefined);
    } finally {
      await stop(first);
    }
  });

  for (const publishEnd of ['wait', 'end'] as const) {
    it(`the publisher killed: players ${publishEnd === 'wait' ? 'are parked, then get the next publisher' : 'get BYE and end'} (publishEnd: '${publishEnd}')`, async (t) => {
      if (!requireTools(t, 'ffmpeg')) return;
      const path = `/gone-${publishEnd}`;
      server.addPublishPath(path, { publishEnd });
      const url = `rtsp://127.0.0.1:${server.port}${path}`;
      const publisher = publish(url, 'tcp', LIVE_INPUT, LIVE_CODEC);
      const player = await RawRtspClient.connect(server.port);
      try {
        await untilPublished(server, path);
        assert.equal((await player.request('DESCRIBE', url)).status, 200);
        const s = await player.request('SETUP', `${url}/trackID=0`, {
          Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
        });
        const session = (s.headers.get('session') ?? '').split(';')[0];
        assert.equal((await player.request('PLAY', url, { Session: session })).status, 200);
        await player.waitFor(() => player.frames.some((f) => f.channel === 0), 10_000);
        await stop(publisher);
        await untilGone(server, path);
        const byes = () =>
          player.frames.filter(
            (f) => f.channel === 1 && parseRtcpCompound(f.data).some((p) => p.type === 'bye'),
          ).length;
        if (publishEnd === 'wait') {
          assert.ok(
            server.sessions().some((x) => x.id === session),
            'player session kept',
          );
          assert.equal(byes(), 0);
          assert.equal((await player.request('DESCRIBE', url)).status, 503);
          // The next publisher (same format) reaches the parked player on its session.
          const before = player.frames.filter((f) => f.channel === 0).length;
          const next = publish(url, 'tcp', LIVE_INPUT, LIVE_CODEC);
          try {
            await untilPublished(server, path);
            await player.waitFor(
              () => player.frames.filter((f) => f.channel === 0).length > before + 50,
              10_000,
            );
          } finally {
            await stop(next);
          }
        } else {
          await player.waitFor(() => byes() > 0, 5000);
          assert.ok(!server.sessions().some((x) => x.id === session), 'player session ended');
        }
      } finally {
        player.close();
        await stop(publisher);
      }
    });
  }
});

describe('publish: takeover', () => {
  it('a path with takeover: true lets a second publisher in and ends the first (replaced)', async () => {
    const server = await createServer({ host: '127.0.0.1', port: 0 });
    try {
      server.addPublishPath('/live', { takeover: true });
      const base = `rtsp://127.0.0.1:${server.port}`;
      const ends: string[] = [];
      server.on('sessionEnd', (_info, reason) => ends.push(reason));
      const recordOn = async (c: RawRtspClient) => {
        const a = await c.request(
          'ANNOUNCE',
          `${base}/live`,
          { 'Content-Type': 'application/sdp' },
          h264Sdp(),
        );
        assert.equal(a.status, 200);
        const s = await c.request('SETUP', `${base}/live/streamid=0`, {
          Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record',
        });
        assert.equal(s.status, 200);
        const session = (s.headers.get('session') ?? '').split(';')[0];
        assert.equal((await c.request('RECORD', `${base}/live`, { Session: session })).status, 200);
        return session;
      };
      const first = await RawRtspClient.connect(server.port);
      const firstSession = await recordOn(first);
      const second = await RawRtspClient.connect(server.port);
      await recordOn(second);
      assert.deepEqual(ends, ['replaced']);
      assert.equal(server.getStream('/live')?.unavailableReason, undefined);
      assert.equal((await first.request('RECORD', `${base}/live`, { Session: firstSession })).status, 454);
      first.close();
      second.close();
    } finally {
      await server.close();
    }
  });
});

describe('publish: a publisher that stops sending', () => {
  it('over an open TCP connection is reclaimed by the session timeout, and the path frees', {
    timeout: 15_000,
  }, async () => {
    const server = await createServer({ host: '127.0.0.1', port: 0, sessionTimeoutSec: 1 });
    try {
      server.addPublishPath('/live', { publishEnd: 'end' });
      const base = `rtsp://127.0.0.1:${server.port}`;
      const a = await RawRtspClient.connect(server.port);
      assert.equal(
        (await a.request('ANNOUNCE', `${base}/live`, { 'Content-Type': 'application/sdp' }, h264Sdp()))
          .status,
        200,
      );
      const s = await a.request('SETUP', `${base}/live/streamid=0`, {
        Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record',
      });
      const session = (s.headers.get('session') ?? '').split(';')[0];
      assert.equal((await a.request('RECORD', `${base}/live`, { Session: session })).status, 200);
      assert.equal(server.getStream('/live')?.unavailableReason, undefined);
      const ended = new Promise<string>((resolve) =>
        server.on('sessionEnd', (_info, reason) => resolve(reason)),
      );
      assert.equal(await ended, 'timeout');
      assert.equal(server.getStream('/live')?.unavailableReason, 'no one is publishing');
      // Another publisher may take the path now.
      const b = await RawRtspClient.connect(server.port);
      assert.equal(
        (await b.request('ANNOUNCE', `${base}/live`, { 'Content-Type': 'application/sdp' }, h264Sdp()))
          .status,
        200,
      );
      a.close();
      b.close();
    } finally {
      await server.close();
    }
  });
});

describe('publish: with users, publishing needs one', { skip: !HAVE_FFMPEG && 'ffmpeg missing' }, () => {
  it('ffmpeg without credentials is refused (401); with them it publishes', async (t) => {
    if (!requireTools(t, 'ffmpeg', 'ffprobe')) return;
    const server = await createServer({
      host: '127.0.0.1',
      port: 0,
      rtpPortRange: [45000, 45999],
      auth: { users: [{ name: 'pub', password: 'secret' }] },
    });
    try {
      server.addPublishPath('/live');
      const url = `rtsp://127.0.0.1:${server.port}/live`;
      const anonymous = await run(
        'ffmpeg',
        ['-nostdin', '-v', 'error', ...LIVE_INPUT.slice(0, 4), '-t', '1', ...LIVE_CODEC, '-f', 'rtsp', url],
        30_000,
      );
      assert.notEqual(anonymous.code, 0);
      assert.match(anonymous.stderr, /401|Unauthorized/);
      const authed = `rtsp://pub:secret@127.0.0.1:${server.port}/live`;
      const publisher = publish(authed, 'tcp', LIVE_INPUT, LIVE_CODEC);
      try {
        await untilPublished(server, '/live');
        const probe = await ffprobeStreams(authed);
        assert.deepEqual(probe.lines, ['h264,320,240'], probe.stderr);
      } finally {
        await stop(publisher);
      }
    } finally {
      await server.close();
    }
  });
});

/** Resolves once the path has no publisher any more. */
async function untilGone(server: RtspServer, path: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (server.getStream(path)?.unavailableReason === undefined) {
    if (Date.now() > deadline) throw new Error(`${path} still published`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
