import { createSocket, type Socket } from 'node:dgram';

export interface UdpPortPair {
  rtp: Socket;
  rtcp: Socket;
  /** [rtp, rtcp]: even and the odd one above it. */
  ports: [number, number];
}

/**
 * Hands out RTP/RTCP socket pairs on even/odd ports from a configured range (RFC 3550 11: RTP on an
 * even port, RTCP on the next). Each client gets its own pair so its sockets can be connect()ed,
 * which is the cheapest way for Node to send datagrams and filters out traffic from anyone else.
 */
export class UdpPortPool {
  private readonly first: number;
  private readonly last: number;
  private readonly inUse = new Set<number>();
  private cursor: number;

  constructor(
    range: [number, number],
    private readonly bindAddress: string,
  ) {
    const first = range[0] % 2 === 0 ? range[0] : range[0] + 1;
    if (first + 1 > range[1])
      throw new RangeError(`RTP port range ${range[0]}-${range[1]} holds no even/odd pair`);
    this.first = first;
    this.last = range[1];
    this.cursor = first;
  }

  get allocated(): number {
    return this.inUse.size;
  }

  /** Binds a fresh pair; tries each free even port at most once. Rejects when the range is exhausted. */
  async allocate(family: 'udp4' | 'udp6'): Promise<UdpPortPair> {
    const pairs = Math.floor((this.last - this.first + 1) / 2);
    for (let attempt = 0; attempt < pairs; attempt++) {
      const port = this.cursor;
      this.cursor = port + 2 + 1 > this.last ? this.first : port + 2;
      if (this.inUse.has(port)) continue;
      this.inUse.add(port);
      const pair = await tryBindPair(family, this.bindFor(family), port).catch(() => null);
      if (pair) return pair;
      this.inUse.delete(port);
    }
    throw new Error('no free RTP port pair in the configured range');
  }

  release(port: number): void {
    this.inUse.delete(port);
  }

  private bindFor(family: 'udp4' | 'udp6'): string {
    if (family === 'udp6') return this.bindAddress.includes(':') ? this.bindAddress : '::';
    return this.bindAddress.includes(':') ? '0.0.0.0' : this.bindAddress;
  }
}

function bindSocket(family: 'udp4' | 'udp6', address: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: family });
    const onError = (err: Error) => {
      socket.close();
      reject(err);
    };
    socket.once('error', onError);
    socket.bind({ port, address, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

async function tryBindPair(family: 'udp4' | 'udp6', address: string, port: number): Promise<UdpPortPair> {
  const rtp = await bindSocket(family, address, port);
  try {
    const rtcp = await bindSocket(family, address, port + 1);
    return { rtp, rtcp, ports: [port, port + 1] };
  } catch (err) {
    rtp.close();
    throw err;
  }
}
