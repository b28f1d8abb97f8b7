// The PLAY-start benchmark's server: one H.264 Annex-B file looped in real time, in a process of its
// own. Run by bench/play-start.ts over a Node IPC channel; stops when the runner goes away.
import { createServer } from '../src/server/rtsp-server.js';
import { AnnexBFileSource } from '../src/sources/annexb-file.js';

const file = process.env.BENCH_FILE;
if (!process.send || !file) {
  console.error('bench/play-start-server.ts is started by bench/play-start.ts');
  process.exit(2);
}
const server = await createServer({
  host: '127.0.0.1',
  port: 0,
  rtpPortRange: [40000, 49999],
  maxSessions: 5000,
  maxConnections: 5000,
  // Every benchmark client comes from 127.0.0.1: lift the per-address and per-path defaults.
  maxConnectionsPerAddress: 5000,
  maxSessionsPerAddress: 5000,
  maxSessionsPerPath: 5000,
  sessionTimeoutSec: 300,
});
const stream = server.addStream('/bench', { video: { codec: 'H264' } });
const source = new AnnexBFileSource(stream.video!, { file, loop: true });
source.start();
process.on('disconnect', () => {
  source.stop();
  void server.close().then(() => process.exit(0));
});
setTimeout(() => process.exit(3), 120_000).unref();
// The file starts with an IDR: keyframes go out one GOP apart from now on.
process.send({ type: 'ready', port: server.port });
