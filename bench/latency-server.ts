// The latency benchmark's server: the built-in test pattern served as `npm start` serves it, in a
// process of its own. It reports its port, then on request the generator's and its own CPU.
import { createServer } from '../src/server/rtsp-server.js';
import { createTestPattern } from '../src/sources/testpattern/source.js';

const server = await createServer({
  host: '127.0.0.1',
  port: 0,
  rtpPortRange: [50000, 59999],
  maxConnectionsPerAddress: 5000,
  maxSessionsPerAddress: 5000,
});
const stream = server.addStream('/test', { video: { codec: 'H264' } });
const pattern = createTestPattern(stream.video!, { label: '/test' });
const cpuStart = process.cpuUsage();
const wallStart = performance.now();

process.on('message', (msg: { type: string }) => {
  if (msg.type === 'stats') {
    const cpu = process.cpuUsage(cpuStart);
    process.send?.({
      type: 'stats',
      frames: pattern.stats.frames,
      videoSeconds: pattern.stats.videoSeconds,
      encodeMs: pattern.stats.encodeMs,
      processCpuS: (cpu.user + cpu.system) / 1e6,
      wallS: (performance.now() - wallStart) / 1000,
      width: pattern.width,
      height: pattern.height,
      fps: pattern.fps,
    });
  } else if (msg.type === 'stop') {
    pattern.stop();
    void server.close().then(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
setTimeout(() => process.exit(1), 300_000).unref();
process.send?.({ type: 'ready', port: server.port });
