// SECURITY.md's limits table names every limit the server has: each `max…` option of the server
// (SERVER_DEFAULTS) appears in it, so a new limit cannot ship undocumented.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SERVER_DEFAULTS } from '../../src/server/options.js';

const SECURITY_MD = readFileSync(new URL('../../SECURITY.md', import.meta.url), 'utf8');

describe('SECURITY.md', () => {
  it('names every max… limit of the server in its table', () => {
    const limits = Object.keys(SERVER_DEFAULTS).filter((k) => k.startsWith('max'));
    assert.ok(limits.length >= 10, `found the limits: ${limits.join(', ')}`);
    const tableRows = SECURITY_MD.split('\n').filter((l) => l.startsWith('|'));
    const missing = limits.filter((k) => !tableRows.some((row) => row.includes(`\`${k}\``)));
    assert.deepEqual(missing, [], 'limits missing from the table');
  });
});
