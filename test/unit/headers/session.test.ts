import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  formatSessionHeader,
  isValidSessionId,
  parseSessionHeader,
  type SessionHeader,
} from '../../../src/protocol/headers/session.js';

describe('parseSessionHeader', () => {
  const valid: Array<[string, SessionHeader]> = [
    ['12345678', { id: '12345678' }], // RFC 2326 section 10.4 example
    ['47112344', { id: '47112344' }],
    ['abc123;timeout=60', { id: 'abc123', timeout: 60 }],
    ['  abc123 ;  timeout = 60 ', { id: 'abc123', timeout: 60 }],
    ['abc123;TIMEOUT=30', { id: 'abc123', timeout: 30 }],
    ['a$-_.+Z9', { id: 'a$-_.+Z9' }],
    ['abc123;', { id: 'abc123' }],
    ['abc123;foo=bar;timeout=5', { id: 'abc123', timeout: 5 }],
    ['5d5cb94413288ccd', { id: '5d5cb94413288ccd' }], // GStreamer-style id
    ['x'.repeat(128), { id: 'x'.repeat(128) }],
  ];
  for (const [input, expected] of valid) {
    it(`parses ${JSON.stringify(input.slice(0, 40))}`, () => {
      assert.deepEqual(parseSessionHeader(input), expected);
    });
  }

  const invalid = [
    '',
    ';timeout=60',
    'abc def',
    'abc"',
    'abc/def',
    'x'.repeat(129),
    'abc;timeout',
    'abc;timeout=',
    'abc;timeout=-1',
    'abc;timeout=1.5',
    'abc;timeout=sixty',
    'abc;timeout=1;timeout=2',
  ];
  for (const input of invalid) {
    it(`rejects ${JSON.stringify(input.slice(0, 40))}`, () => {
      assert.throws(() => parseSessionHeader(input), { name: 'RtspHeaderError', status: 400 });
    });
  }
});

describe('formatSessionHeader', () => {
  const cases: Array<[SessionHeader, string]> = [
    [{ id: 'abc123' }, 'abc123'],
    [{ id: 'abc123', timeout: 60 }, 'abc123;timeout=60'],
    [{ id: 'abc123', timeout: 0 }, 'abc123;timeout=0'],
  ];
  for (const [input, expected] of cases) {
    it(`writes ${expected}`, () => {
      assert.equal(formatSessionHeader(input), expected);
    });
  }

  it('rejects an invalid id or timeout', () => {
    assert.throws(() => formatSessionHeader({ id: 'a b' }), { name: 'RtspHeaderError' });
    assert.throws(() => formatSessionHeader({ id: '' }), { name: 'RtspHeaderError' });
    assert.throws(() => formatSessionHeader({ id: 'abc', timeout: 1.5 }), { name: 'RtspHeaderError' });
    assert.throws(() => formatSessionHeader({ id: 'abc', timeout: -1 }), { name: 'RtspHeaderError' });
  });

  it('round-trips any valid session', () => {
    const idChars = fc.constantFrom(...'abcXYZ0189$-_.+'.split(''));
    fc.assert(
      fc.property(
        fc.string({ unit: idChars, minLength: 1, maxLength: 128 }),
        fc.option(fc.integer({ min: 0, max: 0x7fffffff }), { nil: undefined }),
        (id, timeout) => {
          const session: SessionHeader = timeout === undefined ? { id } : { id, timeout };
          assert.ok(isValidSessionId(id));
          assert.deepEqual(parseSessionHeader(formatSessionHeader(session)), session);
        },
      ),
    );
  });
});
