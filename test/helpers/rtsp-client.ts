// A bare RTSP client over a real socket, for tests that need to send exact (and broken) bytes.
import { connect, type Socket } from 'node:net';
import { digestResponse, ha1 } from '../../src/protocol/headers/authorization.js';
import type { InterleavedFrame, RtspResponse } from '../../src/protocol/message.js';
import { RtspParser } from '../../src/protocol/parser.js';

export class RawRtspClient {
  readonly frames: InterleavedFrame[] = [];
  private readonly parser = new RtspParser({ maxBodyBytes: 1 << 20 });
  private readonly responses: RtspResponse[] = [];
  private waiters: Array<() => void> = [];
  private cseq = 0;
  private ended = false;
  readonly closed: Promise<void>;
  onFrame: ((frame: InterleavedFrame) => void) | undefined;
  /** With `recordArrivals` set: what came, in order (`response 200`, `frame 1`), to check ordering. */
  recordArrivals = false;
  readonly arrivals: string[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const m of this.parser.push(chunk)) {
        if (this.recordArrivals && m.kind !== 'request')
          this.arrivals.push(m.kind === 'response' ? `response ${m.status}` : `frame ${m.channel}`);
        if (m.kind === 'response') this.responses.push(m);
        else if (m.kind === 'interleaved') {
          if (this.onFrame) this.onFrame(m);
          else this.frames.push({ ...m, data: Buffer.from(m.data) });
        }
      }
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.ended = true;
        this.wake();
        resolve();
      });
    });
    socket.on('error', () => {});
  }

  /** `localAddress` picks the client's own address (any of 127.0.0.0/8 works on loopback). */
  static connect(port: number, host = '127.0.0.1', localAddress?: string): Promise<RawRtspClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host, localAddress }, () => {
        socket.off('error', reject);
        resolve(new RawRtspClient(socket));
      });
      socket.once('error', reject);
    });
  }

  send(bytes: string | Buffer): void {
    this.socket.write(bytes);
  }

  /** Sends a request with the next CSeq and waits for its answer. */
  async request(
    method: string,
    uri: string,
    headers: Record<string, string> = {},
    body = '',
  ): Promise<RtspResponse> {
    this.cseq++;
    let text = `${method} ${uri} RTSP/1.0\r\nCSeq: ${this.cseq}\r\n`;
    for (const [k, v] of Object.entries(headers)) text += `${k}: ${v}\r\n`;
    if (body) text += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
    text += `\r\n${body}`;
    this.send(text);
    return this.nextResponse();
  }

  /** The next response, or rejects if the server closes first or nothing comes within `timeoutMs`. */
  async nextResponse(timeoutMs = 8000): Promise<RtspResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = this.responses.shift();
      if (r) return r;
      if (this.ended) throw new Error('connection closed before a response');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no response in time');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits until `predicate` holds for the frames received so far. */
  async waitFor(predicate: () => boolean, timeoutMs = 8000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  get isClosed(): boolean {
    return this.ended;
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** An Authorization header answering the MD5 Digest challenge of a 401 `challenge` (qop=auth). */
export function digestAuthorization(
  challenge: RtspResponse,
  method: string,
  uri: string,
  user: string,
  password: string,
): string {
  const header = challenge.headers.getAll('www-authenticate').find((h) => /algorithm=MD5/.test(h)) ?? '';
  const realm = /realm="([^"]*)"/.exec(header)?.[1] ?? '';
  const nonce = /nonce="([^"]*)"/.exec(header)?.[1] ?? '';
  const cnonce = '0a4f113b';
  const response = digestResponse({
    algorithm: 'MD5',
    ha1: ha1('MD5', user, realm, password),
    nonce,
    method,
    uri,
    qop: 'auth',
    nc: '00000001',
    cnonce,
  });
  return (
    `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", algorithm=MD5, ` +
    `qop=auth, nc=00000001, cnonce="${cnonce}", response="${response}"`
  );
}
