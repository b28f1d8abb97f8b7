import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { MediaFormatError } from '../../../../src/codecs/errors.js';
import {
  h264FmtpFromParameterSets,
  h264ProfileLevelId,
  parseH264Fmtp,
} from '../../../../src/codecs/h264/sdp.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// libx264 baseline 640x480 (see sps.test.ts).
const SPS = hex('6742c01ed900a03db011000003000100000300320f162e48');
const PPS = hex('68cb83cb20');

describe('h264FmtpFromParameterSets', () => {
  it('writes mode 1, upper-case profile-level-id (as ffmpeg and live555 do) and base64 parameter sets', () => {
    assert.equal(
      h264FmtpFromParameterSets(SPS, PPS),
      'packetization-mode=1;profile-level-id=42C01E;sprop-parameter-sets=Z0LAHtkAoD2wEQAAAwABAAADADIPFi5I,aMuDyyA=',
    );
  });

  it('takes profile-level-id from the three bytes after the SPS header', () => {
    assert.equal(h264ProfileLevelId(hex('67 64 00 28 ac')), '640028');
    assert.equal(h264ProfileLevelId(hex('67 f4 00 0d')), 'F4000D');
  });

  it('refuses what is not an SPS / PPS', () => {
    assert.throws(() => h264FmtpFromParameterSets(PPS, PPS), MediaFormatError);
    assert.throws(() => h264FmtpFromParameterSets(hex('67 42'), PPS), MediaFormatError);
    assert.throws(() => h264FmtpFromParameterSets(SPS, SPS), /not a PPS/);
  });
});

describe('parseH264Fmtp', () => {
  it('reads back what h264FmtpFromParameterSets writes', () => {
    const fmtp = parseH264Fmtp(h264FmtpFromParameterSets(SPS, PPS));
    assert.equal(fmtp.packetizationMode, 1);
    assert.equal(fmtp.profileLevelId, '42C01E');
    assert.deepEqual(fmtp.sps, SPS);
    assert.deepEqual(fmtp.pps, PPS);
    assert.deepEqual(fmtp.parameterSets, [SPS, PPS]);
  });

  it('parses the RFC 6184 section 8.2.1 example with spaces and the payload type in front', () => {
    const fmtp = parseH264Fmtp(
      '98 profile-level-id=42A01E; packetization-mode=1; sprop-parameter-sets=Z0IACpZTBYmI,aMljiA==',
    );
    assert.equal(fmtp.profileLevelId, '42A01E');
    assert.equal(fmtp.packetizationMode, 1);
    assert.deepEqual(fmtp.sps, hex('67 42 00 0a 96 53 05 89 88'));
    assert.deepEqual(fmtp.pps, hex('68 c9 63 88'));
    assert.equal(fmtp.parameters.get('packetization-mode'), '1');
  });

  it('defaults packetization-mode to 0 and tolerates missing or odd parameters', () => {
    const fmtp = parseH264Fmtp('profile-level-id=4d401f;level-asymmetry-allowed;Sprop-Parameter-Sets=');
    assert.equal(fmtp.packetizationMode, 0);
    assert.equal(fmtp.profileLevelId, '4D401F');
    assert.equal(fmtp.sps, null);
    assert.equal(fmtp.pps, null);
    assert.equal(fmtp.parameters.get('level-asymmetry-allowed'), '');
    assert.deepEqual(parseH264Fmtp('').parameterSets, []);
  });

  it('keeps every parameter set and picks the first SPS and PPS', () => {
    const fmtp = parseH264Fmtp('sprop-parameter-sets=aMuDyyA=,Z0LAHtkAoD2wEQAAAwABAAADADIPFi5I,aMljiA==');
    assert.equal(fmtp.parameterSets.length, 3);
    assert.deepEqual(fmtp.sps, SPS);
    assert.deepEqual(fmtp.pps, PPS);
  });

  it('throws MediaFormatError on bad values', () => {
    assert.throws(() => parseH264Fmtp('sprop-parameter-sets=Z0I*AC'), /not base64/);
    assert.throws(() => parseH264Fmtp('sprop-parameter-sets=='), /not base64/);
    assert.throws(() => parseH264Fmtp('packetization-mode=3'), /packetization-mode/);
    assert.throws(() => parseH264Fmtp('profile-level-id=42C0'), /profile-level-id/);
  });
});
