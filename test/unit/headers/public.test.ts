import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatPublic, parsePublic } from '../../../src/protocol/headers/public.js';

describe('formatPublic', () => {
  const cases: Array<[string[], string]> = [
    [
      ['OPTIONS', 'DESCRIBE', 'SETUP', 'PLAY', 'PAUSE', 'TEARDOWN', 'GET_PARAMETER'],
      'OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER',
    ],
    [['OPTIONS'], 'OPTIONS'],
    [[], ''],
  ];
  for (const [input, expected] of cases) {
    it(`writes ${JSON.stringify(expected)}`, () => {
      assert.equal(formatPublic(input), expected);
    });
  }

  it('rejects a method that is not a token', () => {
    assert.throws(() => formatPublic(['PLAY', 'SET UP']), {
      name: 'RtspHeaderError',
      message: "Public: invalid method 'SET UP'",
    });
    assert.throws(() => formatPublic(['PLAY,PAUSE']), { name: 'RtspHeaderError' });
  });
});

describe('parsePublic', () => {
  const cases: Array<[string, string[]]> = [
    // RFC 2326 section 10.1 example
    ['DESCRIBE, SETUP, TEARDOWN, PLAY, PAUSE', ['DESCRIBE', 'SETUP', 'TEARDOWN', 'PLAY', 'PAUSE']],
    ['OPTIONS,DESCRIBE,SETUP', ['OPTIONS', 'DESCRIBE', 'SETUP']],
    [' OPTIONS ,, PLAY , ', ['OPTIONS', 'PLAY']],
    ['', []],
    ['Set_Parameter', ['Set_Parameter']],
  ];
  for (const [input, expected] of cases) {
    it(`parses ${JSON.stringify(input)}`, () => {
      assert.deepEqual(parsePublic(input), expected);
    });
  }

  it('rejects garbage', () => {
    assert.throws(() => parsePublic('PLAY PAUSE'), { name: 'RtspHeaderError', status: 400 });
    assert.throws(() => parsePublic('PLAY;x'), { name: 'RtspHeaderError', status: 400 });
  });
});
