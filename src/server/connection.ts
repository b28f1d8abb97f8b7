import { RtspError } from '../protocol/errors.js';
import { RtspHeaders, type RtspMessage, type RtspRequest } from '../protocol/message.js';
import { RtspParser } from '../protocol/parser.js';
import { serializeResponse } from '../protocol/serializer.js';
import type { SessionOwner } from './session.js';

/** An answer the dispatcher builds; the connection adds CSeq and Server and writes it. */
export interface ResponseSpec {
  status: number;
  /** Reason phrase; the status's usual one when absent. */
  reasonPhrase?: string;
  headers?: Array<[string, string]>;
  body?: Buffer;
  /** Why a non-2xx answer is given, and its stable code (for the `refused` event). */
  reason?: string;
  code?: string;
}

/** An RtspError as the dispatcher throws it: extra headers for the answer, the user a login tried. */
export type AnsweredError = RtspError & {
  headers?: Array<[string, string]>;
  user?: string;
  /** Send the message as a text/plain body too (a publisher's tools print it). */
  explain?: boolean;
};

/** One answer that refuses a request (status >= 400), or a deadline or framing failure. */
export interface Refusal {
  status: number;
  /** Absent when the request could not be read (framing error, deadline). */
  method?: string;
  uri?: string;
  reason: string;
  code: string;
  /** The user name credentials were given for, on a failed login. */
  user?: string;
}

export interface ConnectionHandlers {
  /** Answers one request. Resolving to null means the handler already wrote the answer itself. */
  handleRequest(request: RtspRequest, connection: RtspConnection): Promise<ResponseSpec | null>;
  /** RTCP (odd channel) or other data a client sends interleaved. */
  handleInterleaved(channel: number, data: Buffer, connection: RtspConnection): void;
  onClose(connection: RtspConnection): void;
  onError(error: Error, connection: RtspConnection): void;
  /** A request refused (an error answer), once per refusal, even if the client left before the answer. */
  onRefused(refusal: Refusal, connection: RtspConnection): void;
  /** Whether any session lives on this connection (then it is never closed for idleness). */
  hasSessions(connection: RtspConnection): boolean;
}

/**
 * What a control connection reads and writes: a TCP or TLS socket, or a tunnel that behaves as one
 * (RTSP over HTTP: reads from the POST, writes to the GET; RTSP over WebSocket: frames both ways).
 */
export interface ControlSocket {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
  readonly writable: boolean;
  /** Bytes written and not yet taken by the client: what a slow reader costs us. */
  readonly writableLength: number;
  readonly destroyed: boolean;
  write(data: Buffer): boolean;
  cork(): void;
  uncork(): void;
  end(): void;
  destroy(): void;
  pause(): void;
  setNoDelay(noDelay?: boolean): void;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'close', listener: (hadError: boolean) => void): this;
  once(event: 'close', listener: (hadError: boolean) => void): this;
}

export interface ConnectionLimits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
  /** Requests parsed but not yet answered; beyond this the client is flooding and is cut off. */
  maxPendingRequests: number;
  /** A message must arrive whole within this long of its first byte (slowloris), else 408 and close. */
  requestTimeoutMs: number;
  /** A connection with no session and no request for this long is closed. */
  idleTimeoutMs: number;
}

/**
 * One RTSP control connection: parses what arrives, answers requests strictly in order (RTSP
 * responses carry no request id but CSeq, and clients expect them in order), and carries
 * interleaved RTP/RTCP for TCP sessions.
 */
export class RtspConnection implements SessionOwner {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly serverHeader: string;
  /** Interleaved channels in use on this connection, and the session each belongs to. */
  readonly channelSessions = new Map<number, object>();
  private readonly parser: RtspParser;
  private pending = 0;
  private queue: Promise<void> = Promise.resolve();
  private isClosed = false;
  private requestTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  private readonly maxPending: number;

  constructor(
    readonly socket: ControlSocket,
    private readonly handlers: ConnectionHandlers,
    private readonly limits: ConnectionLimits,
    serverHeader: string,
    /** True for RTSPS (TLS) connections. */
    readonly secure = false,
  ) {
    this.remoteAddress = normalizeAddress(socket.remoteAddress ?? '');
    this.remotePort = socket.remotePort ?? 0;
    this.localAddress = normalizeAddress(socket.localAddress ?? '');
    this.localPort = socket.localPort ?? 0;
    this.serverHeader = serverHeader;
    this.parser = new RtspParser({
      maxHeaderBytes: limits.maxHeaderBytes,
      maxBodyBytes: limits.maxBodyBytes,
    });
    const maxPending = limits.maxPendingRequests;
    socket.setNoDelay(true);
    this.maxPending = maxPending;
    socket.on('data', (chunk: Buffer) => this.onData(chunk, maxPending));
    socket.on('error', (err: Error) => {
      // EPIPE, ECONNRESET...: this client only.
      this.handlers.onError(err, this);
      socket.destroy();
    });
    socket.on('close', () => this.finish());
    this.armIdleTimer();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Writes an answer now (used directly by PLAY, whose answer must precede the first packet). */
  writeResponse(cseq: string | undefined, spec: ResponseSpec): void {
    // Once our side is ended (close(), server shutdown) a late request gets no answer: writing one
    // would only raise 'write after end'.
    if (this.isClosed || !this.socket.writable) return;
    const headers = new RtspHeaders();
    if (cseq !== undefined) headers.append('CSeq', cseq);
    headers.append('Server', this.serverHeader);
    for (const [name, value] of spec.headers ?? []) headers.append(name, value);
    this.socket.write(
      serializeResponse({ status: spec.status, reason: spec.reasonPhrase, headers, body: spec.body }),
    );
  }

  /** Bytes read before this connection took the socket (while the server told RTSP from HTTP). */
  feed(chunk: Buffer): void {
    if (chunk.length > 0 && !this.isClosed) this.onData(chunk, this.maxPending);
  }

  close(): void {
    if (this.socket.destroyed) return;
    this.socket.end();
    // A client that does not close its side within a moment loses it anyway.
    this.closeTimer ??= setTimeout(() => this.socket.destroy(), 2000);
  }

  private onData(chunk: Buffer, maxPending: number): void {
    let messages: RtspMessage[];
    let framingError: unknown;
    try {
      messages = this.parser.push(chunk);
    } catch (err) {
      // Requests completed before the bad bytes in the same chunk still get their answers.
      messages = (err as { precedingMessages?: RtspMessage[] }).precedingMessages ?? [];
      framingError = err;
    }
    this.dispatch(messages, maxPending);
    if (framingError !== undefined) {
      this.failFraming(framingError);
      return;
    }
    // The deadline is per message: one that completed here resets it for the next one.
    if (messages.length > 0 && this.requestTimer) {
      clearTimeout(this.requestTimer);
      this.requestTimer = undefined;
    }
    this.checkRequestDeadline();
  }

  /** Starts the clock when a message is left half-received; stops it when none is. */
  private checkRequestDeadline(): void {
    if (!this.parser.partial) {
      if (this.requestTimer) clearTimeout(this.requestTimer);
      this.requestTimer = undefined;
      return;
    }
    this.requestTimer ??= setTimeout(() => {
      this.requestTimer = undefined;
      if (!this.parser.partial || this.isClosed) return;
      this.handlers.onRefused(
        { status: 408, reason: 'request not received in time', code: 'ERR_RTSP_REQUEST_TIMEOUT' },
        this,
      );
      this.socket.pause();
      this.queue = this.queue.then(() => {
        this.writeResponse(undefined, { status: 408 });
        this.close();
      });
    }, this.limits.requestTimeoutMs);
  }

  /** Closes the connection after `idleTimeoutMs` without a request, unless a session lives on it. */
  private armIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.isClosed) return;
      if (this.handlers.hasSessions(this)) this.armIdleTimer();
      else this.close();
    }, this.limits.idleTimeoutMs);
  }

  private dispatch(messages: RtspMessage[], maxPending: number): void {
    for (const message of messages) {
      if (message.kind === 'interleaved') {
        this.handlers.handleInterleaved(message.channel, message.data, this);
      } else if (message.kind === 'request') {
        if (++this.pending > maxPending) {
          this.handlers.onError(new Error('too many pipelined requests'), this);
          this.socket.destroy();
          return;
        }
        this.armIdleTimer();
        this.queue = this.queue.then(() => this.answer(message));
      }
      // Responses from the client (to requests we never send) are ignored.
    }
  }

  private async answer(request: RtspRequest): Promise<void> {
    // Queued behind a request that took a while, after the client left: nobody to answer, and a
    // SETUP now would make a session no one can end. The same once our side is ended (shutdown).
    if (this.isClosed || !this.socket.writable) {
      this.pending--;
      return;
    }
    const cseq = request.headers.get('cseq');
    try {
      const spec = await this.handlers.handleRequest(request, this);
      if (spec && spec.status >= 400) {
        this.refused(request, {
          status: spec.status,
          reason: spec.reason ?? `status ${spec.status}`,
          code: spec.code ?? `ERR_RTSP_STATUS_${spec.status}`,
        });
      }
      if (spec) this.writeResponse(cseq, spec);
    } catch (err) {
      if (err instanceof RtspError) {
        const answered = err as AnsweredError;
        this.refused(request, {
          status: err.status,
          reason: err.message,
          code: err.code,
          user: answered.user,
        });
        const headers = answered.headers ?? [];
        this.writeResponse(
          cseq,
          answered.explain
            ? {
                status: err.status,
                reasonPhrase: err.reasonPhrase,
                headers: [...headers, ['Content-Type', 'text/plain; charset=utf-8']],
                body: Buffer.from(`${err.message.replace(/[\r\n]+/g, ' ')}\n`),
              }
            : { status: err.status, reasonPhrase: err.reasonPhrase, headers },
        );
        if (err.fatal) this.close();
      } else {
        this.handlers.onError(err as Error, this);
        this.writeResponse(cseq, { status: 500 });
      }
    } finally {
      this.pending--;
    }
  }

  private refused(request: RtspRequest, refusal: Omit<Refusal, 'method' | 'uri'>): void {
    this.handlers.onRefused({ ...refusal, method: request.method, uri: request.uri }, this);
  }

  /** The byte stream can no longer be framed: answer once (after what is queued) and close. */
  private failFraming(err: unknown): void {
    this.socket.pause();
    const status = err instanceof RtspError ? err.status : 400;
    const cseq = (err as { cseq?: string }).cseq;
    if (err instanceof RtspError)
      this.handlers.onRefused({ status, reason: err.message, code: err.code }, this);
    else this.handlers.onError(err as Error, this);
    this.queue = this.queue.then(() => {
      this.writeResponse(cseq, { status });
      this.close();
    });
  }

  private finish(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.requestTimer) clearTimeout(this.requestTimer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.handlers.onClose(this);
  }
}

/** `::ffff:127.0.0.1` → `127.0.0.1`, so logs and UDP sockets agree on one form. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
