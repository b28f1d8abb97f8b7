/**
 * Allow and deny lists of client addresses, checked when a connection is accepted.
 *
 * Every address and network lives in one 128-bit space: IPv4 `a.b.c.d` is the IPv4-mapped IPv6
 * address `::ffff:a.b.c.d`, and an IPv4 prefix /n is /(96+n). So `10.0.0.1` and `::ffff:10.0.0.1`
 * are the same client (a dual-stack socket reports the second), `10.0.0.0/8` matches both, and
 * `::/0` matches every address, IPv4 included.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface IpFilterOptions {
  /** Addresses or CIDR networks (`10.0.0.0/8`, `fd00::/8`, `192.168.1.7`). Empty or absent: every address. */
  allow?: string[];
  /** Same forms; a match here refuses the address even when `allow` matches too. */
  deny?: string[];
}

interface Network {
  base: bigint;
  mask: bigint;
}

const ALL_ONES = (1n << 128n) - 1n;
const V4_MAPPED = 0xffffn << 32n;

function v4ToBigInt(text: string): bigint {
  let n = 0n;
  for (const part of text.split('.')) n = (n << 8n) | BigInt(Number(part));
  return n;
}

/**
 * An address as a 128-bit integer (IPv4 mapped into ::ffff:0:0/96), or undefined when `text` is not
 * an IPv4 or IPv6 address. An IPv6 zone (`fe80::1%eth0`) is ignored.
 */
export function addressToBigInt(text: string): bigint | undefined {
  if (isIPv4(text)) return V4_MAPPED | v4ToBigInt(text);
  const percent = text.indexOf('%');
  const bare = percent < 0 ? text : text.slice(0, percent);
  if (!isIPv6(bare)) return undefined;
  let hex = bare;
  // An embedded dotted quad (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) becomes two hextets.
  const lastColon = hex.lastIndexOf(':');
  const tail = hex.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = v4ToBigInt(tail);
    hex = `${hex.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = hex.split('::');
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const rest = halves.length > 1 ? (halves[1] === '' ? [] : halves[1].split(':')) : [];
  const groups =
    halves.length > 1
      ? [...head, ...new Array<string>(8 - head.length - rest.length).fill('0'), ...rest]
      : head;
  let n = 0n;
  for (const g of groups) n = (n << 16n) | BigInt(Number.parseInt(g, 16));
  return n;
}

/** True for an IPv4 address, in either spelling (`10.0.0.1`, `::ffff:10.0.0.1`). */
export function isV4(value: bigint): boolean {
  return value >> 32n === 0xffffn;
}

function parseNetwork(entry: string): Network {
  const slash = entry.indexOf('/');
  const addressText = (slash < 0 ? entry : entry.slice(0, slash)).trim();
  const base = addressToBigInt(addressText);
  if (base === undefined)
    throw new TypeError(`ip filter: not an IP address or network: ${JSON.stringify(entry)}`);
  const v4 = isIPv4(addressText);
  const maxBits = v4 ? 32 : 128;
  let bits = maxBits;
  if (slash >= 0) {
    const prefixText = entry.slice(slash + 1).trim();
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > maxBits) {
      throw new TypeError(`ip filter: bad prefix length in ${JSON.stringify(entry)}`);
    }
    bits = Number(prefixText);
  }
  // Prefixes that would silently let in far more than meant: refuse them, an allow-list must not fail open.
  if (!v4 && isV4(base) && bits < 96) {
    throw new TypeError(
      `ip filter: ${JSON.stringify(entry)} is an IPv4-mapped address with a prefix under /96, which covers far more than IPv4 addresses; write the IPv4 network instead`,
    );
  }
  if (bits === 0 && (v4 ? base & 0xffffffffn : base) !== 0n) {
    throw new TypeError(
      `ip filter: ${JSON.stringify(entry)} matches every address; write ${v4 ? '0.0.0.0/0' : '::/0'} if meant`,
    );
  }
  const bits128 = v4 ? bits + 96 : bits;
  const mask = bits128 === 0 ? 0n : (ALL_ONES << BigInt(128 - bits128)) & ALL_ONES;
  // Host bits set (`10.0.0.1/8`) are cleared rather than refused: configs often name a host in its net.
  return { base: base & mask, mask };
}

function matches(networks: Network[], value: bigint): boolean {
  for (const net of networks) if ((value & net.mask) === net.base) return true;
  return false;
}

/**
 * Returns a check for remote addresses: false when the address is in `deny`, or when `allow` is
 * non-empty and the address is not in it; true otherwise. An address that does not parse (a socket
 * that lost its peer reports '') is refused whenever either list has entries. Throws TypeError at
 * creation for an entry that is not an address or CIDR network.
 */
export function createIpFilter(options: IpFilterOptions): (address: string) => boolean {
  const allow = (options.allow ?? []).map(parseNetwork);
  const deny = (options.deny ?? []).map(parseNetwork);
  if (allow.length === 0 && deny.length === 0) return () => true;
  return (address: string) => {
    const value = addressToBigInt(address);
    if (value === undefined) return false;
    if (matches(deny, value)) return false;
    return allow.length === 0 || matches(allow, value);
  };
}
