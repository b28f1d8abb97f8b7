// The web page's routes: the page and its script (public: they hold no data), the path list it
// polls (action `api`), and the WHEP endpoint its previews play from (action `read` of the path).
import type { RtspServer } from '../../server/rtsp-server.js';
import type { HttpServer } from '../http-server.js';
import { WhepEndpoint, type WhepOptions, webrtcCarries } from '../whep.js';
import { PAGE_HTML, PAGE_SCRIPT } from './page.js';

export interface WebPageOptions {
  server: RtspServer;
  /** The served paths and what feeds each (e.g. the CLI's path table). */
  paths: () => Array<{ path: string; source: string }>;
  whep?: WhepOptions;
}

/** One path as the page shows it. */
export interface WebPath {
  path: string;
  source: string;
  available: boolean;
  reason?: string;
  /** RTSP and WebRTC sessions playing it. */
  readers: number;
  /** Of which WebRTC (the page's previews). */
  webrtcReaders: number;
  /** Bits per second of RTP payload the path's tracks make, over the last poll interval (at least 1 s). */
  bitrate: number;
  tracks: Array<{ kind: string; codec: string; clockRate: number; webrtc: boolean }>;
}

export interface WebPage {
  readonly whep: WhepEndpoint;
  /** The list `/web/paths.json` answers. */
  paths(): WebPath[];
  close(): Promise<void>;
}

/** Registers `/`, `/web/app.js`, `/web/paths.json` and WHEP on `http`. */
export function registerWebPage(http: HttpServer, options: WebPageOptions): WebPage {
  const { server } = options;
  const whep = new WhepEndpoint(server, options.whep).register(http);
  // Bitrate from the octet counters between two polls at least a second apart (many pages polling
  // at once share the figure).
  const samples = new Map<string, { atMs: number; octets: number; bitrate: number }>();

  const paths = (): WebPath[] => {
    const now = performance.now();
    const out: WebPath[] = [];
    for (const { path, source } of options.paths()) {
      const stream = server.getStream(path);
      const tracks = stream?.tracks ?? [];
      const octets = tracks.reduce((sum, t) => sum + t.stats.octets, 0);
      const prev = samples.get(path);
      let bitrate = prev?.bitrate ?? 0;
      if (!prev || octets < prev.octets) samples.set(path, { atMs: now, octets, bitrate: 0 });
      else if (now - prev.atMs >= 1000) {
        bitrate = Math.round(((octets - prev.octets) * 8 * 1000) / (now - prev.atMs));
        samples.set(path, { atMs: now, octets, bitrate });
      }
      const reason = stream ? stream.unavailableReason : 'not started';
      out.push({
        path,
        source,
        available: reason === undefined,
        ...(reason === undefined ? {} : { reason }),
        readers: stream?.sessions ?? 0,
        webrtcReaders: whep.countOn(path),
        bitrate,
        tracks: tracks.map((t) => ({
          kind: t.kind,
          codec: t.codec.encoding,
          clockRate: t.codec.clockRate,
          webrtc: webrtcCarries(t.codec.encoding),
        })),
      });
    }
    for (const p of samples.keys()) if (!out.some((o) => o.path === p)) samples.delete(p);
    return out;
  };

  http.route(
    'GET',
    '/',
    (ctx) => {
      // The page will ask for previews within a few hundred milliseconds: have WebRTC ready by then.
      whep.warmUp();
      ctx.send(200, PAGE_HTML, 'text/html; charset=utf-8');
    },
    'public',
  );
  http.route(
    'GET',
    '/web/app.js',
    (ctx) => ctx.send(200, PAGE_SCRIPT, 'text/javascript; charset=utf-8'),
    'public',
  );
  http.route('GET', '/web/paths.json', (ctx) => ctx.sendJson(200, { paths: paths() }));
  return { whep, paths, close: () => whep.close() };
}
