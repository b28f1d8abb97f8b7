import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { addressToBigInt, createIpFilter, isV4 } from '../../../src/server/ip-filter.js';

function check(options: Parameters<typeof createIpFilter>[0], cases: Array<[string, boolean]>) {
  const allowed = createIpFilter(options);
  for (const [address, expected] of cases) {
    assert.equal(allowed(address), expected, `${address} with ${JSON.stringify(options)}`);
  }
}

describe('createIpFilter', () => {
  it('no lists: every address, even one that does not parse', () => {
    check({}, [
      ['10.0.0.1', true],
      ['::1', true],
      ['', true],
    ]);
    check({ allow: [], deny: [] }, [['192.0.2.1', true]]);
  });

  it('IPv4 CIDR edges', () => {
    check({ allow: ['10.0.0.0/8'] }, [
      ['10.0.0.0', true],
      ['10.255.255.255', true],
      ['9.255.255.255', false],
      ['11.0.0.0', false],
    ]);
    check({ allow: ['192.168.1.128/25'] }, [
      ['192.168.1.127', false],
      ['192.168.1.128', true],
      ['192.168.1.255', true],
      ['192.168.2.0', false],
    ]);
    check({ allow: ['192.0.2.6/31'] }, [
      ['192.0.2.5', false],
      ['192.0.2.6', true],
      ['192.0.2.7', true],
      ['192.0.2.8', false],
    ]);
    check({ allow: ['192.0.2.7/32'] }, [
      ['192.0.2.7', true],
      ['192.0.2.6', false],
    ]);
    check({ allow: ['192.0.2.7'] }, [
      ['192.0.2.7', true],
      ['192.0.2.8', false],
    ]);
    check({ allow: ['0.0.0.0/0'] }, [
      ['0.0.0.0', true],
      ['255.255.255.255', true],
      ['::1', false],
    ]);
  });

  it('host bits in a network are ignored', () => {
    check({ allow: ['10.1.2.3/8'] }, [
      ['10.200.0.1', true],
      ['11.0.0.1', false],
    ]);
    check({ allow: ['2001:db8::1/32'] }, [
      ['2001:db8:ffff::1', true],
      ['2001:db9::', false],
    ]);
  });

  it('IPv4-mapped IPv6 addresses are their IPv4 address', () => {
    check({ allow: ['10.0.0.0/8'] }, [
      ['::ffff:10.0.0.1', true],
      ['::ffff:a00:1', true],
      ['::FFFF:10.0.0.1', true],
      ['::ffff:11.0.0.1', false],
      // Not mapped (v4-compatible and NAT64 forms are other addresses).
      ['::10.0.0.1', false],
      ['64:ff9b::10.0.0.1', false],
    ]);
    check({ deny: ['::ffff:10.0.0.0/104'] }, [
      ['10.1.2.3', false],
      ['::ffff:10.1.2.3', false],
      ['11.1.2.3', true],
    ]);
    check({ allow: ['::ffff:192.0.2.1'] }, [
      ['192.0.2.1', true],
      ['192.0.2.2', false],
    ]);
  });

  it('IPv6 CIDR edges, zones and spellings', () => {
    check({ allow: ['2001:db8::/32'] }, [
      ['2001:db8::', true],
      ['2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', true],
      ['2001:0DB8:0000:0000:0000:0000:0000:0001', true],
      ['2001:db7:ffff:ffff:ffff:ffff:ffff:ffff', false],
      ['2001:db9::', false],
      ['10.0.0.1', false],
    ]);
    check({ allow: ['fe80::/10'] }, [
      ['fe80::1%eth0', true],
      ['febf:ffff::1', true],
      ['fec0::1', false],
    ]);
    check({ allow: ['::1/128'] }, [
      ['::1', true],
      ['0:0:0:0:0:0:0:1', true],
      ['::2', false],
      ['::', false],
    ]);
    check({ allow: ['2001:db8::/127'] }, [
      ['2001:db8::', true],
      ['2001:db8::1', true],
      ['2001:db8::2', false],
    ]);
  });

  it('::/0 matches every address, IPv4 included', () => {
    check({ deny: ['::/0'] }, [
      ['::1', false],
      ['10.0.0.1', false],
      ['2001:db8::1', false],
    ]);
  });

  it('deny wins over allow; deny alone lets the rest in', () => {
    check({ allow: ['10.0.0.0/8'], deny: ['10.0.0.13', '10.9.0.0/16'] }, [
      ['10.0.0.12', true],
      ['10.0.0.13', false],
      ['::ffff:10.0.0.13', false],
      ['10.9.200.1', false],
      ['10.10.0.1', true],
      ['192.0.2.1', false],
    ]);
    check({ deny: ['192.0.2.0/24', '2001:db8::/32'] }, [
      ['192.0.2.99', false],
      ['198.51.100.1', true],
      ['2001:db8::5', false],
      ['2001:db9::5', true],
    ]);
  });

  it('an address that does not parse is refused once a list is set', () => {
    for (const options of [{ allow: ['0.0.0.0/0', '::/0'] }, { deny: ['192.0.2.1'] }]) {
      check(options, [
        ['', false],
        ['localhost', false],
        ['10.0.0.256', false],
        ['1::2::3', false],
      ]);
    }
  });

  it('refuses bad entries when created', () => {
    for (const entry of [
      '10.0.0.256',
      '10.0.0',
      '10.0.0.0/33',
      '10.0.0.0/-1',
      '10.0.0.0/',
      '10.0.0.0/8/8',
      '::/129',
      '1::2::3',
      'example.com',
      '',
      '*',
      '10.0.0.0/ 8x',
    ]) {
      assert.throws(() => createIpFilter({ allow: [entry] }), TypeError, entry);
      assert.throws(() => createIpFilter({ deny: [entry] }), TypeError, entry);
    }
  });
});

describe('addressToBigInt', () => {
  const v4 = fc.tuple(
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 0, max: 255 }),
  );

  it('an IPv4 address and its mapped form are the same value', () => {
    fc.assert(
      fc.property(v4, (octets) => {
        const text = octets.join('.');
        const value = addressToBigInt(text);
        assert.equal(value, addressToBigInt(`::ffff:${text}`));
        assert.equal(value !== undefined && isV4(value), true);
        const n = octets.reduce((acc, o) => acc * 256 + o, 0);
        assert.equal(value, (0xffffn << 32n) | BigInt(n));
      }),
    );
  });

  it('refuses entries that would let in far more than they name', () => {
    assert.throws(
      () => createIpFilter({ allow: ['::ffff:192.168.0.0/16'] }),
      /IPv4-mapped address with a prefix under \/96/,
    );
    assert.throws(() => createIpFilter({ allow: ['10.0.0.1/0'] }), /matches every address; write 0.0.0.0\/0/);
    assert.throws(() => createIpFilter({ deny: ['::1/0'] }), /matches every address; write ::\/0/);
    // What they meant still works.
    const f = createIpFilter({ allow: ['::ffff:192.168.0.0/112', '0.0.0.0/0'] });
    assert.equal(f('192.168.7.7'), true);
    assert.equal(f('::1'), false);
  });

  it('agrees with a 32-bit reference for random IPv4 networks', () => {
    fc.assert(
      fc.property(v4, v4, fc.integer({ min: 0, max: 32 }), (net, addr, bits) => {
        const toInt = (o: number[]) => o.reduce((acc, x) => acc * 256 + x, 0);
        const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
        const expected = (toInt(net) & mask) >>> 0 === (toInt(addr) & mask) >>> 0;
        if (bits === 0 && toInt(net) !== 0) {
          // `10.0.0.1/0` is refused: it would let in everyone where a host or network was meant.
          assert.throws(() => createIpFilter({ allow: [`${net.join('.')}/0`] }), /matches every address/);
          return;
        }
        const allowed = createIpFilter({ allow: [`${net.join('.')}/${bits}`] });
        assert.equal(allowed(addr.join('.')), expected);
        assert.equal(allowed(`::ffff:${addr.join('.')}`), expected);
        assert.equal(allowed(net.join('.')), true, 'a network contains its own address');
      }),
      { numRuns: 500 },
    );
  });

  it('the full and the compressed spelling of an IPv6 address are the same value', () => {
    const group = fc.constantFrom(0, 0, 0, 1, 0xffff, 0xdb8, 0x2001, 0xabcd);
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (groups) => {
        const full = groups.map((g) => g.toString(16)).join(':');
        // The WHATWG URL parser writes the canonical compressed form (RFC 5952): an independent spelling.
        const compressed = new URL(`http://[${full}]/`).hostname.slice(1, -1);
        const expected = groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
        assert.equal(addressToBigInt(full), expected, full);
        assert.equal(addressToBigInt(compressed), expected, compressed);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses what is not an address', () => {
    for (const text of [
      '',
      '1.2.3',
      '1.2.3.4.5',
      '01.2.3.4x',
      ':::',
      '1:2:3:4:5:6:7:8:9',
      'g::1',
      ' 10.0.0.1',
    ]) {
      assert.equal(addressToBigInt(text), undefined, text);
    }
  });
});
