// One Source shape for every built-in source: create from a spec, open (the codecs), build the stream
// with them, start, media flows into every track, stop. A source whose tracks come later (ffmpeg
// serving before it is up) fits the same slot: open gives none, start fills the stream.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Stream } from '../../src/media/stream.js';
import { createSource, type SourceSpec } from '../../src/sources/create-source.js';
import type { Source } from '../../src/sources/source.js';
import { hasTool, requireTools, run } from '../helpers/tools.js';

const SAMPLE = fileURLToPath(new URL('../../fixtures/sample-640x480-25fps.264', import.meta.url));

async function until(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) assert.fail(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The CLI's way, for any source: open, add the stream with its codecs, start; media reaches every track. */
async function serveAndCheck(spec: SourceSpec, kinds: string[], timeoutMs = 10_000): Promise<Source> {
  const source = createSource(spec);
  const errors: Error[] = [];
  source.on('error', (err) => errors.push(err));
  const codecs = await source.open();
  const stream = new Stream('/x', { tracks: [...codecs] });
  try {
    source.start(stream);
    await until('a track for each kind', () => stream.tracks.length === kinds.length, timeoutMs);
    assert.deepEqual(
      stream.tracks.map((t) => t.kind),
      kinds,
    );
    await until('media in every track', () => stream.tracks.every((t) => t.stats.accessUnits > 2), timeoutMs);
    assert.equal(stream.unavailableReason, undefined);
    assert.deepEqual(errors, []);
    assert.ok(source.description.length > 0);
  } finally {
    source.stop();
  }
  // Stopped means stopped: nothing more arrives.
  const counts = stream.tracks.map((t) => t.stats.accessUnits);
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(
    stream.tracks.map((t) => t.stats.accessUnits),
    counts,
  );
  return source;
}

describe('Source: one shape for every source', { concurrency: 1 }, () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'smolrtsp-source-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the test pattern, with its tone', async () => {
    const source = await serveAndCheck(
      { source: 'pattern', width: 320, height: 240, fps: 25, audio: true, label: '/x' },
      ['video', 'audio'],
    );
    assert.equal(source.kind, 'pattern');
    assert.equal(source.description, 'test pattern 320x240@25 with a tone');
  });

  it('an Annex-B file', async () => {
    const source = await serveAndCheck({ source: 'file', file: SAMPLE }, ['video']);
    assert.equal(source.description, `file ${SAMPLE}`);
  });

  it('refuses at open what cannot be played, and a missing file at once', async () => {
    assert.throws(() => createSource({ source: 'file', file: join(dir, 'none.264') }), /no such file/);
    const junk = join(dir, 'junk.264');
    writeFileSync(junk, Buffer.alloc(1000, 7));
    await assert.rejects(createSource({ source: 'file', file: junk }).open(), /holds no H264 access unit/);
  });

  it('an MP4 file (H.264 and AAC)', async (t: TestContext) => {
    if (!requireTools(t, 'ffmpeg')) return;
    const file = join(dir, 'clip.mp4');
    const made = await run(
      'ffmpeg',
      [
        ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25'],
        ...['-f', 'lavfi', '-i', 'sine=f=440:r=48000', '-t', '1'],
        ...['-c:v', 'libx264', '-g', '25', '-c:a', 'aac', '-shortest', file],
      ],
      30_000,
    );
    assert.equal(made.code, 0, made.stderr);
    const source = await serveAndCheck({ source: 'file', file }, ['video', 'audio']);
    assert.equal(source.description, `file ${file} (avc, aac)`);
  });

  it('ffmpeg, whose tracks come later: open gives none, start fills the empty stream', async (t) => {
    if (!requireTools(t, 'ffmpeg') || !hasTool('ffmpeg')) return;
    const args = '-re -f lavfi -i testsrc2=size=160x120:rate=25 -f lavfi -i sine=f=440:r=48000';
    const source = createSource({ source: 'ffmpeg', ffmpeg: args, gop: 1 });
    assert.equal(source.kind, 'ffmpeg');
    assert.deepEqual(await source.open(), []);
    const infos: string[] = [];
    source.on('info', (m) => infos.push(m));
    const delivered = new Promise<number>((resolve) => source.once('tracks', (c) => resolve(c.length)));
    const stream = new Stream('/x', {});
    source.start(stream);
    // Unavailable (503) from the start until ffmpeg delivers.
    assert.equal(stream.unavailableReason, 'ffmpeg is starting');
    try {
      assert.equal(await delivered, 2);
      await until(
        'media in every track',
        () => stream.tracks.every((tr) => tr.stats.accessUnits > 2),
        15_000,
      );
      assert.equal(stream.unavailableReason, undefined);
      assert.match(infos.join('\n'), /ffmpeg track 0 video .* → h264 \(encoded\)/);
    } finally {
      source.stop();
    }
  });
});
