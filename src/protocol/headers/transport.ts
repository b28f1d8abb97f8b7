/**
 * Transport (RFC 2326 section 12.39): the client's ordered list of acceptable transports in SETUP,
 * and the one the server picked in the response.
 *
 *   Transport: RTP/AVP;unicast;client_port=4588-4589, RTP/AVP/TCP;unicast;interleaved=0-1
 *
 * Formatting follows GStreamer's gst_rtsp_transport_as_text, the most widely tested writer:
 * parameters in RFC order, `ssrc` as 8 upper-case hex digits, `mode` quoted (`mode="PLAY"`, the RFC
 * grammar). Parsers in the wild (GStreamer lower-cases and substring-matches; ffmpeg and live555
 * ignore `ssrc`/`mode` in replies) accept that form.
 */
import { RtspError, RtspHeaderError } from '../errors.js';
import { assertHeaderSafe, isToken, parseDecimal, splitOutsideQuotes } from './syntax.js';

const HEADER = 'Transport';

export type LowerTransport = 'UDP' | 'TCP';

export interface TransportSpec {
  /** Transport protocol, upper-cased: 'RTP' (others such as 'RAW' are kept as data). */
  transport: string;
  /** Profile, upper-cased: 'AVP', or 'SAVP', 'AVPF', ... kept as data for the server to judge. */
  profile: string;
  /** Lower transport; absent in the header means UDP. */
  lowerTransport: LowerTransport;
  delivery?: 'unicast' | 'multicast';
  /** Destination address; '' when the parameter is present without a value (allowed by the RFC). */
  destination?: string;
  source?: string;
  /** RTP and RTCP interleaved channel numbers (0..255). */
  interleaved?: [number, number];
  ttl?: number;
  layers?: number;
  /** Multicast RTP/RTCP ports. */
  port?: [number, number];
  clientPort?: [number, number];
  serverPort?: [number, number];
  ssrc?: number;
  /** Upper-cased with quotes removed: 'PLAY', 'RECORD', 'PLAY,RECORD'. */
  mode?: string;
  append?: boolean;
  /** Parameters this codec does not know, verbatim and in order ([name, value]). */
  extra: Array<[string, string | undefined]>;
}

/**
 * A well-formed transport whose lower transport we cannot even represent (e.g. `RTP/AVP/SCTP`):
 * 461 Unsupported Transport rather than 400.
 */
export class UnsupportedTransportError extends RtspError {
  constructor(message: string) {
    super(461, 'ERR_RTSP_UNSUPPORTED_TRANSPORT', `${HEADER}: ${message}`);
  }
}

type KnownParameter =
  | 'delivery'
  | 'destination'
  | 'source'
  | 'interleaved'
  | 'append'
  | 'ttl'
  | 'layers'
  | 'port'
  | 'client_port'
  | 'server_port'
  | 'ssrc'
  | 'mode';

/**
 * Parses every alternative, in the client's order of preference.
 *
 * An alternative that fails to parse is skipped when at least one other alternative is valid
 * (as gst-rtsp-server does), so one exotic entry does not make the whole SETUP fail; when none is
 * valid the first alternative's error is thrown.
 */
const MAX_ALTERNATIVES = 16;

export function parseTransportHeader(value: string): TransportSpec[] {
  const alternatives = splitOutsideQuotes(HEADER, value, ',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  if (alternatives.length === 0) throw new RtspHeaderError(HEADER, 'empty');
  // Clients offer two or three; thousands of bad ones would each cost an exception.
  if (alternatives.length > MAX_ALTERNATIVES) {
    throw new RtspHeaderError(HEADER, `more than ${MAX_ALTERNATIVES} alternatives`);
  }
  const specs: TransportSpec[] = [];
  let firstError: unknown;
  for (const alternative of alternatives) {
    try {
      specs.push(parseTransportSpec(alternative));
    } catch (err) {
      if (!(err instanceof RtspError)) throw err;
      firstError ??= err;
    }
  }
  if (specs.length === 0) throw firstError;
  return specs;
}

function parseTransportSpec(text: string): TransportSpec {
  const [protocolText, ...params] = splitOutsideQuotes(HEADER, text, ';').map((p) => p.trim());
  const parts = protocolText.split('/').map((p) => p.trim());
  if (parts.length < 2 || parts.length > 3 || !parts.every(isToken)) {
    throw new RtspHeaderError(HEADER, `invalid transport-protocol/profile '${protocolText}'`);
  }
  const lower = (parts[2] ?? 'UDP').toUpperCase();
  if (lower !== 'UDP' && lower !== 'TCP') {
    throw new UnsupportedTransportError(`unsupported lower transport '${parts[2]}'`);
  }
  const spec: TransportSpec = {
    transport: parts[0].toUpperCase(),
    profile: parts[1].toUpperCase(),
    lowerTransport: lower,
    extra: [],
  };
  const seen = new Set<KnownParameter>();
  const once = (name: KnownParameter): void => {
    if (seen.has(name)) throw new RtspHeaderError(HEADER, `duplicate parameter '${name}'`);
    seen.add(name);
  };

  for (const param of params) {
    if (param === '') continue;
    const eq = param.indexOf('=');
    const rawName = (eq < 0 ? param : param.slice(0, eq)).trim();
    const rawValue = eq < 0 ? undefined : param.slice(eq + 1).trim();
    const name = rawName.toLowerCase();
    const required = (): string => {
      if (rawValue === undefined || rawValue === '') {
        throw new RtspHeaderError(HEADER, `parameter '${rawName}' needs a value`);
      }
      return rawValue;
    };
    const flag = (): void => {
      if (rawValue !== undefined) throw new RtspHeaderError(HEADER, `parameter '${rawName}' takes no value`);
    };

    switch (name) {
      case 'unicast':
      case 'multicast':
        once('delivery');
        flag();
        spec.delivery = name;
        break;
      case 'destination':
        once('destination');
        spec.destination = rawValue ?? '';
        break;
      case 'source':
        once('source');
        spec.source = required();
        break;
      case 'interleaved':
        once('interleaved');
        spec.interleaved = parseNumberPair('interleaved', required(), 255);
        break;
      case 'append':
        once('append');
        flag();
        spec.append = true;
        break;
      case 'ttl':
        once('ttl');
        spec.ttl = parseDecimal(HEADER, 'ttl', required(), 0, 255);
        break;
      case 'layers':
        once('layers');
        spec.layers = parseDecimal(HEADER, 'layers', required(), 1, 0x7fffffff);
        break;
      case 'port':
        once('port');
        spec.port = parseNumberPair('port', required(), 65535);
        break;
      case 'client_port':
        once('client_port');
        spec.clientPort = parseNumberPair('client_port', required(), 65535);
        break;
      case 'server_port':
        once('server_port');
        spec.serverPort = parseNumberPair('server_port', required(), 65535);
        break;
      case 'ssrc': {
        once('ssrc');
        const hex = required();
        if (!/^[0-9A-Fa-f]{1,8}$/.test(hex)) throw new RtspHeaderError(HEADER, `invalid ssrc '${hex}'`);
        spec.ssrc = Number.parseInt(hex, 16);
        break;
      }
      case 'mode':
        once('mode');
        spec.mode = parseMode(required());
        break;
      default:
        if (!isToken(rawName)) throw new RtspHeaderError(HEADER, `invalid parameter name '${rawName}'`);
        spec.extra.push([rawName, rawValue]);
    }
  }
  return spec;
}

/** `N-M` with N <= M, or `N` meaning `N-(N+1)` (the RTCP port/channel follows the RTP one). */
function parseNumberPair(name: string, text: string, max: number): [number, number] {
  const match = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(text);
  if (!match) throw new RtspHeaderError(HEADER, `invalid ${name} '${text}'`);
  const first = parseDecimal(HEADER, name, match[1], 0, max);
  if (match[2] === undefined) {
    if (first + 1 > max)
      throw new RtspHeaderError(HEADER, `${name} ${first} leaves no room for ${first + 1}`);
    return [first, first + 1];
  }
  const second = parseDecimal(HEADER, name, match[2], 0, max);
  if (second < first) throw new RtspHeaderError(HEADER, `${name} range ${text} is reversed`);
  return [first, second];
}

/** `"PLAY"`, `play`, `"PLAY, RECORD"` → 'PLAY', 'PLAY', 'PLAY,RECORD'. */
function parseMode(text: string): string {
  const unquoted = text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text;
  const modes = unquoted.split(',').map((m) => m.trim().toUpperCase());
  if (!modes.every(isToken)) throw new RtspHeaderError(HEADER, `invalid mode '${text}'`);
  return modes.join(',');
}

/**
 * Writes one transport-spec in canonical form, e.g.
 * `RTP/AVP;unicast;client_port=5000-5001;server_port=6000-6001;ssrc=0A1B2C3D;mode="PLAY"`.
 * UDP is written without `/UDP` (as live555 and GStreamer do); TCP as `RTP/AVP/TCP`.
 */
export function formatTransportHeader(spec: TransportSpec): string {
  if (!isToken(spec.transport) || !isToken(spec.profile)) {
    throw new RtspHeaderError(HEADER, `invalid transport '${spec.transport}/${spec.profile}'`);
  }
  let out = `${spec.transport}/${spec.profile}`;
  if (spec.lowerTransport === 'TCP') out += '/TCP';
  else if (spec.lowerTransport !== 'UDP') throw new RtspHeaderError(HEADER, 'invalid lower transport');

  if (spec.delivery !== undefined) out += `;${spec.delivery}`;
  if (spec.destination !== undefined) {
    assertAddress('destination', spec.destination, true);
    out += spec.destination === '' ? ';destination' : `;destination=${spec.destination}`;
  }
  if (spec.source !== undefined) {
    assertAddress('source', spec.source, false);
    out += `;source=${spec.source}`;
  }
  if (spec.interleaved !== undefined)
    out += `;interleaved=${formatPair('interleaved', spec.interleaved, 255)}`;
  if (spec.append) out += ';append';
  if (spec.ttl !== undefined) out += `;ttl=${checkedInteger('ttl', spec.ttl, 0, 255)}`;
  if (spec.layers !== undefined) out += `;layers=${checkedInteger('layers', spec.layers, 1, 0x7fffffff)}`;
  if (spec.port !== undefined) out += `;port=${formatPair('port', spec.port, 65535)}`;
  if (spec.clientPort !== undefined)
    out += `;client_port=${formatPair('client_port', spec.clientPort, 65535)}`;
  if (spec.serverPort !== undefined)
    out += `;server_port=${formatPair('server_port', spec.serverPort, 65535)}`;
  if (spec.ssrc !== undefined) {
    const ssrc = checkedInteger('ssrc', spec.ssrc, 0, 0xffffffff);
    out += `;ssrc=${ssrc.toString(16).toUpperCase().padStart(8, '0')}`;
  }
  if (spec.mode !== undefined) out += `;mode="${parseMode(spec.mode)}"`;
  for (const [name, value] of spec.extra) {
    if (!isToken(name)) throw new RtspHeaderError(HEADER, `invalid parameter name '${name}'`);
    if (value === undefined) {
      out += `;${name}`;
    } else {
      if (/[;,]/.test(value.replace(/"[^"]*"/g, ''))) {
        throw new RtspHeaderError(HEADER, `unquoted separator in parameter '${name}'`);
      }
      assertHeaderSafe(HEADER, name, value);
      out += `;${name}=${value}`;
    }
  }
  return out;
}

function assertAddress(name: string, value: string, allowEmpty: boolean): void {
  if ((!allowEmpty && value === '') || /[\s;,"]/.test(value)) {
    throw new RtspHeaderError(HEADER, `invalid ${name} '${value}'`);
  }
  assertHeaderSafe(HEADER, name, value);
}

function checkedInteger(name: string, n: number, min: number, max: number): number {
  if (!Number.isInteger(n) || n < min || n > max) throw new RtspHeaderError(HEADER, `invalid ${name} ${n}`);
  return n;
}

function formatPair(name: string, pair: [number, number], max: number): string {
  const [a, b] = pair;
  checkedInteger(name, a, 0, max);
  checkedInteger(name, b, a, max);
  return `${a}-${b}`;
}
