import { createIpFilter, type IpFilterOptions } from './ip-filter.js';

export interface AdmissionLimits {
  maxConnections: number;
  maxConnectionsPerAddress: number;
}

/** Why a connection is turned away, as the `refused` event says it. */
export interface AdmissionRefusal {
  reason: string;
  code: string;
}

/**
 * Decides whether a new connection may come in: the address filter, then the connection limits.
 * Counts connections and TLS handshakes still under way (they hold a socket too) per address, so a
 * decision never scans anything.
 */
export class Admission {
  private readonly addressAllowed: ((address: string) => boolean) | undefined;
  private readonly connections = new Map<string, number>();
  private readonly handshakes = new Map<string, number>();
  private connectionTotal = 0;
  private handshakeTotal = 0;

  constructor(
    private readonly limits: AdmissionLimits,
    ipFilter?: IpFilterOptions,
  ) {
    this.addressAllowed = ipFilter ? createIpFilter(ipFilter) : undefined;
  }

  /** Why a new connection from `address` may not come in, or undefined when it may. */
  refusalFor(address: string): AdmissionRefusal | undefined {
    if (this.addressAllowed !== undefined && !this.addressAllowed(address))
      return { reason: 'address not allowed', code: 'ERR_RTSP_ADDRESS_DENIED' };
    if (this.connectionTotal + this.handshakeTotal >= this.limits.maxConnections)
      return { reason: 'connection limit reached', code: 'ERR_RTSP_TOO_MANY_CONNECTIONS' };
    const fromAddress = (this.connections.get(address) ?? 0) + (this.handshakes.get(address) ?? 0);
    if (fromAddress >= this.limits.maxConnectionsPerAddress)
      return { reason: 'connection limit per address reached', code: 'ERR_RTSP_TOO_MANY_CONNECTIONS' };
    return undefined;
  }

  connectionOpened(address: string): void {
    this.connectionTotal++;
    increment(this.connections, address);
  }

  connectionClosed(address: string): void {
    this.connectionTotal--;
    decrement(this.connections, address);
  }

  handshakeStarted(address: string): void {
    this.handshakeTotal++;
    increment(this.handshakes, address);
  }

  handshakeEnded(address: string): void {
    this.handshakeTotal--;
    decrement(this.handshakes, address);
  }
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function decrement(counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 1) - 1;
  if (left > 0) counts.set(key, left);
  else counts.delete(key);
}
