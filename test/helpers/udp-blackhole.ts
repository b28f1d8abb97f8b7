// An RTSP proxy on 127.0.0.1 in front of a real server that makes UDP media fail the way a firewall or
// NAT does. 'blackhole': every SETUP's `client_port=` is rewritten to a socket pair that counts and
// discards what it gets, so UDP PLAY succeeds but no RTP reaches the client. 'refuse-udp': a SETUP
// asking for UDP gets 461 from the proxy itself. Everything else (requests, answers, interleaved
// frames) passes through as is.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { type AddressInfo, createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { RtspParser } from '../../src/protocol/parser.js';
import {
  serializeInterleavedFrame,
  serializeRequest,
  serializeResponse,
} from '../../src/protocol/serializer.js';

export interface ProxiedRequest {
  /** 1 for the proxy's first client connection, 2 for the next, ... */
  connection: number;
  method: string;
  transport?: string;
}

export interface UdpBlackholeProxy {
  port: number;
  /** Every request from the clients, in order, as they sent it. */
  requests: ProxiedRequest[];
  /** Datagrams the discarding sockets swallowed (RTP and RTCP the server sent over UDP). */
  discarded(): number;
  /** Cuts every open connection (both sides), as a network outage would. */
  dropConnections(): void;
  close(): Promise<void>;
}

const SINK_PAIRS = 8;

export async function startUdpBlackholeProxy(
  upstreamPort: number,
  mode: 'blackhole' | 'refuse-udp' = 'blackhole',
): Promise<UdpBlackholeProxy> {
  // Even/odd pairs (the server checks client_port like any RTP port pair), one per SETUP in turn.
  const bind = (s: UdpSocket, port: number) =>
    new Promise<boolean>((resolve) => {
      s.once('error', () => resolve(false));
      s.bind(port, '127.0.0.1', () => resolve(true));
    });
  const sink: UdpSocket[] = [];
  const pairs: string[] = [];
  let discarded = 0;
  for (let attempt = 0; attempt < 200 && pairs.length < SINK_PAIRS; attempt++) {
    const rtp = createSocket('udp4');
    const rtcp = createSocket('udp4');
    await bind(rtp, 0);
    const port = rtp.address().port;
    if (port % 2 !== 0 || port >= 65535 || !(await bind(rtcp, port + 1))) {
      rtp.close();
      rtcp.close();
      continue;
    }
    for (const s of [rtp, rtcp]) {
      s.on('message', () => discarded++);
      sink.push(s);
    }
    pairs.push(`${port}-${port + 1}`);
  }
  if (pairs.length < SINK_PAIRS) throw new Error('no even/odd UDP port pairs for the blackhole');
  let setups = 0;
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;

  const server: Server = createServer((client) => {
    const connection = ++connections;
    const upstream = tcpConnect({ host: '127.0.0.1', port: upstreamPort });
    sockets.add(client);
    sockets.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end);
    client.on('close', end);
    upstream.on('error', end);
    upstream.on('close', end);
    upstream.on('data', (chunk) => client.write(chunk));
    const parser = new RtspParser({ maxBodyBytes: 1 << 20 });
    client.on('data', (chunk: Buffer) => {
      for (const m of parser.push(chunk)) {
        if (m.kind === 'interleaved') {
          upstream.write(serializeInterleavedFrame(m.channel, m.data));
          continue;
        }
        if (m.kind !== 'request') continue;
        const transport = m.headers.get('transport');
        requests.push({ connection, method: m.method, transport });
        const udp = transport !== undefined && /client_port=/i.test(transport);
        if (udp && mode === 'refuse-udp') {
          client.write(
            serializeResponse({
              status: 461,
              reason: 'Unsupported Transport',
              headers: { CSeq: m.headers.get('cseq') ?? '0' },
            }),
          );
          continue;
        }
        if (udp) {
          const ports = pairs[setups++ % pairs.length];
          m.headers.set('Transport', transport.replace(/client_port=\d+(-\d+)?/i, `client_port=${ports}`));
        }
        upstream.write(serializeRequest({ method: m.method, uri: m.uri, headers: m.headers, body: m.body }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    discarded: () => discarded,
    dropConnections() {
      for (const s of sockets) s.destroy();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sink) s.close();
    },
  };
}
