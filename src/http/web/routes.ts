// The web page's routes: the page and its script (public: they hold no data) and the WHEP endpoint
// its previews play from (action `read` of the path). The path list it polls is the JSON API's
// `GET /api/v1/paths` (action `api`).
import type { RtspServer } from '../../server/rtsp-server.js';
import type { HttpServer } from '../http-server.js';
import { WhepEndpoint, type WhepOptions } from '../whep.js';
import { PAGE_HTML, PAGE_SCRIPT } from './page.js';

export interface WebPageOptions {
  server: RtspServer;
  whep?: WhepOptions;
}

export interface WebPage {
  readonly whep: WhepEndpoint;
  close(): Promise<void>;
}

/** Registers `/`, `/web/app.js` and WHEP on `http`; the page needs the API (registerApi) too. */
export function registerWebPage(http: HttpServer, options: WebPageOptions): WebPage {
  const whep = new WhepEndpoint(options.server, options.whep).register(http);
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
  return { whep, close: () => whep.close() };
}
