// A chain as users type it: ffmpeg publishes an H.264 + AAC file to `smolrtsp serve --publish /live`
// (the origin), `smolrtsp serve --relay rtsp://origin/live` (the edge) pulls it, and ffmpeg players on
// the edge (TCP and UDP) copy the video out. Every picture they got is the publisher's, byte for byte,
// in order from a keyframe (they join mid-stream: a contiguous run, nothing missing, repeated or
// altered), with the same SPS and PPS; ffmpeg and ffprobe decode the edge without errors; the origin
// sees exactly one player, the edge, however many play on the edge.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AnnexBReader, isVclNal, NalType, nalType } from '../../src/codecs/h264/annexb.js';
import { type RunningCli, startCli } from '../helpers/cli.js';
import { ffmpegDecode, ffprobeStreams } from '../helpers/clients.js';
import { requireTools, run } from '../helpers/tools.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/sample-640x480-25fps.264', import.meta.url));

/** What a stretch of Annex B H.264 holds: its pictures (the slices of each access unit) and parameter sets. */
interface H264Content {
  /** One entry per access unit with slices: its VCL NAL units, each prefixed by its length. */
  pictures: Buffer[];
  /** Whether each picture is an IDR. */
  idr: boolean[];
  /** The distinct SPS and PPS NAL units, as hex. */
  sps: Set<string>;
  pps: Set<string>;
}

function h264Content(annexB: Buffer): H264Content {
  const reader = new AnnexBReader();
  const out: H264Content = { pictures: [], idr: [], sps: new Set(), pps: new Set() };
  for (const au of [...reader.push(annexB), ...reader.flush()]) {
    const slices: Buffer[] = [];
    for (const nal of au) {
      const type = nalType(nal);
      if (type === NalType.SPS) out.sps.add(nal.toString('hex'));
      else if (type === NalType.PPS) out.pps.add(nal.toString('hex'));
      else if (isVclNal(type)) {
        const length = Buffer.alloc(4);
        length.writeUInt32BE(nal.length);
        slices.push(length, nal);
      }
    }
    if (slices.length === 0) continue;
    out.pictures.push(Buffer.concat(slices));
    out.idr.push(au.some((n) => nalType(n) === NalType.IDR));
  }
  return out;
}

/**
 * Where `got` sits in `sent` played in a loop: the index in `sent` of its first picture such that
 * every picture of `got` equals the next one of `sent` — or, when none fits, why (the longest run).
 */
function findRun(sent: Buffer[], got: Buffer[]): { start: number } | { longest: number; at: number } {
  let longest = 0;
  let at = -1;
  for (let k = 0; k < sent.length; k++) {
    let i = 0;
    while (i < got.length && got[i].equals(sent[(k + i) % sent.length])) i++;
    if (i === got.length) return { start: k };
    if (i > longest) {
      longest = i;
      at = k;
    }
  }
  return { longest, at };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

async function stopCli(cli: RunningCli | undefined): Promise<void> {
  if (!cli) return;
  cli.child.kill('SIGTERM');
  await cli.exited;
}

describe('chain: publisher → origin → edge → players', { timeout: 180_000 }, () => {
  it('the players on the edge get the publisher’s pictures unchanged; the origin sees one session', async (t) => {
    if (!requireTools(t, 'ffmpeg', 'ffprobe')) return;
    const dir = mkdtempSync(join(tmpdir(), 'smolrtsp-chain-'));
    let origin: RunningCli | undefined;
    let edge: RunningCli | undefined;
    let publisher: ChildProcess | undefined;
    try {
      // The publisher's file: the fixture's H.264 as it is, with an AAC tone. MP4, because ffmpeg
      // can loop it (-stream_loop cannot seek a raw .264) and the run outlasts its 8 s.
      const input = join(dir, 'sample.mp4');
      const made = await run(
        'ffmpeg',
        [
          '-nostdin',
          '-v',
          'error',
          '-i',
          FIXTURE,
          '-f',
          'lavfi',
          '-i',
          'sine=f=440:r=48000',
          '-map',
          '0:v',
          '-map',
          '1:a',
          '-c:v',
          'copy',
          '-c:a',
          'aac',
          '-shortest',
          input,
        ],
        30_000,
      );
      assert.equal(made.code, 0, made.stderr);
      const sent = h264Content(readFileSync(FIXTURE));
      assert.equal(sent.pictures.length, 200);
      assert.equal(
        new Set(sent.pictures.map((p) => p.toString('base64'))).size,
        sent.pictures.length,
        'the fixture’s pictures are all different, so a repeated or skipped one shows',
      );

      origin = await startCli(['--publish', '/live']);
      const originUrl = `rtsp://127.0.0.1:${origin.port}/live`;
      publisher = spawn(
        'ffmpeg',
        [
          '-nostdin',
          '-v',
          'error',
          '-re',
          '-stream_loop',
          '-1',
          '-i',
          input,
          '-t',
          '90',
          '-c',
          'copy',
          '-f',
          'rtsp',
          '-rtsp_transport',
          'tcp',
          originUrl,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let publisherErrors = '';
      publisher.stderr?.on('data', (d: Buffer) => {
        publisherErrors += d.toString();
      });

      edge = await startCli(['--relay', originUrl, '--path', '/live']);
      const edgeUrl = `rtsp://127.0.0.1:${edge.port}/live`;
      await edge.waitForLine((l) => l.path === '/live' && /^upstream playing/.test(l.msg), 30_000);

      for (const transport of ['tcp', 'udp']) {
        const player = await run(
          'ffmpeg',
          [
            '-nostdin',
            '-v',
            'error',
            '-rtsp_transport',
            transport,
            '-i',
            edgeUrl,
            '-t',
            '4',
            '-an',
            '-c',
            'copy',
            '-f',
            'h264',
            '-',
          ],
          30_000,
        );
        assert.equal(player.code, 0, `${transport} player: ${player.stderr}`);
        const got = h264Content(player.stdout);
        assert.ok(got.pictures.length >= 50, `${transport}: ${got.pictures.length} pictures in 4 s`);
        assert.ok(got.idr[0], `${transport}: the first picture is a keyframe`);
        const found = findRun(sent.pictures, got.pictures);
        assert.ok(
          'start' in found,
          `${transport}: the player's pictures are not a run of the publisher's: ` +
            ('longest' in found
              ? `at most ${found.longest} of ${got.pictures.length} match (from ${found.at})`
              : ''),
        );
        assert.ok(sent.idr[found.start], `${transport}: the run starts at one of the publisher's keyframes`);
        assert.deepEqual(got.sps, sent.sps, `${transport}: SPS`);
        assert.deepEqual(got.pps, sent.pps, `${transport}: PPS`);
        t.diagnostic(
          `${transport} player: ${got.pictures.length} pictures, ${got.idr.filter(Boolean).length} keyframes, ` +
            `equal to the publisher's from its picture ${found.start}`,
        );
      }

      const decoded = await ffmpegDecode(edgeUrl, 'tcp', 3, { audio: true });
      assert.equal(decoded.errors, '', decoded.errors);
      assert.ok(decoded.frames >= 40, `ffmpeg decoded ${decoded.frames} pictures`);
      assert.ok((decoded.framesByStream[1] ?? 0) > 0, 'and the audio');
      const probe = await ffprobeStreams(edgeUrl, { entries: 'codec_name,width,height' });
      assert.equal(probe.stderr, '');
      assert.deepEqual(probe.lines.sort(), ['aac', 'h264,640,480'], probe.stderr);

      // The origin: one session playing (the edge's), one recording (the publisher's); the edge
      // played to each of the players above.
      const playing = (cli: RunningCli) => cli.logLines().filter((l) => l.msg === 'playing').length;
      assert.equal(playing(origin), 1, 'the origin played to the edge only, once');
      const originSessions = origin
        .logLines()
        .filter((l) => l.msg === 'session created' && l.path === '/live');
      assert.equal(originSessions.length, 2, 'the publisher’s session and the edge’s');
      assert.ok(playing(edge) >= 4, `the edge played to ${playing(edge)} players`);
      assert.equal(publisherErrors, '', 'the publisher did not fail');
    } finally {
      if (publisher) await stop(publisher);
      await stopCli(edge);
      await stopCli(origin);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
