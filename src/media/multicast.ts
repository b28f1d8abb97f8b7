// A path's multicast setting, checked once where it is given (library, command line, config file).
import { isIPv4 } from 'node:net';

/**
 * Where a path's multicast readers get their media: an IPv4 group, the RTP port of its first track
 * (track N uses port + 2N, RTCP on the odd port above) and the TTL of what is sent.
 */
export interface MulticastOptions {
  /** An IPv4 multicast address, 224.0.0.0/4 outside 224.0.0.0/24 (e.g. from 239.0.0.0/8, site-local). */
  group: string;
  /** Even RTP port of the first track (default 5004). */
  port?: number;
  /** Hops the packets may cross (default 1: the local network only). */
  ttl?: number;
}

export type ResolvedMulticast = Required<MulticastOptions>;

export const DEFAULT_MULTICAST_PORT = 5004;
export const DEFAULT_MULTICAST_TTL = 1;

/** A multicast setting that cannot be used, with the reason. */
export class MulticastConfigError extends Error {
  override readonly name = 'MulticastConfigError';
}

/** Checks a multicast setting and fills in its defaults. */
export function resolveMulticast(options: MulticastOptions): ResolvedMulticast {
  const { group } = options;
  if (!isIPv4(group)) throw new MulticastConfigError(`multicast group ${group} is not an IPv4 address`);
  const [a, b, c] = group.split('.').map(Number);
  if (a < 224 || a > 239) throw new MulticastConfigError(`${group} is not a multicast address (224.0.0.0/4)`);
  // The local network control block (IGMP, mDNS, routing protocols) is not for media.
  if (a === 224 && b === 0 && c === 0) throw new MulticastConfigError(`${group} is reserved (224.0.0.0/24)`);
  const port = options.port ?? DEFAULT_MULTICAST_PORT;
  if (!Number.isInteger(port) || port < 1024 || port > 65534 || port % 2 !== 0) {
    throw new MulticastConfigError(`multicast port ${port} must be even, from 1024 to 65534`);
  }
  const ttl = options.ttl ?? DEFAULT_MULTICAST_TTL;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 255)
    throw new MulticastConfigError(`multicast ttl ${ttl} must be from 1 to 255`);
  return { group, port, ttl };
}

/** `239.1.2.3` or `239.1.2.3:5000` (the command line's and the config file's short form). */
export function parseMulticastAddress(text: string): ResolvedMulticast {
  const m = /^([0-9.]+)(?::(\d+))?$/.exec(text.trim());
  if (!m) throw new MulticastConfigError(`'${text}' is not GROUP or GROUP:PORT (e.g. 239.1.2.3:5000)`);
  return resolveMulticast({ group: m[1], port: m[2] === undefined ? undefined : Number(m[2]) });
}
