// RTSP over WebSocket played by Axis media-stream-library itself (the npm package, its Node build),
// on the RTSP port and on the HTTP port: the library's RtspParser, RtspSession (its own OPTIONS,
// DESCRIBE, SETUP and PLAY) and H264Depay receive, in order, the very access units pushed into the
// stream.
//
// Version 13 exports its WebSocket source (WSSource) only from its browser build, which needs a
// `window`; what it does there is wrap the socket in a library Source: each binary message pushed as
// one RAW message, each outgoing message's data sent as one binary message, subprotocol `binary`.
// The Source below does exactly that with the `ws` package; everything RTSP is the library's.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { Readable, Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { H264Message, Message, Source as SourceType } from 'media-stream-library';
import WebSocket from 'ws';
import { HttpServer } from '../../src/http/http-server.js';
import { createServer, type RtspServer } from '../../src/server/rtsp-server.js';
import { sampleParameterSets } from '../helpers/synthetic.js';

// Its ESM build (dist/node.mjs) throws on import in Node ("Dynamic require of "tty" is not
// supported": the bundled `debug` calls require), so load its CommonJS build, as `require` would.
const { H264Depay, MessageType, Pipeline, RtspParser, RtspSession, Sink, Source } = createRequire(
  import.meta.url,
)('media-stream-library') as typeof import('media-stream-library');

const UNITS = 30;

interface Received {
  nals: number[];
  hash: string;
}

/** media-stream-library's WSSource, on a `ws` socket (see the comment at the top). */
function webSocketSource(socket: WebSocket): SourceType {
  const incoming = new Readable({ objectMode: true, read() {} });
  socket.on('message', (data: Buffer) => {
    incoming.push({ type: MessageType.RAW, data: Buffer.from(data) });
  });
  socket.on('close', () => incoming.push(null));
  const outgoing = new Writable({
    objectMode: true,
    write(msg: { data: Buffer }, _encoding, callback) {
      socket.send(msg.data);
      callback();
    },
  });
  return new Source(incoming, outgoing);
}

function openWebSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, 'binary');
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Plays `rtspUrl` through the library until `count` access units came out of its H264Depay. */
async function play(
  wsUrl: string,
  rtspUrl: string,
  count: number,
): Promise<{ units: Received[]; protocol: string }> {
  const socket = await openWebSocket(wsUrl);
  const units: Received[] = [];
  const session = new RtspSession({ uri: rtspUrl });
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`only ${units.length} access units within 20 s`)),
      20_000,
    );
    session.onError = (err) => {
      clearTimeout(timer);
      reject(err);
    };
    const sink = Sink.fromHandler((msg: Message) => {
      if (msg.type !== MessageType.H264 || units.length >= count) return;
      units.push(accessUnit(msg));
      if (units.length === count) {
        clearTimeout(timer);
        resolve();
      }
    });
    new Pipeline(webSocketSource(socket), new RtspParser(), session, new H264Depay(), sink);
  });
  session.play();
  try {
    await done;
  } finally {
    session.stop();
    await new Promise((res) => setTimeout(res, 100));
    socket.close();
  }
  return { units, protocol: socket.protocol };
}

/** The depayloader's output is AVC: 4-byte big-endian lengths, each followed by one NAL. */
function accessUnit(msg: H264Message): Received {
  const nals: Buffer[] = [];
  for (let i = 0; i + 4 <= msg.data.length; ) {
    const size = msg.data.readUInt32BE(i);
    nals.push(msg.data.subarray(i + 4, i + 4 + size));
    i += 4 + size;
  }
  const slices = nals.filter((n) => ![7, 8].includes(n[0] & 0x1f));
  return {
    nals: nals.map((n) => n[0] & 0x1f),
    hash: createHash('sha1').update(Buffer.concat(slices)).digest('hex'),
  };
}

describe('RTSP over WebSocket (media-stream-library)', { concurrency: 1 }, () => {
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
      // Random slices, large enough for FU-A: the library must put every byte back together.
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
      const r = await play(
        `ws://127.0.0.1:${port}/rtsp-over-websocket`,
        `rtsp://127.0.0.1:${port}/test`,
        UNITS,
      );
      assert.equal(r.protocol, 'binary', 'the server agreed to the subprotocol the library asks for');
      assert.equal(r.units.length, UNITS);
      // The library drops everything before the first IDR slice; that one must be there at once.
      assert.ok(r.units[0].nals.includes(5), `the first access unit holds an IDR slice: ${r.units[0].nals}`);
      const first = sent.indexOf(r.units[0].hash);
      assert.ok(first >= 0, 'the first access unit received was one we pushed');
      assert.deepEqual(
        r.units.map((u) => u.hash),
        sent.slice(first, first + UNITS),
        'the access units pushed, consecutive and unchanged',
      );
      t.diagnostic(
        `media-stream-library output ${r.units.length} access units, starting at pushed #${first}`,
      );
      const deadline = Date.now() + 5000;
      while ((server.connectionCount > 0 || server.sessions().length > 0) && Date.now() < deadline)
        await new Promise((res) => setTimeout(res, 50));
      assert.equal(server.connectionCount, 0);
      assert.equal(server.sessions().length, 0);
    });
  }
});
