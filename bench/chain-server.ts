// The chain benchmark's origin and edge, each in a process of its own:
//   chain-server.ts origin          a publish path /live (ffmpeg pushes to it)
//   chain-server.ts edge URL        a relay of URL at /live (as `serve --relay URL --path /live`)
// It reports its port, then `available` once /live has media, and on request its CPU.
import { createServer } from '../src/server/rtsp-server.js';
import { RelaySource } from '../src/sources/relay.js';

export type ChainServerMessage =
  | { type: 'ready'; port: number }
  | { type: 'available' }
  | { type: 'stats'; processCpuS: number; wallS: number; sessions: number };

const [role, upstream] = process.argv.slice(2);
if (role !== 'origin' && !(role === 'edge' && upstream)) {
  console.error('usage: chain-server.ts origin | edge rtsp://HOST:PORT/PATH');
  process.exit(2);
}

const send = (m: ChainServerMessage) => process.send?.(m);

const server = await createServer({
  host: '127.0.0.1',
  port: 0,
  // TCP only in this benchmark; separate ranges keep the processes apart all the same.
  rtpPortRange: role === 'origin' ? [36000, 37999] : [38000, 39999],
  maxConnectionsPerAddress: 5000,
  maxSessionsPerAddress: 5000,
});
let relay: RelaySource | undefined;
const stream =
  role === 'origin' ? server.addPublishPath('/live') : server.addStream('/live', { title: 'edge' });
if (role === 'edge') {
  relay = new RelaySource({ url: upstream, retry: { initialDelayMs: 200, maxDelayMs: 1000 } });
  relay.on('restart', (_attempt, _delay, reason) => console.error(`edge: upstream retry: ${reason}`));
  relay.start(stream);
}

const cpuStart = process.cpuUsage();
const wallStart = performance.now();
const poll = setInterval(() => {
  if (stream.unavailableReason === undefined && stream.tracks.length > 0) {
    clearInterval(poll);
    send({ type: 'available' });
  }
}, 50);

process.on('message', (msg: { type: string }) => {
  if (msg.type === 'stats') {
    const cpu = process.cpuUsage(cpuStart);
    send({
      type: 'stats',
      processCpuS: (cpu.user + cpu.system) / 1e6,
      wallS: (performance.now() - wallStart) / 1000,
      sessions: server.sessions().length,
    });
  } else if (msg.type === 'stop') {
    clearInterval(poll);
    relay?.stop();
    void server.close().then(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
setTimeout(() => process.exit(1), 600_000).unref();
send({ type: 'ready', port: server.port });
