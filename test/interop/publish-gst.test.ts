// Publishing from GStreamer: rtspclientsink (ANNOUNCE / SETUP mode=record / RECORD, as GStreamer 1.22
// sends them) pushes a live x264 encode over TCP and UDP while ffprobe and ffmpeg play the same path;
// then the publisher is killed and the path's players are parked ('wait') or ended ('end').
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { parseRtcpCompound } from '../../src/rtp/rtcp.js';
import { createServer, type RtspServer } from '../../src/server/rtsp-server.js';
import { ffmpegDecode, ffprobeStreams } from '../helpers/clients.js';
import { RawRtspClient } from '../helpers/rtsp-client.js';
import { requireGstElements, requireTools } from '../helpers/tools.js';

/** gst-launch-1.0 publishing a live 320x240 H.264 test pattern to `url`; killed by the test. */
function gstPublish(url: string, transport: 'tcp' | 'udp'): { child: ChildProcess; output: () => string } {
  const child = spawn(
    'gst-launch-1.0',
    [
      '-q',
      'videotestsrc',
      'is-live=true',
      'pattern=ball',
      '!',
      'video/x-raw,width=320,height=240,framerate=25/1',
      '!',
      'x264enc',
      'tune=zerolatency',
      'key-int-max=25',
      'speed-preset=ultrafast',
      '!',
      'video/x-h264,profile=baseline',
      '!',
      'rtspclientsink',
      `location=${url}`,
      `protocols=${transport}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (d: Buffer) => {
    if (output.length < 16_000) output += d.toString();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => output };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Resolves once `done()` is true, within `timeoutMs`; rejects naming `what` otherwise. */
async function until(what: string, done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what}: not in time`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('publish: GStreamer rtspclientsink publishes, ffprobe and ffmpeg play', () => {
  const CASES = [
    { transport: 'tcp', publishEnd: 'wait' },
    { transport: 'udp', publishEnd: 'end' },
  ] as const;
  for (const { transport, publishEnd } of CASES) {
    it(`x264 over ${transport}: ffprobe sees h264 320x240, ffmpeg decodes 2 s; killed, players ${publishEnd === 'wait' ? 'are parked' : 'end'}`, {
      timeout: 30_000,
    }, async (t) => {
      if (!requireTools(t, 'gst-launch-1.0', 'gst-inspect-1.0', 'ffprobe', 'ffmpeg')) return;
      if (!requireGstElements(t, 'rtspclientsink', 'x264enc')) return;
      const server: RtspServer = await createServer({
        host: '127.0.0.1',
        port: 0,
        rtpPortRange: [46000, 46999],
      });
      const refusals: string[] = [];
      server.on('refused', (r) => refusals.push(`${r.method ?? '-'} ${r.status ?? ''} ${r.reason}`));
      const path = '/live';
      server.addPublishPath(path, { publishEnd });
      const url = `rtsp://127.0.0.1:${server.port}${path}`;
      const publisher = gstPublish(url, transport);
      let player: RawRtspClient | undefined;
      try {
        const published = () => server.getStream(path)?.unavailableReason === undefined;
        await until('rtspclientsink recording', published).catch((e: Error) => {
          throw new Error(`${e.message}; refusals: ${refusals.join('; ')}; gst: ${publisher.output()}`);
        });
        const probe = await ffprobeStreams(url);
        assert.deepEqual(probe.lines, ['h264,320,240'], probe.stderr);
        const played = await ffmpegDecode(url, 'tcp', 2);
        assert.equal(played.errors, '');
        assert.ok(played.frames >= 40, `decoded ${played.frames} frames`);
        const st = server.publishStats(path)!;
        assert.ok(st.accessUnits >= 25, JSON.stringify(st));
        assert.equal(st.wrongPayloadType + st.wrongSsrc + st.malformed + st.oversized, 0, JSON.stringify(st));

        // A player on the path while the publisher dies.
        player = await RawRtspClient.connect(server.port);
        assert.equal((await player.request('DESCRIBE', url)).status, 200);
        const s = await player.request('SETUP', `${url}/trackID=0`, {
          Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1',
        });
        const session = (s.headers.get('session') ?? '').split(';')[0];
        assert.equal((await player.request('PLAY', url, { Session: session })).status, 200);
        const c = player;
        await c.waitFor(() => c.frames.some((f) => f.channel === 0), 10_000);

        await stop(publisher.child);
        await until('the path freed', () => !published());
        assert.equal((await player.request('DESCRIBE', url)).status, 503);
        const byes = () =>
          c.frames.filter((f) => f.channel === 1 && parseRtcpCompound(f.data).some((p) => p.type === 'bye'))
            .length;
        if (publishEnd === 'wait') {
          assert.ok(
            server.sessions().some((x) => x.id === session),
            'player session kept',
          );
          assert.equal(byes(), 0);
        } else {
          await c.waitFor(() => byes() > 0, 5000);
          assert.ok(!server.sessions().some((x) => x.id === session), 'player session ended');
        }
        assert.deepEqual(
          refusals.filter((r) => !r.startsWith('DESCRIBE 503')),
          [],
          'rtspclientsink got no refusal',
        );
      } finally {
        player?.close();
        await stop(publisher.child);
        await server.close();
      }
    });
  }
});
