import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_CSEQ, parseCSeq } from '../../../src/protocol/headers/cseq.js';

describe('parseCSeq', () => {
  const valid: Array<[string, number]> = [
    ['0', 0],
    ['1', 1],
    ['302', 302], // RFC 2326 section 10.1 example
    [' 42 ', 42],
    ['2147483647', MAX_CSEQ],
    ['007', 7],
  ];
  for (const [input, expected] of valid) {
    it(`parses ${JSON.stringify(input)} as ${expected}`, () => {
      assert.equal(parseCSeq(input), expected);
    });
  }

  const invalid: Array<string | undefined> = [
    undefined,
    '',
    '   ',
    '-1',
    '+1',
    '1.5',
    '1e3',
    '0x10',
    'abc',
    '1 2',
    '2147483648',
    '99999999999999999999',
  ];
  for (const input of invalid) {
    it(`rejects ${JSON.stringify(input)} with RtspHeaderError 400`, () => {
      assert.throws(() => parseCSeq(input), {
        name: 'RtspHeaderError',
        status: 400,
        code: 'ERR_RTSP_BAD_HEADER',
      });
    });
  }

  it('names the header in the message', () => {
    assert.throws(() => parseCSeq(undefined), { message: 'CSeq: missing' });
  });
});
