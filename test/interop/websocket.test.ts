// RTSP over WebSocket as Axis media-stream-library speaks it, on the RTSP port and on the HTTP port:
// a client sending its exact requests over the runtime's own WebSocket (undici, Node 20 behind
// --experimental-websocket) receives, in order, the very access units pushed into the stream.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { HttpServer } from '../../src/http/http-server.js';
import { createServer, type RtspServer } from '../../src/server/rtsp-server.js';
import { sampleParameterSets } from '../helpers/synthetic.js';

const CLIENT = fileURLToPath(new URL('../helpers/ws-rtsp-client.ts', import.meta.url));
const UNITS = 30;

interface Received {
  ts: number;
  nals: number[];
  hash: string;
}

function runClient(
  wsUrl: string,
  rtspUrl: string,
): Promise<{ units: Received[]; code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--experimental-websocket', '--no-warnings', '--import', 'tsx', CLIENT, wsUrl, rtspUrl, String(UNITS)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(killer);
      const units = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Received);
      resolve({ units, code, stderr });
    });
  });
}

describe('RTSP over WebSocket (media-stream-library requests)', { concurrency: 1 }, () => {
  let server: RtspServer;
  let http: HttpServer;
  /** Slice hashes of every access unit pushed, in order. */
  const sent: string[] = [];
  let timer: NodeJS.Timeout;

  before(async () => {
    server = await createServer({ host: '127.0.0.1', port: 0, rtpPortRange: [30000, 39999] });
    const stream = server.addStream('/test', { video: { codec: 'H264' } });
    http = new HttpServer({ host: '127.0.0.1', port: 0 });
    http.divert((socket, head, rest) => server.takeHttpSocket(socket, head, rest));
    await http.listen();
    const { sps, pps } = sampleParameterSets();
    let frame = 0;
    const tick = () => {
      // Random slices, large enough for FU-A: the client must put every byte back together.
      const idr = frame % 10 === 0;
      const slice = Buffer.concat([Buffer.from([idr ? 0x65 : 0x41]), randomBytes(idr ? 4000 : 700)]);
      sent.push(createHash('sha1').update(slice).digest('hex'));
      stream.video!.pushUnits(idr ? [sps, pps, slice] : [slice], { pts: frame * 40_000 });
      frame++;
      timer = setTimeout(tick, 40);
    };
    tick();
  });
  after(async () => {
    clearTimeout(timer);
    await Promise.all([server.close(), http.close()]);
  });

  for (const where of ['RTSP port', 'HTTP port'] as const) {
    it(`plays over the ${where}: every access unit arrives whole and in order`, async (t) => {
      const port = where === 'RTSP port' ? server.port : http.port;
      const r = await runClient(
        `ws://127.0.0.1:${port}/rtsp-over-websocket`,
        `rtsp://127.0.0.1:${port}/test`,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /protocol binary/, 'the server agreed to the subprotocol the library asks for');
      assert.equal(r.units.length, UNITS);
      // The first one a client gets is a keyframe, with its parameter sets in front.
      assert.deepEqual(r.units[0].nals, [7, 8, 5]);
      const first = sent.indexOf(r.units[0].hash);
      assert.ok(first >= 0, 'the first access unit received was one we pushed');
      assert.deepEqual(
        r.units.map((u) => u.hash),
        sent.slice(first, first + UNITS),
        'the access units pushed, consecutive and unchanged',
      );
      t.diagnostic(`received ${r.units.length} access units, starting at pushed #${first}`);
      const deadline = Date.now() + 5000;
      while ((server.connectionCount > 0 || server.sessions().length > 0) && Date.now() < deadline)
        await new Promise((res) => setTimeout(res, 50));
      assert.equal(server.connectionCount, 0);
      assert.equal(server.sessions().length, 0);
    });
  }
});
