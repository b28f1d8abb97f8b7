import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatOptionTags, parseOptionTags } from '../../../src/protocol/headers/require.js';

describe('parseOptionTags', () => {
  const cases: Array<[string, string[]]> = [
    ['funky-feature', ['funky-feature']], // RFC 2326 section 12.32 example
    ['play.basic', ['play.basic']],
    ['com.example.a, com.example.b', ['com.example.a', 'com.example.b']],
    ['  a ,, b ,', ['a', 'b']],
    ['', []],
    [' , ', []],
  ];
  for (const [input, expected] of cases) {
    it(`parses ${JSON.stringify(input)}`, () => {
      assert.deepEqual(parseOptionTags(input), expected);
    });
  }

  it('names the header it was given in errors', () => {
    assert.throws(() => parseOptionTags('a b'), {
      name: 'RtspHeaderError',
      message: "Require: invalid option tag 'a b'",
    });
    assert.throws(() => parseOptionTags('x;y', 'Proxy-Require'), {
      name: 'RtspHeaderError',
      message: "Proxy-Require: invalid option tag 'x;y'",
    });
  });
});

describe('formatOptionTags', () => {
  it('joins with comma and space', () => {
    assert.equal(formatOptionTags(['funky-feature', 'play.basic']), 'funky-feature, play.basic');
    assert.equal(formatOptionTags(['x']), 'x');
  });

  it('rejects tags that are not tokens', () => {
    assert.throws(() => formatOptionTags(['a,b']), {
      name: 'RtspHeaderError',
      message: "Unsupported: invalid option tag 'a,b'",
    });
    assert.throws(() => formatOptionTags(['']), { name: 'RtspHeaderError' });
  });

  it('round-trips', () => {
    const tags = ['funky-feature', 'play.basic', 'com.example.x'];
    assert.deepEqual(parseOptionTags(formatOptionTags(tags)), tags);
  });
});
