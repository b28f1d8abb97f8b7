/**
 * The server side of RFC 6455 WebSocket framing, as much as RTSP over WebSocket needs: the
 * handshake key, reading masked client frames and writing unmasked server frames. Pure: no sockets.
 */
import { createHash } from 'node:crypto';

const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

/** `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key` (RFC 6455 section 4.2.2). */
export function websocketAccept(key: string): string {
  return createHash('sha1')
    .update(key + HANDSHAKE_GUID)
    .digest('base64');
}

/** A client key is 16 random bytes in base64 (section 4.1). */
export function isValidWebSocketKey(key: string | undefined): key is string {
  return key !== undefined && /^[A-Za-z0-9+/]{22}==$/.test(key);
}

/** A frame the peer may not send; the connection is closed with `closeCode` (1002, 1009). */
export class WebSocketFrameError extends Error {
  override readonly name = 'WebSocketFrameError';
  constructor(
    readonly closeCode: number,
    message: string,
  ) {
    super(message);
  }
}

export interface WebSocketFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/** Reads client frames from a byte stream split anywhere. Client frames must be masked (5.1). */
export class WebSocketFrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  constructor(private readonly maxPayload: number) {}

  push(chunk: Buffer): WebSocketFrame[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const frames: WebSocketFrame[] = [];
    for (;;) {
      const b = this.buffered;
      if (b.length < 2) break;
      if (b[0] & 0x70) throw new WebSocketFrameError(1002, 'reserved bits set (no extension was agreed)');
      const opcode = b[0] & 0x0f;
      const fin = (b[0] & 0x80) !== 0;
      if (![0, 1, 2, 8, 9, 10].includes(opcode))
        throw new WebSocketFrameError(1002, `unknown opcode ${opcode}`);
      if ((b[1] & 0x80) === 0) throw new WebSocketFrameError(1002, 'client frames must be masked');
      let length = b[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (b.length < 4) break;
        length = b.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (b.length < 10) break;
        const big = b.readBigUInt64BE(2);
        if (big > BigInt(this.maxPayload)) throw new WebSocketFrameError(1009, 'frame too large');
        length = Number(big);
        offset = 10;
      }
      if (opcode >= 8 && (length > 125 || !fin))
        throw new WebSocketFrameError(1002, 'control frames are short and never fragmented');
      if (length > this.maxPayload) throw new WebSocketFrameError(1009, 'frame too large');
      if (b.length < offset + 4 + length) break;
      const mask = b.subarray(offset, offset + 4);
      const payload = Buffer.from(b.subarray(offset + 4, offset + 4 + length));
      for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
      frames.push({ fin, opcode, payload });
      this.buffered = b.subarray(offset + 4 + length);
    }
    return frames;
  }
}

/** One unmasked server frame (servers never mask, section 5.1). */
export function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length <= 0xffff ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x80 | opcode;
  if (length < 126) {
    frame[1] = length;
  } else if (length <= 0xffff) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  payload.copy(frame, headerLength);
  return frame;
}

/** A close frame's payload: the status code, then a short reason. */
export function closePayload(code: number, reason = ''): Buffer {
  const text = Buffer.from(reason.slice(0, 100));
  const payload = Buffer.allocUnsafe(2 + text.length);
  payload.writeUInt16BE(code, 0);
  text.copy(payload, 2);
  return payload;
}
