// Starts a real server on 127.0.0.1 with the shipped H.264 sample looping, for socket and interop tests.
import { fileURLToPath } from 'node:url';
import type { Stream, StreamOptions } from '../../src/media/stream.js';
import { createServer, type RtspServer, type RtspServerOptions } from '../../src/server/rtsp-server.js';
import { AnnexBFileSource } from '../../src/sources/annexb-file.js';

export const SAMPLE_FILE = fileURLToPath(new URL('../../fixtures/sample-640x480-25fps.264', import.meta.url));

export interface TestServer {
  server: RtspServer;
  stream: Stream;
  source: AnnexBFileSource;
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startTestServer(
  options: RtspServerOptions = {},
  path = '/test',
  streamOptions: Omit<StreamOptions, 'video'> = {},
): Promise<TestServer> {
  const server = await createServer({ host: '127.0.0.1', port: 0, rtpPortRange: [30000, 39999], ...options });
  const stream = server.addStream(path, { ...streamOptions, video: { codec: 'H264' } });
  const source = new AnnexBFileSource(stream.video!, { file: SAMPLE_FILE, loop: true });
  source.start();
  const port = server.port;
  return {
    server,
    stream,
    source,
    port,
    url: `rtsp://127.0.0.1:${port}${path}`,
    async close() {
      source.stop();
      await server.close();
    },
  };
}
