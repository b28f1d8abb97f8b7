// Codec errors are the codecs' own: not RtspErrors (no RTSP status), and nothing in src/codecs
// reaches up into the protocol layer for them. The server maps them where they reach a request.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MediaFormatError, PictureOrderError } from '../../../src/codecs/errors.js';
import { RtspError } from '../../../src/protocol/errors.js';

const CODECS_DIR = fileURLToPath(new URL('../../../src/codecs/', import.meta.url));

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('codec errors', () => {
  it('are not RtspErrors and keep their code', () => {
    const err = new MediaFormatError('truncated SPS');
    assert.equal(err instanceof RtspError, false);
    assert.equal(err.code, 'ERR_MEDIA_FORMAT');
    assert.equal(err.name, 'MediaFormatError');
    const order = new PictureOrderError('uses H.264 POC type 1');
    assert.ok(order instanceof MediaFormatError);
    assert.equal(order.name, 'PictureOrderError');
    assert.equal(order.what, 'uses H.264 POC type 1');
  });

  it('nothing in src/codecs imports src/protocol', () => {
    const offenders = tsFiles(CODECS_DIR).filter((f) =>
      /from '(\.\.\/)+protocol\//.test(readFileSync(f, 'utf8')),
    );
    assert.deepEqual(offenders, []);
  });
});
