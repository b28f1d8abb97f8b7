import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RtspError } from '../../../src/protocol/errors.js';
import { formatRangeHeader, parseRangeHeader, type RangeSpec } from '../../../src/protocol/headers/range.js';

describe('parseRangeHeader', () => {
  const valid: Array<[string, RangeSpec]> = [
    ['npt=0-', { unit: 'npt', start: 0 }],
    ['npt=0.000-', { unit: 'npt', start: 0 }],
    ['npt=now-', { unit: 'npt', start: 'now' }],
    ['npt=NOW-', { unit: 'npt', start: 'now' }],
    ['npt=12.5-', { unit: 'npt', start: 12.5 }],
    ['npt=12.-', { unit: 'npt', start: 12 }],
    ['npt=2-34', { unit: 'npt', start: 2, end: 34 }], // RFC 2326 section 10.5
    ['npt=10-15', { unit: 'npt', start: 10, end: 15 }], // RFC 2326 section 10.5
    ['npt=0.000-10.500', { unit: 'npt', start: 0, end: 10.5 }],
    ['npt=1:02:03.5-', { unit: 'npt', start: 3723.5 }],
    ['npt=123:59:59-', { unit: 'npt', start: 123 * 3600 + 59 * 60 + 59 }],
    ['npt=0:0:0.-1:00:00', { unit: 'npt', start: 0, end: 3600 }],
    ['npt=-20', { unit: 'npt', end: 20 }],
    ['npt = 5 - 6 ', { unit: 'npt', start: 5, end: 6 }],
    ['NPT=5-', { unit: 'npt', start: 5 }],
    [
      'npt=25-;time=19970123T143720Z',
      { unit: 'npt', start: 25, time: '19970123T143720Z' }, // RFC 2326 section 10.5 (PLAY at a time)
    ],
    [
      'clock=19961108T142300Z-19961108T143520Z', // RFC 2326 section 10.5
      { unit: 'clock', raw: '19961108T142300Z-19961108T143520Z' },
    ],
    [
      'clock=19961110T1925-19961110T2015', // RFC 2326 section 12.29
      { unit: 'clock', raw: '19961110T1925-19961110T2015' },
    ],
    [
      'smpte=0:10:20-;time=19970123T153600Z', // RFC 2326 section 10.6
      { unit: 'smpte', raw: '0:10:20-', time: '19970123T153600Z' },
    ],
    ['smpte-25=10:07:00-10:07:33:05.01', { unit: 'smpte-25', raw: '10:07:00-10:07:33:05.01' }],
    ['smpte-30-drop=0:00:00-', { unit: 'smpte-30-drop', raw: '0:00:00-' }],
    ['npt=0-;x-unknown=1', { unit: 'npt', start: 0 }],
  ];
  for (const [input, expected] of valid) {
    it(`parses ${input}`, () => {
      assert.deepEqual(parseRangeHeader(input), expected);
    });
  }

  const invalid = [
    '',
    'npt',
    'npt=',
    'npt=-',
    'npt=5',
    'npt=abc-',
    'npt=-5-',
    'npt=1:60:00-',
    'npt=1:00:60-',
    'npt=1:2-',
    'npt=1e3-',
    'npt=0-now',
    'npt=+5-',
    'frames=0-',
    'clock=',
    'clock=-',
    'clock=2019 1108-',
    'npt=0-;time=yesterday',
  ];
  for (const input of invalid) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(() => parseRangeHeader(input), { name: 'RtspHeaderError', status: 400 });
    });
  }
});

describe('formatRangeHeader', () => {
  const cases: Array<[RangeSpec, string]> = [
    [{ unit: 'npt', start: 0 }, 'npt=0.000-'],
    [{ unit: 'npt', start: 'now' }, 'npt=now-'],
    [{ unit: 'npt', start: 10, end: 20.5 }, 'npt=10.000-20.500'],
    [{ unit: 'npt', end: 20 }, 'npt=-20.000'],
    [{ unit: 'npt', start: 1.23456 }, 'npt=1.235-'],
    [{ unit: 'npt', start: 25, time: '19970123T143720Z' }, 'npt=25.000-;time=19970123T143720Z'],
    [{ unit: 'clock', raw: '19961108T142300Z-19961108T143520Z' }, 'clock=19961108T142300Z-19961108T143520Z'],
    [{ unit: 'smpte', raw: '0:10:22-', time: '19970123T153600Z' }, 'smpte=0:10:22-;time=19970123T153600Z'],
  ];
  for (const [input, expected] of cases) {
    it(`writes ${expected}`, () => {
      assert.equal(formatRangeHeader(input), expected);
    });
  }

  it('rejects unwritable ranges', () => {
    assert.throws(() => formatRangeHeader({ unit: 'npt' }), { name: 'RtspHeaderError' });
    assert.throws(() => formatRangeHeader({ unit: 'npt', start: -1 }), { name: 'RtspHeaderError' });
    assert.throws(() => formatRangeHeader({ unit: 'npt', start: Number.NaN }), { name: 'RtspHeaderError' });
    assert.throws(() => formatRangeHeader({ unit: 'npt', start: 0, time: 'now' }), {
      name: 'RtspHeaderError',
    });
    assert.throws(() => formatRangeHeader({ unit: 'clock', raw: 'a;b' }), { name: 'RtspHeaderError' });
  });

  it('round-trips npt ranges at millisecond precision', () => {
    const ms = fc.integer({ min: 0, max: 10 ** 9 }).map((n) => n / 1000);
    fc.assert(
      fc.property(
        fc.option(fc.oneof(ms, fc.constant<'now'>('now')), { nil: undefined }),
        fc.option(ms, { nil: undefined }),
        (start, end) => {
          fc.pre(start !== undefined || end !== undefined);
          const spec: RangeSpec = { unit: 'npt' };
          if (start !== undefined) spec.start = start;
          if (end !== undefined) spec.end = end;
          assert.deepEqual(parseRangeHeader(formatRangeHeader(spec)), spec);
        },
      ),
    );
  });

  it('parse never throws anything but RtspError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (input) => {
        try {
          parseRangeHeader(input);
        } catch (err) {
          assert.ok(err instanceof RtspError, `unexpected ${String(err)}`);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
