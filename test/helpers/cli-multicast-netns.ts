// The scenario of test/cli/serve-multicast.test.ts. It runs INSIDE a network namespace the test
// creates (only `lo`, with 224.0.0.0/4 routed to it): nothing it sends can reach a real network.
// `smolrtsp serve --pattern … --multicast GROUP:PORT --http-port P`, ffmpeg plays the path with
// `-rtsp_transport udp_multicast`, GET /metrics is read while it plays; one JSON line on stdout.

import { freePort, startCli } from './cli.js';
import { ffmpegDecode } from './clients.js';

const GROUP = '239.255.12.2';
const PORT = 5010;

async function main(): Promise<void> {
  const httpPort = await freePort();
  const cli = await startCli([
    '--pattern',
    '320x240@25',
    '--multicast',
    `${GROUP}:${PORT}`,
    '--http-port',
    String(httpPort),
  ]);
  const result: Record<string, unknown> = {};
  try {
    await cli.waitForLine((l) => l.msg === 'http serving');
    const playing = ffmpegDecode(`rtsp://127.0.0.1:${cli.port}/test`, 'udp_multicast', 4);
    await cli.waitForLine((l) => l.msg === 'playing', 15_000);
    await new Promise((r) => setTimeout(r, 1500));
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    const decoded = await playing;
    result.ffmpeg = { frames: decoded.frames, errors: decoded.errors, code: decoded.code };
    result.playing = cli.logLines().find((l) => l.msg === 'playing')?.transport;
    result.metrics = metrics
      .split('\n')
      .filter((l) => l.startsWith('smolrtsp_') && l.includes('"multicast"'));
  } catch (err) {
    result.error = `${(err as Error).message}\n${cli.stderr.slice(-2000)}`;
  } finally {
    cli.child.kill('SIGTERM');
    result.exit = await cli.exited;
  }
  console.log(JSON.stringify(result));
}

await main();
