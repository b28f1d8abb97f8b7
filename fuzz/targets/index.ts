import type { FuzzTarget } from '../engine.js';
import { headersTarget } from './headers.js';
import { rtcpTarget } from './rtcp.js';
import { rtpTarget } from './rtp.js';
import { rtspParserTarget } from './rtsp-parser.js';
import { sdpTarget } from './sdp.js';
import { spsTarget } from './sps.js';

/** Every fuzz target by name (the corpus lives in fuzz/corpus/<name>/). */
export const TARGETS: Readonly<Record<string, FuzzTarget>> = {
  [rtspParserTarget.name]: rtspParserTarget,
  [headersTarget.name]: headersTarget,
  [sdpTarget.name]: sdpTarget,
  [rtcpTarget.name]: rtcpTarget,
  [spsTarget.name]: spsTarget,
  [rtpTarget.name]: rtpTarget,
};
