// The OpenAPI 3.1 document of the JSON API (src/http/api.ts), served at /api/v1/openapi.json.
import { VERSION } from '../server/rtsp-server.js';

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema): Schema => ({ 'application/json': { schema } });
const answer = (description: string, schema?: Schema): Schema =>
  schema ? { description, content: json(schema) } : { description };
const error = (description: string): Schema => answer(description, ref('Error'));
const nullable = (type: string, extra: Schema = {}): Schema => ({ type: [type, 'null'], ...extra });

/** Answers every route may give: no credentials, a rule denying the user. */
const AUTH_ERRORS = {
  '401': {
    description: 'No or wrong credentials; the WWW-Authenticate header carries the challenge',
    headers: { 'WWW-Authenticate': { schema: { type: 'string' } } },
    content: json(ref('Error')),
  },
  '403': error('The user may not use the API (no rule gives it the `api` action)'),
};

const PATH_NAME = {
  name: 'name',
  in: 'path',
  required: true,
  description:
    'The RTSP path without its leading slash; slashes in it stay as they are: `cam` is /cam, `site/door` is /site/door',
  schema: { type: 'string', minLength: 1 },
};

export function openApiDocument(pathBodySchema?: Schema): Schema {
  const body = {
    required: true,
    description:
      "One entry of the config file's `paths`; relative file names are relative to the server's working directory",
    content: json(pathBodySchema ?? ref('PathConfig')),
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'smolrtsp API',
      version: VERSION,
      description:
        'Paths, sessions and run-time path changes of a smolrtsp server. Every operation needs the `api` action (same users and rules as RTSP).',
    },
    security: [{ digest: [] }, { basic: [] }],
    paths: {
      '/api/v1/openapi.json': {
        get: {
          operationId: 'getOpenApi',
          summary: 'This document',
          responses: { '200': answer('The OpenAPI document', { type: 'object' }), ...AUTH_ERRORS },
        },
      },
      '/api/v1/paths': {
        get: {
          operationId: 'listPaths',
          summary: 'Every served path',
          responses: {
            '200': answer('The paths', {
              type: 'object',
              required: ['items'],
              properties: { items: { type: 'array', items: ref('Path') } },
            }),
            ...AUTH_ERRORS,
          },
        },
      },
      '/api/v1/paths/{name}': {
        parameters: [PATH_NAME],
        get: {
          operationId: 'getPath',
          summary: 'One path',
          responses: { '200': answer('The path', ref('Path')), '404': error('No such path'), ...AUTH_ERRORS },
        },
        post: {
          operationId: 'addPath',
          summary: 'Starts serving a new path',
          requestBody: body,
          responses: {
            '201': answer('Added', ref('Path')),
            '400': error('Bad input: the message and `field` name the key'),
            '409': error('The path exists'),
            '413': error('The body is too large'),
            ...AUTH_ERRORS,
          },
        },
        put: {
          operationId: 'replacePath',
          summary: "Replaces a path's config: its players end (RTCP BYE) and the new source starts",
          description: 'An identical config changes nothing (outcome `kept`): its players stay.',
          requestBody: body,
          responses: {
            '200': answer('Replaced or kept', {
              allOf: [
                ref('Path'),
                {
                  type: 'object',
                  required: ['outcome'],
                  properties: { outcome: { type: 'string', enum: ['kept', 'restarted'] } },
                },
              ],
            }),
            '400': error('Bad input: the message and `field` name the key'),
            '404': error('No such path'),
            '413': error('The body is too large'),
            ...AUTH_ERRORS,
          },
        },
        delete: {
          operationId: 'removePath',
          summary: 'Stops serving a path: its sessions end with RTCP BYE',
          responses: { '204': answer('Removed'), '404': error('No such path'), ...AUTH_ERRORS },
        },
      },
      '/api/v1/sessions': {
        get: {
          operationId: 'listSessions',
          summary: 'Every RTSP session (players and publishers)',
          responses: {
            '200': answer('The sessions', {
              type: 'object',
              required: ['items'],
              properties: { items: { type: 'array', items: ref('Session') } },
            }),
            ...AUTH_ERRORS,
          },
        },
      },
      '/api/v1/sessions/{id}': {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        delete: {
          operationId: 'kickSession',
          summary: 'Ends a session: RTCP BYE, then its connection closes if it carries no other session',
          responses: { '204': answer('Ended'), '404': error('No such session'), ...AUTH_ERRORS },
        },
      },
      '/api/v1/config/reload': {
        post: {
          operationId: 'reloadConfig',
          summary: 'Re-reads the config file: unchanged paths keep their players, changed ones restart',
          responses: {
            '200': answer('What the reload did', ref('ReloadResult')),
            '500': error('The config could not be read or applied'),
            '501': error('This server has no config to reload'),
            ...AUTH_ERRORS,
          },
        },
      },
    },
    components: {
      securitySchemes: {
        digest: { type: 'http', scheme: 'digest' },
        basic: { type: 'http', scheme: 'basic' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: { type: 'string' },
            field: { type: 'string', description: 'The input key at fault, dotted (e.g. `pattern`)' },
          },
        },
        PathConfig: {
          type: 'object',
          required: ['source'],
          description: 'source: pattern, file, ffmpeg, relay, publish, or an rtsp:// URL (a relay of it)',
          properties: { source: { type: 'string' } },
        },
        Track: {
          type: 'object',
          required: [
            'id',
            'control',
            'kind',
            'codec',
            'clockRate',
            'payloadType',
            'parameters',
            'packets',
            'bytes',
            'webrtc',
          ],
          properties: {
            id: { type: 'integer' },
            control: { type: 'string' },
            kind: { type: 'string', enum: ['video', 'audio', 'application'] },
            codec: {
              type: 'string',
              description: 'RTP encoding name: H264, H265, mpeg4-generic, opus, PCMU, ...',
            },
            clockRate: { type: 'integer' },
            payloadType: { type: 'integer' },
            parameters: {
              type: 'object',
              description:
                'width, height, frameRate, profile, sampleRate, channels and the fmtp parameters, as known',
              additionalProperties: { type: ['string', 'number'] },
            },
            packets: {
              type: 'integer',
              description: 'RTP packets the track has sent (once, for all clients)',
            },
            bytes: { type: 'integer' },
            webrtc: {
              type: 'boolean',
              description: "Whether WebRTC carries the codec as it is (the web page's preview plays it)",
            },
          },
        },
        Path: {
          type: 'object',
          required: ['name', 'source', 'state', 'tracks', 'readers', 'webrtcReaders', 'bitrate'],
          properties: {
            name: { type: 'string', examples: ['/cam'] },
            source: {
              type: 'object',
              required: ['kind', 'description'],
              properties: { kind: { type: 'string' }, description: { type: 'string' } },
            },
            state: {
              type: 'string',
              enum: ['ready', 'unavailable', 'waiting'],
              description: 'waiting: a publish path with no publisher',
            },
            reason: { type: 'string', description: 'Why the path cannot be played now' },
            tracks: { type: 'array', items: ref('Track') },
            readers: { type: 'integer', description: 'Player sessions, RTSP and WebRTC' },
            webrtcReaders: { type: 'integer', description: 'Of which WebRTC (WHEP)' },
            publisher: {
              description: 'Publish paths only',
              oneOf: [
                { type: 'null' },
                {
                  type: 'object',
                  required: ['sessionId', 'address', 'port', 'since'],
                  properties: {
                    sessionId: { type: 'string' },
                    address: { type: 'string' },
                    port: { type: 'integer' },
                    since: { type: 'string', format: 'date-time' },
                  },
                },
              ],
            },
            bitrate: nullable('integer', { description: 'RTP bits per second over the last 5 s' }),
          },
        },
        Session: {
          type: 'object',
          required: [
            'id',
            'address',
            'port',
            'path',
            'transport',
            'state',
            'packets',
            'bytes',
            'drops',
            'startedAt',
            'tracks',
          ],
          properties: {
            id: { type: 'string' },
            address: { type: 'string' },
            port: { type: 'integer' },
            path: { type: 'string' },
            transport: { type: 'string', enum: ['udp', 'tcp', 'multicast'] },
            state: { type: 'string', enum: ['ready', 'playing', 'paused', 'recording', 'ended'] },
            packets: { type: 'integer' },
            bytes: { type: 'integer' },
            drops: { type: 'integer', description: 'Batches dropped for this client' },
            queuedBytes: { type: 'integer' },
            loss: nullable('number', {
              description: "Loss fraction 0..1 of the client's last RTCP receiver report",
            }),
            packetsLost: nullable('integer'),
            jitterMs: nullable('number', { description: "Interarrival jitter of the client's last report" }),
            startedAt: { type: 'string', format: 'date-time' },
            lastActivityAt: { type: 'string', format: 'date-time' },
            tracks: {
              type: 'array',
              items: {
                type: 'object',
                required: ['control', 'transport', 'packets', 'bytes'],
                properties: {
                  control: { type: 'string' },
                  transport: { type: 'string' },
                  packets: { type: 'integer' },
                  bytes: { type: 'integer' },
                  loss: nullable('number'),
                  packetsLost: nullable('integer'),
                  jitterMs: nullable('number'),
                },
              },
            },
          },
        },
        ReloadResult: {
          type: 'object',
          required: ['added', 'restarted', 'removed', 'kept', 'errors'],
          properties: {
            added: { type: 'array', items: { type: 'string' } },
            restarted: { type: 'array', items: { type: 'string' } },
            removed: { type: 'array', items: { type: 'string' } },
            kept: { type: 'array', items: { type: 'string' } },
            errors: { type: 'object', additionalProperties: { type: 'string' } },
          },
        },
      },
    },
  };
}
