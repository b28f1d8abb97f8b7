/**
 * H.264 and H.265 SPS parsing (from a camera's stream, or sprop-parameter-sets of a peer's SDP).
 * Invariant: nothing but MediaFormatError (the codecs' error) is thrown; a parsed SPS has a positive
 * size and its profile-level-id is its bytes 1..3.
 */
import type { Buffer } from 'node:buffer';
import { h264ProfileLevelId } from '../../src/codecs/h264/sdp.js';
import { parseSps } from '../../src/codecs/h264/sps.js';
import { parseH265Sps } from '../../src/codecs/h265/sps.js';
import { codecTyped, type FuzzTarget, InvariantViolation } from '../engine.js';

export const spsTarget: FuzzTarget = {
  name: 'sps',
  description: 'parseSps, h264ProfileLevelId and parseH265Sps on one NAL unit',
  maxLen: 256,
  dictionary: [
    '\x42\x01',
    '\x42\x01\x01\x01\x60',
    '\x40\x01',
    '\x44\x01',
    '\x67',
    '\x27',
    '\x47',
    '\x67\x42\xc0\x1e',
    '\x67\x64\x00\x28',
    '\x67\x4d\x40\x1f',
    '\x67\x7a\x00\x1f',
    '\x67\xf4\x00\x1f',
    '\x00\x00\x03',
    '\x00\x00\x03\x01',
    '\x00\x00',
    '\x80',
    '\x40',
    '\x20',
    '\x10',
    '\x01',
    '\xff',
    '\x00\x00\x00\x01',
    '\x64',
    '\x6e',
    '\x7a',
    '\xf4',
    '\x2c',
    '\x53',
    '\x56',
    '\x76',
    '\x80',
    '\x8a',
    '\x8b',
    '\x86',
    '\x87',
  ],
  run(data: Buffer) {
    const h265 = codecTyped(() => parseH265Sps(data));
    if (h265 !== undefined && !(h265.width > 0 && h265.height > 0)) {
      throw new InvariantViolation(`parsed H.265 SPS has size ${h265.width}x${h265.height}`);
    }
    const sps = codecTyped(() => parseSps(data));
    if (sps === undefined) return;
    if (!(sps.width > 0 && sps.height > 0 && Number.isInteger(sps.width) && Number.isInteger(sps.height))) {
      throw new InvariantViolation(`parsed SPS has size ${sps.width}x${sps.height}`);
    }
    const plid = h264ProfileLevelId(data);
    if (plid !== data.toString('hex', 1, 4).toUpperCase())
      throw new InvariantViolation(`profile-level-id ${plid}`);
  },
};
