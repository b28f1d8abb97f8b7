/**
 * Replays the committed fuzz corpus (fuzz/corpus/<target>/*) through every target's invariant:
 * only RtspError subclasses may be thrown, plus each target's differential and round-trip checks
 * (the parser target also re-parses every input pushed one byte at a time). A past finding, once
 * fixed and copied into the corpus, stays fixed. Open findings (fuzz/findings/<target>/*) are run
 * as TODO tests: reported, never failing the suite.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InvariantViolation, readCorpus, typed } from '../../fuzz/engine.js';
import { TARGETS } from '../../fuzz/targets/index.js';
import { RtspHeaderError } from '../../src/protocol/errors.js';
import { RtspParser } from '../../src/protocol/parser.js';

const FUZZ_DIR = fileURLToPath(new URL('../../fuzz/', import.meta.url));

describe('fuzz harness', () => {
  it('lets RtspError through and rethrows anything else', () => {
    assert.equal(
      typed(() => {
        throw new RtspHeaderError('CSeq', 'bad');
      }),
      undefined,
    );
    assert.equal(
      typed(() => 7),
      7,
    );
    assert.throws(
      () =>
        typed(() => {
          throw new TypeError('boom');
        }),
      TypeError,
    );
  });

  it('flags a non-RtspError thrown by the parser, and a chunking difference', () => {
    // Guards against a harness that cannot fail: break RtspParser on purpose, then restore it.
    const target = TARGETS['rtsp-parser'];
    const input = Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\nOPTIONS * RTSP/1.0\r\nCSeq: 2\r\n\r\n');
    const original = RtspParser.prototype.push;
    try {
      RtspParser.prototype.push = () => {
        throw new TypeError('injected');
      };
      assert.throws(() => target.run(input), /injected/);
      // Loses what a partial chunk completes: only the chunked parses differ from the whole one.
      RtspParser.prototype.push = function (this: RtspParser, chunk: Buffer) {
        const out = original.call(this, chunk);
        return chunk.length === input.length ? out : [];
      };
      assert.throws(() => target.runThorough?.(input), InvariantViolation);
    } finally {
      RtspParser.prototype.push = original;
    }
    assert.doesNotThrow(() => target.runThorough?.(input));
  });
});

for (const [name, target] of Object.entries(TARGETS)) {
  describe(`fuzz corpus: ${name}`, () => {
    const files = readCorpus(join(FUZZ_DIR, 'corpus', name));

    it('has a committed corpus', () => {
      assert.ok(files.length >= 3, `fuzz/corpus/${name} holds ${files.length} files`);
    });

    it(`replays ${files.length} inputs through the invariant`, () => {
      const failures: string[] = [];
      for (const file of files) {
        try {
          (target.runThorough ?? target.run)(file.data);
        } catch (err) {
          failures.push(`${file.name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        }
      }
      assert.deepEqual(failures, []);
    });

    const findingsDir = join(FUZZ_DIR, 'findings', name);
    const findings = existsSync(findingsDir)
      ? readdirSync(findingsDir).filter((n) => /^[0-9a-f]{40}$/.test(n))
      : [];
    for (const finding of findings) {
      it(`open finding ${finding}`, { todo: 'not fixed yet: move it to fuzz/corpus/ once it passes' }, () => {
        (target.runThorough ?? target.run)(readFileSync(join(findingsDir, finding)));
      });
    }
  });
}
