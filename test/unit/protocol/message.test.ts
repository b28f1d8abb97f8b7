import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { equalsIgnoreCase, isToken, RtspHeaders, STATUS_REASONS } from '../../../src/protocol/message.js';

describe('RtspHeaders', () => {
  it('builds from pairs or a record and keeps order and original case', () => {
    const fromPairs = new RtspHeaders([
      ['CSeq', '1'],
      ['Session', 'abc'],
      ['cseq', '2'],
    ]);
    assert.deepEqual(
      [...fromPairs.entries()],
      [
        ['CSeq', '1'],
        ['Session', 'abc'],
        ['cseq', '2'],
      ],
    );
    assert.equal(fromPairs.size, 3);
    const fromRecord = new RtspHeaders({ CSeq: '1', 'Content-Type': 'application/sdp' });
    assert.deepEqual(
      [...fromRecord],
      [
        ['CSeq', '1'],
        ['Content-Type', 'application/sdp'],
      ],
    );
    assert.deepEqual([...new RtspHeaders(fromPairs)], [...fromPairs]);
    assert.equal(new RtspHeaders().size, 0);
  });

  it('get/getAll/has are case-insensitive; get returns the first value', () => {
    const h = new RtspHeaders([
      ['CSeq', '1'],
      ['Require', 'a'],
      ['REQUIRE', 'b'],
    ]);
    assert.equal(h.get('cseq'), '1');
    assert.equal(h.get('require'), 'a');
    assert.deepEqual(h.getAll('Require'), ['a', 'b']);
    assert.deepEqual(h.getAll('Session'), []);
    assert.equal(h.get('Session'), undefined);
    assert.equal(h.has('CSEQ'), true);
    assert.equal(h.has('CSeq2'), false);
    // Only letters fold: '@' (0x40) and '`' (0x60) differ by the same bit but are not equal.
    const odd = new RtspHeaders([['X@', '1']]);
    assert.equal(odd.get('X`'), undefined);
  });

  it('set replaces every entry of the name at the first position, append adds, delete removes all', () => {
    const h = new RtspHeaders([
      ['A', '1'],
      ['X', '2'],
      ['B', '3'],
      ['x', '4'],
    ]);
    h.set('x', 'new');
    assert.deepEqual(
      [...h],
      [
        ['A', '1'],
        ['x', 'new'],
        ['B', '3'],
      ],
    );
    h.set('Session', 's').append('B', '5');
    assert.deepEqual(
      [...h],
      [
        ['A', '1'],
        ['x', 'new'],
        ['B', '3'],
        ['Session', 's'],
        ['B', '5'],
      ],
    );
    assert.equal(h.delete('b'), true);
    assert.equal(h.delete('b'), false);
    assert.deepEqual(
      [...h],
      [
        ['A', '1'],
        ['x', 'new'],
        ['Session', 's'],
      ],
    );
    assert.equal(h.size, 3);
  });

  it('forEach visits entries in order with (value, name)', () => {
    const seen: string[] = [];
    new RtspHeaders([
      ['A', '1'],
      ['B', '2'],
    ]).forEach((value, name) => {
      seen.push(`${name}=${value}`);
    });
    assert.deepEqual(seen, ['A=1', 'B=2']);
  });

  it('deep equality compares contents', () => {
    assert.deepEqual(new RtspHeaders([['A', '1']]), new RtspHeaders({ A: '1' }));
    assert.notDeepEqual(new RtspHeaders([['A', '1']]), new RtspHeaders([['A', '2']]));
    assert.notDeepEqual(new RtspHeaders([['A', '1']]), new RtspHeaders([['a', '1']]));
  });
});

describe('message helpers', () => {
  it('equalsIgnoreCase folds ASCII letters only', () => {
    assert.equal(equalsIgnoreCase('Content-Length', 'content-length'), true);
    assert.equal(equalsIgnoreCase('Content-Length', 'content-lengt'), false);
    assert.equal(equalsIgnoreCase('[', '{'), false);
  });

  it('isToken follows RFC 2616', () => {
    assert.equal(isToken('GET_PARAMETER'), true);
    assert.equal(isToken("x!#$%&'*+-.^_`|~9"), true);
    for (const bad of ['', 'a b', 'a:b', 'a/b', 'a\tb', 'é', 'a(b', 'a\x7f'])
      assert.equal(isToken(bad), false, bad);
  });

  it('STATUS_REASONS has every RFC 2326 7.1.1 code, 431, and 409 (a publish path already taken)', () => {
    const codes = [
      100, 200, 201, 250, 300, 301, 302, 303, 304, 305, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410,
      411, 412, 413, 414, 415, 431, 451, 452, 453, 454, 455, 456, 457, 458, 459, 460, 461, 462, 500, 501, 502,
      503, 504, 505, 551,
    ];
    assert.deepEqual(
      Object.keys(STATUS_REASONS).map(Number),
      codes.sort((a, b) => a - b),
    );
    assert.equal(STATUS_REASONS[200], 'OK');
    assert.equal(STATUS_REASONS[454], 'Session Not Found');
    assert.equal(STATUS_REASONS[461], 'Unsupported transport');
    assert.equal(STATUS_REASONS[505], 'RTSP Version not supported');
    assert.equal(STATUS_REASONS[431], 'Request Header Fields Too Large');
    assert.equal(STATUS_REASONS[409], 'Conflict');
  });
});
