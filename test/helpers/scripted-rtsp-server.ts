// A fake RTSP server for client tests: it answers OPTIONS, DESCRIBE (with the given SDP) and SETUP
// (interleaved, or UDP when the client asks for client ports and `udpServerPort` is given) with 200,
// and leaves PLAY to the test, which decides what media goes with or after the answer.
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import { RtspParser } from '../../src/protocol/parser.js';
import { serializeResponse } from '../../src/protocol/serializer.js';

/** One client connection: its socket, and the RTP port it asked for in a UDP SETUP (0: interleaved). */
export interface ScriptedConnection {
  socket: Socket;
  clientRtpPort: number;
}

export interface ScriptedRtspServerOptions {
  sdp: string;
  /** The UDP port the server claims for RTP in a UDP SETUP answer; without it every SETUP is interleaved. */
  udpServerPort?: number;
  /** Called with PLAY's 200 answer, to write (with media, before it, after it) as the test wants. */
  onPlay(connection: ScriptedConnection, answer: Buffer): void;
}

export async function startScriptedRtspServer(
  options: ScriptedRtspServerOptions,
): Promise<{ url: string; close: () => void }> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const parser = new RtspParser();
    const connection: ScriptedConnection = { socket, clientRtpPort: 0 };
    socket.on('data', (chunk) => {
      for (const m of parser.push(chunk)) {
        if (m.kind !== 'request') continue;
        const headers: Record<string, string> = { CSeq: m.headers.get('cseq') ?? '0' };
        let body: Buffer | undefined;
        if (m.method === 'OPTIONS') headers.Public = 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN';
        if (m.method === 'DESCRIBE') {
          headers['Content-Type'] = 'application/sdp';
          body = Buffer.from(options.sdp);
        }
        if (m.method === 'SETUP') {
          headers.Session = 'a1b2c3;timeout=60';
          const ports = /client_port=(\d+)-(\d+)/.exec(m.headers.get('transport') ?? '');
          const own = options.udpServerPort;
          if (ports && own !== undefined) {
            connection.clientRtpPort = Number(ports[1]);
            headers.Transport = `RTP/AVP;unicast;client_port=${ports[1]}-${ports[2]};server_port=${own}-${own + 1}`;
          } else headers.Transport = 'RTP/AVP/TCP;unicast;interleaved=0-1';
        }
        const answer = serializeResponse({ status: 200, headers, body });
        if (m.method === 'PLAY') options.onPlay(connection, answer);
        else socket.write(answer);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `rtsp://127.0.0.1:${(server.address() as AddressInfo).port}/cam`,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
