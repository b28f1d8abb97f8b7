/**
 * The HTTP side of a smolrtsp server: one port for the JSON API, metrics, the web page and WHEP.
 * Small on purpose: a route table over node:http (or node:https with the RTSPS certificate), JSON in
 * and out, and the RTSP server's own authenticator (same users, same rules, same failure throttle).
 */
import { EventEmitter } from 'node:events';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { type HttpHead, isHttpRequest, parseHttpHead } from '../protocol/http-head.js';
import { RtspHeaders } from '../protocol/message.js';
import type { AuthAction, Authenticator } from '../server/auth.js';

/** An answer other than 2xx, with the status it maps to; `field` names the bad input, if any. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
    /** What went wrong, when it is one of the RTSP side's codes (ERR_RTSP_AUTH_FAILED: a failed login). */
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface HttpServerOptions {
  /** Default 127.0.0.1: the API controls the server, so it is not on the network unless asked. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** HTTPS with this certificate and key (PEM). */
  tls?: { cert: Buffer | string; key: Buffer | string };
  /** Users and rules; without it every route is open. */
  authenticator?: Authenticator;
  /** Largest request body read. Default 1 MiB. */
  maxBodyBytes?: number;
  /** `Server` header. */
  serverName?: string;
}

/** What a handler gets: the request, its route parameters, and ways to answer. */
export interface HttpContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** `:name` segments of the route, URL-decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** The authenticated user, when there was one. */
  readonly user: string | undefined;
  /** The body as bytes (bounded by maxBodyBytes: 413 past it). */
  body(): Promise<Buffer>;
  /** The body parsed as JSON (400 when it is not). */
  json(): Promise<unknown>;
  send(status: number, body: string | Buffer, contentType: string, headers?: Record<string, string>): void;
  sendJson(status: number, value: unknown, headers?: Record<string, string>): void;
}

export type HttpHandler = (ctx: HttpContext) => void | Promise<void>;

/**
 * Who may use a route: an auth action, for the path a function of the request gives (`read` of
 * `/cam` for WHEP of /cam), or 'public' (no check: the page's own static files).
 */
export type RouteAccess = 'public' | { action: AuthAction; path?: (ctx: HttpContext) => string | undefined };

interface Route {
  method: string;
  segments: string[];
  access: RouteAccess;
  handler: HttpHandler;
}

export interface HttpRequestLog {
  method: string;
  path: string;
  status: number;
  remoteAddress: string;
  user?: string;
  error?: string;
  /** The refusal's code, as RTSP refusals carry (ERR_RTSP_AUTH_FAILED: wrong credentials). */
  code?: string;
}

export interface HttpServerEvents {
  /** Every answered request (for the CLI's log). */
  request: [info: HttpRequestLog];
  /** A handler threw something that is not an HttpError (answered 500). */
  error: [error: Error];
}

const API_ACCESS: RouteAccess = { action: 'api' };

/** Takes a connection whose first request is `head` (returns true), or leaves it to the routes. */
export type ConnectionTaker = (socket: Socket, head: HttpHead, rest: Buffer) => boolean;

/** Largest first request head read before node:http sees the connection. */
const DIVERT_HEAD_BYTES = 16 * 1024;

export class HttpServer extends EventEmitter<HttpServerEvents> {
  private readonly routes: Route[] = [];
  private taker: ConnectionTaker | undefined;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly options: HttpServerOptions;
  readonly secure: boolean;

  constructor(options: HttpServerOptions = {}) {
    super();
    this.options = options;
    this.secure = options.tls !== undefined;
    const listener = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    this.server = options.tls
      ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, listener)
      : createHttpServer(listener);
    // Slow or idle clients must not hold sockets forever.
    this.server.requestTimeout = 30_000;
    this.server.headersTimeout = 10_000;
    this.server.keepAliveTimeout = 5_000;
    // node:http's own connection listener (on the decrypted socket for HTTPS) is put behind a look at
    // the first request, so RTSP over HTTP can take its sockets before node:http parses them: a
    // tunnel POST's body never ends, which node:http would cut off at its request timeout.
    const event = options.tls ? 'secureConnection' : 'connection';
    const [nodeListener] = this.server.listeners(event) as Array<(socket: Socket) => void>;
    this.server.removeListener(event, nodeListener);
    this.server.on(event, (socket: Socket) => this.firstRequest(socket, nodeListener));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
  }

  /**
   * Adds a route. `pattern` is a path whose `:name` segments match one segment each, and whose last
   * segment `*name` matches the rest (`/whep/*path` takes `/whep/cam/sub`). Default access: `api`.
   */
  route(method: string, pattern: string, handler: HttpHandler, access: RouteAccess = API_ACCESS): this {
    this.routes.push({ method: method.toUpperCase(), segments: splitPath(pattern), access, handler });
    return this;
  }

  /**
   * Lets `taker` see the first request of each connection, once its head is read (GET and POST only;
   * other methods go straight to the routes). RTSP over HTTP and over WebSocket come in this way.
   */
  divert(taker: ConnectionTaker): this {
    this.taker = taker;
    return this;
  }

  /** Reads the first request head for the taker, then hands the socket to node:http if not taken. */
  private firstRequest(socket: Socket, nodeListener: (socket: Socket) => void): void {
    const taker = this.taker;
    if (!taker) {
      nodeListener.call(this.server, socket);
      return;
    }
    let buffered: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), this.server.headersTimeout);
    const onError = () => socket.destroy();
    const stop = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
    };
    const handOn = () => {
      stop();
      socket.pause();
      socket.unshift(buffered);
      nodeListener.call(this.server, socket);
      socket.resume();
    };
    const onData = (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const candidate = isHttpRequest(buffered);
      if (candidate === undefined) return;
      if (!candidate) return handOn();
      let parsed: ReturnType<typeof parseHttpHead>;
      try {
        parsed = parseHttpHead(buffered, DIVERT_HEAD_BYTES);
      } catch {
        // node:http answers a malformed or oversized head itself.
        return handOn();
      }
      if (!parsed) return;
      stop();
      if (!taker(socket, parsed.head, parsed.rest)) handOn();
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.once('close', () => clearTimeout(timer));
  }

  async listen(): Promise<number> {
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.port;
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  /** The base URL clients use (`http://127.0.0.1:8080`). */
  get url(): string {
    const host = this.options.host ?? '127.0.0.1';
    const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    return `${this.secure ? 'https' : 'http'}://${shown}:${this.port}`;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Long-lived responses (event streams) and keep-alive sockets would hold close() open.
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private match(
    method: string,
    path: string,
  ): { route: Route; params: Record<string, string> } | 'method' | undefined {
    const parts = splitPath(path);
    let methodMismatch = false;
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) {
        methodMismatch = true;
        continue;
      }
      return { route, params };
    }
    return methodMismatch ? 'method' : undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const remoteAddress = normalizeAddress(req.socket.remoteAddress ?? '');
    const method = (req.method ?? 'GET').toUpperCase();
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      url = new URL('http://localhost/');
    }
    let user: string | undefined;
    let bodyRead: Promise<Buffer> | undefined;
    const ctx: HttpContext = {
      req,
      res,
      url,
      params: {},
      get user() {
        return user;
      },
      body: () => {
        bodyRead ??= readBody(req, this.options.maxBodyBytes ?? 1 << 20);
        return bodyRead;
      },
      json: async () => {
        const body = await ctx.body();
        if (body.length === 0) throw new HttpError(400, 'the request needs a JSON body');
        try {
          return JSON.parse(body.toString('utf8'));
        } catch (err) {
          throw new HttpError(400, `the body is not JSON: ${(err as Error).message}`);
        }
      },
      send: (status, body, contentType, headers = {}) => {
        if (res.headersSent) return;
        res.writeHead(status, {
          'Content-Type': contentType,
          'Content-Length': Buffer.byteLength(body),
          'Cache-Control': 'no-store',
          'X-Content-Type-Options': 'nosniff',
          ...(this.options.serverName ? { Server: this.options.serverName } : {}),
          ...headers,
        });
        res.end(method === 'HEAD' ? undefined : body);
      },
      sendJson: (status, value, headers) =>
        ctx.send(status, `${JSON.stringify(value, null, 2)}\n`, 'application/json; charset=utf-8', headers),
    };
    let status = 500;
    let error: string | undefined;
    let code: string | undefined;
    try {
      const found = this.match(method, url.pathname);
      if (found === undefined) throw new HttpError(404, `no such resource: ${url.pathname}`);
      if (found === 'method') throw new HttpError(405, `${method} is not allowed on ${url.pathname}`);
      (ctx as { params: Record<string, string> }).params = found.params;
      user = await this.authorize(found.route.access, ctx, remoteAddress);
      await found.route.handler(ctx);
      status = res.statusCode;
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(500, 'internal error');
      if (!(err instanceof HttpError)) this.emit('error', err as Error);
      status = e.status;
      error = e.message;
      code = e.code;
      if (!res.headersSent) {
        ctx.sendJson(e.status, { error: e.message, ...(e.field ? { field: e.field } : {}) }, e.headers);
      } else {
        res.destroy();
      }
      // A body the handler never read would otherwise stay in the socket.
      if (!req.complete) req.resume();
    }
    this.emit('request', { method, path: url.pathname, status, remoteAddress, user, error, code });
  }

  /** The route's auth check; throws 401/403 as the RTSP side would answer. Returns the user. */
  private async authorize(
    access: RouteAccess,
    ctx: HttpContext,
    remoteAddress: string,
  ): Promise<string | undefined> {
    const auth = this.options.authenticator;
    if (access === 'public' || !auth) return undefined;
    const headers = new RtspHeaders();
    const authorization = ctx.req.headersDistinct.authorization;
    for (const v of authorization ?? []) headers.append('Authorization', v);
    const verdict = await auth.authorize(
      {
        method: ctx.req.method ?? 'GET',
        uri: ctx.req.url ?? '/',
        path: access.path?.(ctx),
        remoteAddress,
        remotePort: ctx.req.socket.remotePort ?? 0,
        headers,
      },
      access.action,
    );
    if (verdict === true) return authorization ? userOf(authorization[0]) : undefined;
    if (verdict === false) throw new HttpError(403, 'forbidden');
    const headersOut: Record<string, string> = {};
    for (const [name, value] of verdict.headers ?? []) {
      // Several challenges (Digest MD5, SHA-256, Basic) go out as one comma-joined header: node:http
      // takes one value per name in writeHead's object form.
      headersOut[name] = headersOut[name] ? `${headersOut[name]}, ${value}` : value;
    }
    throw new HttpError(
      verdict.status,
      verdict.reason ?? 'unauthorized',
      undefined,
      headersOut,
      verdict.code,
    );
  }
}

function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p.startsWith('*')) {
      if (i >= parts.length) return undefined;
      params[p.slice(1)] = parts.slice(i).map(decode).join('/');
      return params;
    }
    if (i >= parts.length) return undefined;
    if (p.startsWith(':')) params[p.slice(1)] = decode(parts[i]);
    else if (p !== parts[i]) return undefined;
  }
  return parts.length === pattern.length ? params : undefined;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `bad percent-encoding in ${segment}`);
  }
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > max) {
      reject(new HttpError(413, `the body is larger than ${max} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.destroy();
        reject(new HttpError(413, `the body is larger than ${max} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** The user name of an Authorization header (Digest `username="..."` or Basic), for logs. */
function userOf(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const digest = /username\s*=\s*"([^"]*)"/i.exec(authorization);
  if (digest) return digest[1];
  const basic = /^Basic\s+(\S+)/i.exec(authorization);
  if (basic) {
    const text = Buffer.from(basic[1], 'base64').toString('utf8');
    const i = text.indexOf(':');
    return i > 0 ? text.slice(0, i) : undefined;
  }
  return undefined;
}

function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
