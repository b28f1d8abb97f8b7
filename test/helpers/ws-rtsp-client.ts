// An RTSP-over-WebSocket client that sends exactly what Axis media-stream-library sends (its
// openWebSocket: subprotocol `binary`, binaryType arraybuffer; its RtspSession: CSeq from 0, DESCRIBE
// with `Accept: application/sdp`, one SETUP per media with `Blocksize: 64000` and
// `Transport: RTP/AVP/TCP;unicast;interleaved=2i-2i+1`, PLAY; each request sent as one binary message)
// over the WebSocket of the runtime (undici's, as in browsers), so the framing is not ours.
// Run it with `node --experimental-websocket --import tsx` on Node 20.
// Usage: ws-rtsp-client.ts WS_URL RTSP_URL ACCESS_UNITS
// Prints one JSON line per H.264 access unit received: { ts, nals: [nal types], hash } where `hash`
// is the sha1 of its slice NALs (parameter sets left out: the server may add them).
import { createHash } from 'node:crypto';

const [wsUrl, rtspUrl, wanted] = process.argv.slice(2);
const want = Number(wanted);

function request(method: string, uri: string, headers: Array<[string, string | undefined]>): Uint8Array {
  // media-stream-library's serializer: request line, `Name: value` lines joined by CRLF, then CRLF CRLF.
  const lines = headers.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}: ${v}`);
  return new TextEncoder().encode([`${method} ${uri} RTSP/1.0`, lines.join('\r\n'), '\r\n'].join('\r\n'));
}

interface Response {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

const ws = new WebSocket(wsUrl, 'binary');
ws.binaryType = 'arraybuffer';
let buffered = Buffer.alloc(0);
let waiting: ((r: Response) => void) | undefined;
let cseq = 0;
let session: string | undefined;
const au: { ts: number | undefined; nals: Buffer[]; fu: Buffer[] } = { ts: undefined, nals: [], fu: [] };
let printed = 0;
let done = false;

function finish(code: number): void {
  if (done) return;
  done = true;
  ws.close();
  setTimeout(() => process.exit(code), 100);
}

function onRtp(packet: Buffer): void {
  const cc = packet[0] & 0x0f;
  const marker = (packet[1] & 0x80) !== 0;
  const ts = packet.readUInt32BE(4);
  const payload = packet.subarray(12 + 4 * cc);
  if (au.ts !== undefined && ts !== au.ts) au.nals = [];
  au.ts = ts;
  const type = payload[0] & 0x1f;
  if (type >= 1 && type <= 23) au.nals.push(Buffer.from(payload));
  else if (type === 24) {
    for (let i = 1; i + 2 <= payload.length; ) {
      const size = payload.readUInt16BE(i);
      au.nals.push(Buffer.from(payload.subarray(i + 2, i + 2 + size)));
      i += 2 + size;
    }
  } else if (type === 28) {
    const fuHeader = payload[1];
    if (fuHeader & 0x80) au.fu = [Buffer.from([(payload[0] & 0xe0) | (fuHeader & 0x1f)])];
    au.fu.push(Buffer.from(payload.subarray(2)));
    if (fuHeader & 0x40) au.nals.push(Buffer.concat(au.fu));
  }
  if (!marker) return;
  const slices = au.nals.filter((n) => ![7, 8].includes(n[0] & 0x1f));
  const hash = createHash('sha1').update(Buffer.concat(slices)).digest('hex');
  console.log(JSON.stringify({ ts, nals: au.nals.map((n) => n[0] & 0x1f), hash }));
  au.nals = [];
  au.ts = undefined;
  if (++printed >= want) finish(0);
}

function parse(): void {
  for (;;) {
    if (buffered.length === 0) return;
    if (buffered[0] === 0x24) {
      if (buffered.length < 4) return;
      const size = buffered.readUInt16BE(2);
      if (buffered.length < 4 + size) return;
      if (buffered[1] === 0) onRtp(buffered.subarray(4, 4 + size));
      buffered = buffered.subarray(4 + size);
      continue;
    }
    const end = buffered.indexOf('\r\n\r\n');
    if (end < 0) return;
    const lines = buffered.toString('latin1', 0, end).split('\r\n');
    const headers = new Map<string, string>();
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
    }
    const length = Number(headers.get('content-length') ?? 0);
    if (buffered.length < end + 4 + length) return;
    const body = Buffer.from(buffered.subarray(end + 4, end + 4 + length));
    buffered = buffered.subarray(end + 4 + length);
    const status = Number(lines[0].split(' ')[1]);
    waiting?.({ status, headers, body });
  }
}

function send(method: string, uri: string, headers: Array<[string, string | undefined]>): Promise<Response> {
  return new Promise((resolve) => {
    waiting = resolve;
    ws.send(request(method, uri, [...headers, ['Session', session], ['CSeq', String(cseq++)]]));
  });
}

ws.onmessage = (event) => {
  buffered = Buffer.concat([buffered, Buffer.from(event.data as ArrayBuffer)]);
  parse();
};
ws.onerror = () => {
  console.error('websocket error');
  finish(2);
};
ws.onclose = () => finish(printed >= want ? 0 : 3);
ws.onopen = async () => {
  console.error(`protocol ${ws.protocol}`);
  const described = await send('DESCRIBE', rtspUrl, [['Accept', 'application/sdp']]);
  if (described.status !== 200) {
    console.error(`DESCRIBE ${described.status}`);
    return finish(4);
  }
  const base = described.headers.get('content-base') ?? described.headers.get('content-location') ?? rtspUrl;
  const sdp = described.body.toString();
  const controls = [...sdp.matchAll(/^m=[\s\S]*?^a=control:(\S+)/gm)].map((m) => m[1]);
  for (const [i, control] of controls.entries()) {
    const uri = /^[^:]+:\/\//.test(control) ? control : new URL(control, base).href;
    const setup = await send('SETUP', uri, [
      ['Blocksize', '64000'],
      ['Transport', `RTP/AVP/TCP;unicast;interleaved=${2 * i}-${2 * i + 1}`],
    ]);
    if (setup.status !== 200) {
      console.error(`SETUP ${setup.status}`);
      return finish(4);
    }
    session ??= setup.headers.get('session')?.split(';')[0];
  }
  const played = await send('PLAY', base, []);
  if (played.status !== 200) {
    console.error(`PLAY ${played.status}`);
    return finish(4);
  }
  setTimeout(() => finish(5), 15_000).unref();
};
