// The benchmark's clients: many RTSP sessions read by one process. Each TCP connection gets a lean
// incremental scanner that reads only the `$` header and the RTP sequence number of every packet and
// skips the rest; RTSP answers in between are parsed as text. UDP clients have a datagram socket pair.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/** One read buffer shared by every socket: onread callbacks run one at a time and nothing keeps it. */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

/** Loopback UDP receive buffer for each client's RTP socket (Linux caps it at net.core.rmem_max). */
export const UDP_RECV_BUFFER = 1 << 20;

function signed16(x: number): number {
  return ((x & 0xffff) ^ 0x8000) - 0x8000;
}

/**
 * What one client received, by RTP sequence number. Sequence numbers are extended past 16 bits from
 * the first packet; a jump forward is a gap (its packets are lost); a packet older than the newest
 * is counted as late (duplicate or reordered) and not otherwise used.
 */
export class SeqCounter {
  first = -1;
  last = -1;
  received = 0;
  lost = 0;
  late = 0;
  /** Missing ranges [from, to) in extended numbers; bounded. */
  readonly gaps: Array<[number, number]> = [];
  lastAt = 0;

  onSeq(seq: number): void {
    this.lastAt = performance.now();
    if (this.last < 0) {
      this.first = seq;
      this.last = seq;
      this.received = 1;
      return;
    }
    const delta = (seq - this.last) & 0xffff;
    if (delta === 0 || delta >= 0x8000) {
      this.late++;
      return;
    }
    if (delta > 1) {
      this.lost += delta - 1;
      if (this.gaps.length < 10_000) this.gaps.push([this.last + 1, this.last + delta]);
    }
    this.last += delta;
    this.received++;
  }

  /** The extended number of 16-bit `seq`, taken as the nearest one to the newest packet. */
  toExtended(seq: number): number {
    return this.last + signed16(seq - this.last);
  }

  /** How many of the packets [from, to) (extended numbers) arrived. */
  receivedIn(from: number, to: number): number {
    if (this.last < 0) return 0;
    const lo = Math.max(from, this.first);
    const hi = Math.min(to, this.last + 1);
    if (hi <= lo) return 0;
    let n = hi - lo;
    for (const [a, b] of this.gaps) {
      const x = Math.max(a, lo);
      const y = Math.min(b, hi);
      if (y > x) n -= y - x;
    }
    return n;
  }
}

/**
 * Whether an H.264 RTP payload starts an IDR access unit: an SPS, PPS or IDR slice on its own, in
 * a STAP-A first, or the first fragment (FU-A) of an IDR slice.
 */
export function startsH264Keyframe(payload: Uint8Array, at: number, end: number): boolean {
  if (end - at < 1) return false;
  const type = payload[at] & 0x1f;
  if (type === 5 || type === 7 || type === 8) return true;
  if (type === 24 && end - at >= 4) return [5, 7, 8].includes(payload[at + 3] & 0x1f);
  if (type === 28 && end - at >= 2) return (payload[at + 1] & 0x80) !== 0 && (payload[at + 1] & 0x1f) === 5;
  return false;
}

export interface RtspReply {
  status: number;
  /** The status line, for error messages. */
  line: string;
  headers: Map<string, string>;
}

export interface ClientOptions {
  port: number;
  host: string;
  /** Aggregate URL, e.g. rtsp://127.0.0.1:8554/bench */
  url: string;
  transport: 'tcp' | 'udp';
  requestTimeoutMs: number;
}

enum Mode {
  Frame = 0,
  Header = 1,
  Text = 2,
}

/** One RTSP client: connect, DESCRIBE, SETUP, PLAY, then count RTP. */
export class LoadClient {
  readonly counter = new SeqCounter();
  connectStartedAt = 0;
  setupAnsweredAt = 0;
  playSentAt = 0;
  playAnsweredAt = 0;
  rtpInfoSeq = -1;
  /** When the first RTP packet arrived, and whether it starts an IDR (undefined: not read whole). */
  firstRtpAt = 0;
  firstRtpKeyframe: boolean | undefined;
  sessionId = '';
  error: string | undefined;
  closed = false;
  rtcpFrames = 0;

  private socket: Socket | undefined;
  private udp: [UdpSocket, UdpSocket] | undefined;
  private cseq = 0;
  private pending:
    | { resolve: (r: RtspReply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
    | undefined;

  // Scanner state.
  private mode = Mode.Frame;
  private skip = 0;
  private readonly head = Buffer.alloc(8);
  private headLen = 0;
  private text = '';
  private readonly rtpChannel = 0;

  constructor(private readonly o: ClientOptions) {}

  /** Runs the RTSP exchange; `onSetup` fires once SETUP is answered (the ramp moves on then). */
  async start(onSetup: () => void, udpPair?: [UdpSocket, UdpSocket]): Promise<void> {
    this.connectStartedAt = performance.now();
    this.udp = udpPair;
    if (udpPair) udpPair[0].on('message', (m: Buffer) => this.onDatagram(m));
    await this.connect();
    await this.request('DESCRIBE', this.o.url, { Accept: 'application/sdp' });
    const transport = udpPair
      ? `RTP/AVP;unicast;client_port=${udpPair[0].address().port}-${udpPair[1].address().port}`
      : 'RTP/AVP/TCP;unicast;interleaved=0-1';
    const setup = await this.request('SETUP', `${this.o.url}/trackID=0`, { Transport: transport });
    if (setup.status !== 200) throw new Error(`SETUP answered "${setup.line}"`);
    this.sessionId = (setup.headers.get('session') ?? '').split(';')[0].trim();
    this.setupAnsweredAt = performance.now();
    onSetup();
    this.playSentAt = performance.now();
    const play = await this.request('PLAY', this.o.url, { Session: this.sessionId, Range: 'npt=0.000-' });
    if (play.status !== 200) throw new Error(`PLAY answered "${play.line}"`);
    this.playAnsweredAt = performance.now();
    const m = /seq=(\d+)/.exec(play.headers.get('rtp-info') ?? '');
    this.rtpInfoSeq = m ? Number(m[1]) : -1;
  }

  /** Connect, DESCRIBE and SETUP: the server's own answer time, without the keyframe wait. */
  get setupMs(): number {
    return this.setupAnsweredAt > 0 ? this.setupAnsweredAt - this.connectStartedAt : Number.NaN;
  }

  get playMs(): number {
    return this.playAnsweredAt > 0 ? this.playAnsweredAt - this.connectStartedAt : Number.NaN;
  }

  /** PLAY sent to PLAY answered. */
  get playRequestMs(): number {
    return this.playAnsweredAt > 0 ? this.playAnsweredAt - this.playSentAt : Number.NaN;
  }

  /** Connect to the first RTP packet: when the client can decode its first picture. */
  get firstPacketMs(): number {
    return this.firstRtpAt > 0 ? this.firstRtpAt - this.connectStartedAt : Number.NaN;
  }

  /** Notes the first RTP packet; `packet[at]` is its first byte, `end` the end of what is readable. */
  private onFirstRtp(packet: Uint8Array, at: number, end: number): void {
    this.firstRtpAt = performance.now();
    // RTP header without CSRCs or extension (the server sends none): the payload is 12 bytes in.
    this.firstRtpKeyframe = end - at >= 14 ? startsH264Keyframe(packet, at + 12, end) : undefined;
  }

  async teardown(): Promise<void> {
    if (this.closed || !this.sessionId) return;
    try {
      await this.request('TEARDOWN', this.o.url, { Session: this.sessionId });
    } catch {
      // closing anyway
    }
  }

  close(): void {
    this.closed = true;
    this.socket?.destroy();
    if (this.udp) {
      for (const s of this.udp) {
        try {
          s.close();
        } catch {
          // already closed
        }
      }
      this.udp = undefined;
    }
    this.failPending(new Error('closed'));
  }

  private connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect({
        port: this.o.port,
        host: this.o.host,
        noDelay: true,
        onread: {
          buffer: READ_BUFFER,
          callback: (n: number, buf: Uint8Array) => {
            this.feed(buf, n);
            return true;
          },
        },
      });
      this.socket = socket;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('connect timeout'));
      }, this.o.requestTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.on('error', (err) => {
        clearTimeout(timer);
        this.error ??= err.message;
        reject(err);
      });
      socket.on('close', () => {
        this.closed = true;
        this.failPending(new Error('connection closed'));
      });
    });
  }

  private request(method: string, uri: string, headers: Record<string, string>): Promise<RtspReply> {
    const socket = this.socket;
    if (!socket || this.closed) return Promise.reject(new Error('not connected'));
    if (this.pending) return Promise.reject(new Error('request already pending'));
    this.cseq++;
    let text = `${method} ${uri} RTSP/1.0\r\nCSeq: ${this.cseq}\r\nUser-Agent: smolrtsp-bench\r\n`;
    for (const [k, v] of Object.entries(headers)) text += `${k}: ${v}\r\n`;
    text += '\r\n';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        reject(new Error(`${method}: no answer in ${this.o.requestTimeoutMs} ms`));
      }, this.o.requestTimeoutMs);
      this.pending = { resolve, reject, timer };
      socket.write(text);
    });
  }

  private failPending(err: Error): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    p.reject(err);
  }

  private onDatagram(m: Buffer): void {
    if (m.length < 12 || m[0] >> 6 !== 2) return;
    if (this.firstRtpAt === 0) this.onFirstRtp(m, 0, m.length);
    this.counter.onSeq((m[2] << 8) | m[3]);
  }

  /** Scans `buf[0..end)`: `$` frames (only their header and RTP sequence number are read) and RTSP text. */
  private feed(buf: Uint8Array, end: number): void {
    let i = 0;
    while (i < end) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, end - i);
        this.skip -= n;
        i += n;
        continue;
      }
      if (this.mode === Mode.Frame) {
        if (buf[i] !== 0x24) {
          this.mode = Mode.Text;
          continue;
        }
        if (end - i >= 8) {
          // Fast path: the interleaved header and the RTP sequence number are in this chunk.
          const len = (buf[i + 2] << 8) | buf[i + 3];
          if (buf[i + 1] === this.rtpChannel) {
            if (this.firstRtpAt === 0) this.onFirstRtp(buf, i + 4, Math.min(end, i + 4 + len));
            if (len >= 4) this.counter.onSeq((buf[i + 6] << 8) | buf[i + 7]);
          } else this.rtcpFrames++;
          i += 4;
          this.skip = len;
          continue;
        }
        this.mode = Mode.Header;
        this.headLen = 0;
      }
      if (this.mode === Mode.Header) {
        // A header split between reads: collect 4 bytes, plus the first 4 of the RTP packet.
        this.head[this.headLen++] = buf[i++];
        if (this.headLen < 4) continue;
        const len = (this.head[2] << 8) | this.head[3];
        const isRtp = this.head[1] === this.rtpChannel && len >= 4;
        if (isRtp && this.headLen < 8) continue;
        if (isRtp && this.firstRtpAt === 0) this.onFirstRtp(this.head, 4, 8); // not read whole
        if (isRtp) this.counter.onSeq((this.head[6] << 8) | this.head[7]);
        else this.rtcpFrames++;
        this.skip = len - (this.headLen - 4);
        this.mode = Mode.Frame;
        continue;
      }
      // Text: an RTSP answer. Read up to the blank line, then skip its body.
      const chunk = Buffer.from(buf.buffer, buf.byteOffset + i, end - i).toString('latin1');
      const before = this.text.length;
      this.text += chunk;
      const endOfHeaders = this.text.indexOf('\r\n\r\n');
      if (endOfHeaders < 0) {
        if (this.text.length > 65536) {
          this.error ??= 'unparseable data from the server';
          this.socket?.destroy();
          return;
        }
        i = end;
        continue;
      }
      i += endOfHeaders + 4 - before;
      const reply = parseReply(this.text.slice(0, endOfHeaders));
      this.text = '';
      this.mode = Mode.Frame;
      this.skip = Number(reply.headers.get('content-length') ?? 0) || 0;
      this.onReply(reply);
    }
  }

  private onReply(reply: RtspReply): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    p.resolve(reply);
  }
}

function parseReply(head: string): RtspReply {
  const lines = head.split('\r\n');
  const m = /^RTSP\/1\.0 (\d{3})/.exec(lines[0]);
  const headers = new Map<string, string>();
  for (let k = 1; k < lines.length; k++) {
    const c = lines[k].indexOf(':');
    if (c > 0) headers.set(lines[k].slice(0, c).trim().toLowerCase(), lines[k].slice(c + 1).trim());
  }
  return { status: m ? Number(m[1]) : 0, line: lines[0], headers };
}

function bindUdp(port: number, host: string, recvBufferSize?: number): Promise<UdpSocket | null> {
  return new Promise((resolve) => {
    const s = createSocket({ type: 'udp4', recvBufferSize });
    s.once('error', () => {
      s.close();
      resolve(null);
    });
    s.bind(port, host, () => {
      s.removeAllListeners('error');
      s.on('error', () => {});
      resolve(s);
    });
  });
}

/**
 * Client RTP/RTCP socket pairs on consecutive even/odd ports from a range of our own (default
 * 20000-29999: below Linux's ephemeral range and outside the server's RTP range).
 */
export class UdpPairAllocator {
  private cursor: number;
  constructor(
    private readonly first = 20000,
    private readonly last = 29999,
    private readonly host = '127.0.0.1',
  ) {
    this.cursor = first;
  }

  async allocate(): Promise<[UdpSocket, UdpSocket]> {
    const pairs = Math.floor((this.last - this.first + 1) / 2);
    for (let attempt = 0; attempt < pairs; attempt++) {
      const port = this.cursor;
      this.cursor = port + 3 > this.last ? this.first : port + 2;
      const rtp = await bindUdp(port, this.host, UDP_RECV_BUFFER);
      if (!rtp) continue;
      const rtcp = await bindUdp(port + 1, this.host);
      if (rtcp) return [rtp, rtcp];
      rtp.close();
    }
    throw new Error('no free UDP port pair for a client');
  }
}
