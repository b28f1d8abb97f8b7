/**
 * RTSP carried over HTTP, for clients that only get through on it:
 * - the QuickTime/live555 HTTP tunnel: a GET (with `x-sessioncookie`) receives everything the server
 *   sends, a POST with the same cookie carries the client's requests in base64;
 * - RTSP over WebSocket as Axis media-stream-library speaks it: `GET /rtsp-over-websocket` upgraded,
 *   subprotocol `binary`, the RTSP byte stream (requests, answers, interleaved RTP) in binary messages.
 * Either way the result is a ControlSocket that an ordinary RtspConnection runs on, so auth, sessions,
 * interleaved transport and every limit work as on a plain connection.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { RtspError } from '../protocol/errors.js';
import {
  Base64StreamDecoder,
  type HttpHead,
  type HttpHeadError,
  headerHasToken,
  parseHttpHead,
} from '../protocol/http-head.js';
import {
  closePayload,
  encodeFrame,
  isValidWebSocketKey,
  Opcode,
  WebSocketFrameError,
  WebSocketFrameReader,
  websocketAccept,
} from '../protocol/websocket.js';
import { httpModule } from './builtins.js';
import type { ControlSocket } from './connection.js';

/** The path Axis cameras and media-stream-library use. */
export const WEBSOCKET_PATH = '/rtsp-over-websocket';
const TUNNEL_CONTENT_TYPE = 'application/x-rtsp-tunnelled';

/**
 * A control channel whose bytes travel inside HTTP. Writes go to `out` (the tunnel's GET, or the
 * WebSocket); reads are pushed in with `receive` by whoever decodes them. Corked writes are sent as
 * one piece (one WebSocket message for an RTCP header and its packet).
 */
export class TunnelSocket extends EventEmitter implements ControlSocket {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  private corks = 0;
  private corked: Buffer[] = [];
  private paused = false;
  private ended = false;
  private isClosed = false;
  /** Sockets that live and die with this one (the tunnel's POST). */
  private readonly companions = new Set<Socket>();

  constructor(protected readonly out: Socket) {
    super();
    this.remoteAddress = out.remoteAddress;
    this.remotePort = out.remotePort;
    this.localAddress = out.localAddress;
    this.localPort = out.localPort;
    out.on('error', (err) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
      out.destroy();
    });
    out.once('close', () => this.finish());
  }

  get writable(): boolean {
    return !this.ended && !this.isClosed && this.out.writable;
  }

  get writableLength(): number {
    return this.out.writableLength;
  }

  get destroyed(): boolean {
    return this.isClosed || this.out.destroyed;
  }

  write(data: Buffer): boolean {
    if (!this.writable) return false;
    if (this.corks > 0) {
      this.corked.push(data);
      return true;
    }
    return this.out.write(this.encode(data));
  }

  cork(): void {
    this.corks++;
  }

  uncork(): void {
    if (this.corks === 0 || --this.corks > 0 || this.corked.length === 0) return;
    const data = this.corked.length === 1 ? this.corked[0] : Buffer.concat(this.corked);
    this.corked = [];
    if (this.writable) this.out.write(this.encode(data));
  }

  end(): void {
    if (this.ended || this.isClosed) return;
    this.ended = true;
    this.goodbye();
    this.out.end();
    for (const c of this.companions) c.end();
  }

  destroy(): void {
    this.out.destroy();
    for (const c of this.companions) c.destroy();
  }

  pause(): void {
    this.paused = true;
  }

  setNoDelay(noDelay = true): void {
    this.out.setNoDelay(noDelay);
  }

  /** Bytes from the client, decoded from their carrier. */
  receive(data: Buffer): void {
    if (!this.paused && !this.isClosed && data.length > 0) this.emit('data', data);
  }

  addCompanion(socket: Socket): void {
    this.companions.add(socket);
    socket.once('close', () => this.companions.delete(socket));
  }

  /** How bytes are carried to the client: as they are (HTTP tunnel). */
  protected encode(data: Buffer): Buffer {
    return data;
  }

  /** What is said before the end (a WebSocket close frame). */
  protected goodbye(): void {}

  private finish(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const c of this.companions) c.destroy();
    this.emit('close', false);
  }
}

/** RTSP over WebSocket: each write is one binary message; every data message read is RTSP bytes. */
export class WebSocketControl extends TunnelSocket {
  private readonly reader: WebSocketFrameReader;
  private closeSent = false;

  constructor(out: Socket, maxPayload: number) {
    super(out);
    this.reader = new WebSocketFrameReader(maxPayload);
    out.on('data', (chunk: Buffer) => this.read(chunk));
  }

  /** Bytes from the socket: frames, perhaps split anywhere. */
  read(chunk: Buffer): void {
    let frames: ReturnType<WebSocketFrameReader['push']>;
    try {
      frames = this.reader.push(chunk);
    } catch (err) {
      const code = err instanceof WebSocketFrameError ? err.closeCode : 1002;
      this.closeWith(code, (err as Error).message);
      return;
    }
    for (const frame of frames) {
      switch (frame.opcode) {
        case Opcode.Continuation:
        case Opcode.Text:
        case Opcode.Binary:
          // RTSP is a byte stream: message boundaries carry no meaning.
          this.receive(frame.payload);
          break;
        case Opcode.Ping:
          if (this.writable) this.out.write(encodeFrame(Opcode.Pong, frame.payload));
          break;
        case Opcode.Close:
          this.end();
          return;
        default:
          break;
      }
    }
  }

  protected override encode(data: Buffer): Buffer {
    return encodeFrame(Opcode.Binary, data);
  }

  protected override goodbye(): void {
    this.closeWith(1000, '', false);
  }

  private closeWith(code: number, reason: string, end = true): void {
    if (!this.closeSent && this.out.writable) {
      this.closeSent = true;
      this.out.write(encodeFrame(Opcode.Close, closePayload(code, reason)));
    }
    if (end) this.end();
  }
}

/** A tunnel request refused, for the server's `refused` event. */
export interface TunnelRefusal {
  status: number;
  method: string;
  uri?: string;
  reason: string;
  code: string;
}

export interface TunnelHost {
  /** Runs RTSP over a tunnel that is ready (GET and POST paired, or WebSocket open). */
  serve(control: ControlSocket, secure: boolean): void;
  refused(refusal: TunnelRefusal, socket: Socket): void;
}

export interface TunnelLimits {
  maxHeaderBytes: number;
  /** A request head must arrive within this long; a GET's POST too. */
  requestTimeoutMs: number;
  /** GETs waiting for their POST, at most. */
  maxPendingTunnels: number;
  /** Largest WebSocket frame read. */
  maxFramePayload: number;
  serverHeader: string;
}

interface HttpTunnel {
  control: TunnelSocket;
  /** The POST carrying requests now; a client may close it and open another. */
  post: Socket | undefined;
  served: boolean;
  timer: NodeJS.Timeout | undefined;
}

/** Takes HTTP requests on either port and turns tunnels into control channels. */
export class TunnelGateway {
  private readonly tunnels = new Map<string, HttpTunnel>();

  constructor(
    private readonly host: TunnelHost,
    private readonly limits: TunnelLimits,
  ) {}

  /** GETs still waiting for their POST. */
  get pending(): number {
    let n = 0;
    for (const t of this.tunnels.values()) if (!t.served) n++;
    return n;
  }

  /**
   * Whether a request is for RTSP over HTTP or WebSocket (the HTTP port leaves others to its routes):
   * a session cookie or the tunnel content type, or a WebSocket upgrade on the RTSP-over-WebSocket path.
   */
  static wants(head: HttpHead): boolean {
    const h = head.headers;
    if (h.has('x-sessioncookie')) return true;
    if (
      h.get('accept')?.includes(TUNNEL_CONTENT_TYPE) ||
      h.get('content-type')?.includes(TUNNEL_CONTENT_TYPE)
    )
      return true;
    return head.method === 'GET' && pathOf(head.target) === WEBSOCKET_PATH && isUpgrade(head);
  }

  /**
   * Reads a request head from a socket whose first bytes (`start`) were HTTP (the RTSP port), within
   * the request deadline and the header size limit, then handles it.
   */
  readHead(socket: Socket, start: Buffer, secure: boolean): void {
    let buffered: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.off('data', onData);
      this.fail(socket, undefined, 408, 'request head not received in time', 'ERR_RTSP_REQUEST_TIMEOUT');
    }, this.limits.requestTimeoutMs);
    const onData = (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      let parsed: ReturnType<typeof parseHttpHead>;
      try {
        parsed = parseHttpHead(buffered, this.limits.maxHeaderBytes);
      } catch (err) {
        clearTimeout(timer);
        socket.off('data', onData);
        const e = err as HttpHeadError;
        this.fail(socket, undefined, e.status, e.message, e.code);
        return;
      }
      if (!parsed) return;
      clearTimeout(timer);
      socket.off('data', onData);
      this.handle(socket, parsed.head, parsed.rest, secure);
    };
    socket.once('close', () => clearTimeout(timer));
    socket.on('data', onData);
    onData(start);
  }

  /** Handles a request whose head is read: a tunnel half, a WebSocket upgrade, or an error answer. */
  handle(socket: Socket, head: HttpHead, rest: Buffer, secure: boolean): void {
    socket.on('error', () => socket.destroy());
    if (isUpgrade(head)) this.upgrade(socket, head, rest, secure);
    else if (head.method === 'GET') this.get(socket, head);
    else if (head.method === 'POST') this.post(socket, head, rest, secure);
    else this.fail(socket, head, 405, `${head.method} is not a tunnel request`, 'ERR_RTSP_TUNNEL_METHOD');
  }

  /** Closes every tunnel still waiting for its POST (server shutdown). */
  close(): void {
    for (const t of this.tunnels.values()) if (!t.served) t.control.destroy();
  }

  private get(socket: Socket, head: HttpHead): boolean {
    const cookie = head.headers.get('x-sessioncookie');
    if (!validCookie(cookie))
      return this.fail(
        socket,
        head,
        400,
        'a tunnel GET needs an x-sessioncookie',
        'ERR_RTSP_TUNNEL_NO_COOKIE',
      );
    if (this.tunnels.has(cookie))
      return this.fail(socket, head, 400, 'session cookie already in use', 'ERR_RTSP_TUNNEL_COOKIE_IN_USE');
    if (this.pending >= this.limits.maxPendingTunnels)
      return this.fail(socket, head, 503, 'too many tunnels waiting for their POST', 'ERR_RTSP_TUNNEL_LIMIT');
    socket.write(
      'HTTP/1.0 200 OK\r\n' +
        `Server: ${this.limits.serverHeader}\r\n` +
        'Connection: close\r\n' +
        'Cache-Control: no-store\r\n' +
        'Pragma: no-cache\r\n' +
        `Content-Type: ${TUNNEL_CONTENT_TYPE}\r\n\r\n`,
    );
    const tunnel: HttpTunnel = {
      control: new TunnelSocket(socket),
      post: undefined,
      served: false,
      timer: undefined,
    };
    // Half a tunnel is a socket held for nothing: its POST comes within the request deadline or never.
    tunnel.timer = setTimeout(() => {
      if (tunnel.served) return;
      this.host.refused(
        {
          status: 408,
          method: 'GET',
          uri: head.target,
          reason: 'no POST came for the tunnel',
          code: 'ERR_RTSP_TUNNEL_TIMEOUT',
        },
        socket,
      );
      socket.destroy();
    }, this.limits.requestTimeoutMs);
    this.tunnels.set(cookie, tunnel);
    // A GET carries nothing more: what comes is read and dropped, so its end is seen.
    socket.on('data', () => {});
    socket.once('close', () => {
      clearTimeout(tunnel.timer);
      if (this.tunnels.get(cookie) === tunnel) this.tunnels.delete(cookie);
    });
    return true;
  }

  private post(socket: Socket, head: HttpHead, rest: Buffer, secure: boolean): boolean {
    const cookie = head.headers.get('x-sessioncookie');
    if (!validCookie(cookie))
      return this.fail(
        socket,
        head,
        400,
        'a tunnel POST needs an x-sessioncookie',
        'ERR_RTSP_TUNNEL_NO_COOKIE',
      );
    const tunnel = this.tunnels.get(cookie);
    if (!tunnel)
      return this.fail(
        socket,
        head,
        404,
        'no tunnel GET with this session cookie',
        'ERR_RTSP_TUNNEL_UNKNOWN_COOKIE',
      );
    if (tunnel.post)
      return this.fail(socket, head, 409, 'the tunnel already has a POST', 'ERR_RTSP_TUNNEL_COOKIE_IN_USE');
    clearTimeout(tunnel.timer);
    tunnel.post = socket;
    tunnel.control.addCompanion(socket);
    const decoder = new Base64StreamDecoder();
    const onData = (chunk: Buffer) => {
      let bytes: Buffer;
      try {
        bytes = decoder.push(chunk);
      } catch (err) {
        socket.off('data', onData);
        const e = err as RtspError;
        this.fail(socket, head, e.status, e.message, e.code);
        tunnel.control.end();
        return;
      }
      tunnel.control.receive(bytes);
    };
    socket.on('data', onData);
    socket.once('close', () => {
      if (tunnel.post === socket) tunnel.post = undefined;
    });
    if (!tunnel.served) {
      tunnel.served = true;
      this.host.serve(tunnel.control, secure);
    }
    if (rest.length > 0) onData(rest);
    return true;
  }

  private upgrade(socket: Socket, head: HttpHead, rest: Buffer, secure: boolean): boolean {
    const h = head.headers;
    if (head.method !== 'GET' || h.get('upgrade')?.toLowerCase() !== 'websocket')
      return this.fail(socket, head, 400, 'only WebSocket upgrades are served', 'ERR_RTSP_WEBSOCKET_UPGRADE');
    if (pathOf(head.target) !== WEBSOCKET_PATH)
      return this.fail(
        socket,
        head,
        404,
        `RTSP over WebSocket is at ${WEBSOCKET_PATH}`,
        'ERR_RTSP_WEBSOCKET_PATH',
      );
    if (h.get('sec-websocket-version') !== '13')
      return this.fail(socket, head, 426, 'WebSocket version 13 only', 'ERR_RTSP_WEBSOCKET_VERSION', [
        'Sec-WebSocket-Version: 13',
      ]);
    const key = h.get('sec-websocket-key');
    if (!isValidWebSocketKey(key))
      return this.fail(socket, head, 400, 'bad Sec-WebSocket-Key', 'ERR_RTSP_WEBSOCKET_KEY');
    // media-stream-library asks for `binary`, and a browser fails the connection unless it is named.
    const offered =
      h
        .get('sec-websocket-protocol')
        ?.split(',')
        .map((p) => p.trim()) ?? [];
    const protocol = offered.includes('binary') ? 'binary' : undefined;
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        `Server: ${this.limits.serverHeader}\r\n` +
        `Sec-WebSocket-Accept: ${websocketAccept(key)}\r\n` +
        (protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : '') +
        '\r\n',
    );
    const control = new WebSocketControl(socket, this.limits.maxFramePayload);
    this.host.serve(control, secure);
    if (rest.length > 0) control.read(rest);
    return true;
  }

  /** Answers an HTTP error and closes; tells the host. False: the request was not taken. */
  private fail(
    socket: Socket,
    head: HttpHead | undefined,
    status: number,
    reason: string,
    code: string,
    extraHeaders: string[] = [],
  ): false {
    this.host.refused({ status, method: head?.method ?? '', uri: head?.target, reason, code }, socket);
    if (!socket.writable) {
      socket.destroy();
      return false;
    }
    const body = `${reason}\n`;
    socket.end(
      `HTTP/1.0 ${status} ${httpModule().STATUS_CODES[status] ?? 'Error'}\r\n` +
        `Server: ${this.limits.serverHeader}\r\n` +
        'Connection: close\r\n' +
        'Content-Type: text/plain; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        extraHeaders.map((l) => `${l}\r\n`).join('') +
        `\r\n${body}`,
    );
    // Whatever else it sends is not read; a client that does not close soon is cut off.
    socket.resume();
    setTimeout(() => socket.destroy(), 2000).unref();
    return false;
  }
}

function isUpgrade(head: HttpHead): boolean {
  return head.headers.has('upgrade') && headerHasToken(head.headers.get('connection'), 'upgrade');
}

/** The path of an origin-form (`/a?b`) or absolute-form (`http://h/a`) target. */
function pathOf(target: string): string {
  try {
    return new URL(target, 'http://localhost').pathname;
  } catch {
    return '';
  }
}

function validCookie(cookie: string | undefined): cookie is string {
  return cookie !== undefined && cookie.length > 0 && cookie.length <= 256 && /^[\x21-\x7e]+$/.test(cookie);
}
