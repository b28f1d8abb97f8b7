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

export async function startUdpBlackholeProxy(
  upstreamPort: number,
  mode: 'blackhole' | 'refuse-udp' = 'blackhole',
): Promise<UdpBlackholeProxy> {
  const bind = (s: UdpSocket) => new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const sink = [createSocket('udp4'), createSocket('udp4')];
  let discarded = 0;
  for (const s of sink) {
    await bind(s);
    s.on('message', () => discarded++);
  }
  const sinkPorts = `${sink[0].address().port}-${sink[1].address().port}`;
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
        if (udp)
          m.headers.set(
            'Transport',
            transport.replace(/client_port=\d+(-\d+)?/i, `client_port=${sinkPorts}`),
          );
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
