import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { MediaFormatError } from '../../../../src/codecs/errors.js';
import { H265AnnexBReader } from '../../../../src/codecs/h265/annexb.js';
import { h265FmtpFromParameterSets, parseH265Fmtp } from '../../../../src/codecs/h265/sdp.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const CLIP = readFileSync(new URL('./fixtures/clip-640x480-25fps.hevc', import.meta.url));
const [VPS, SPS, PPS] = (() => {
  const reader = new H265AnnexBReader();
  return reader.push(CLIP)[0];
})();

/** What ffmpeg 5.1 writes for the same libx265 settings (`ffmpeg -i clip.hevc -c copy -f rtp -sdp_file`). */
const FFMPEG_FMTP =
  '96 sprop-vps=QAEMAf//AWAAAAMAkAAAAwAAAwBaugJA; ' +
  'sprop-sps=QgEBAWAAAAMAkAAAAwAAAwBaoAUCAeFlukpMLwFoCAAAAwAIAAADAMhA; sprop-pps=RAHAc8GJ';

describe('h265FmtpFromParameterSets', () => {
  it('writes the profile, tier, level and the parameter sets (sprop-* as ffmpeg writes them)', () => {
    assert.equal(
      h265FmtpFromParameterSets(VPS, SPS, PPS),
      'profile-space=0;profile-id=1;tier-flag=0;level-id=90;interop-constraints=900000000000;' +
        'sprop-vps=QAEMAf//AWAAAAMAkAAAAwAAAwBaugJA;' +
        'sprop-sps=QgEBAWAAAAMAkAAAAwAAAwBaoAUCAeFlukpMLwFoCAAAAwAIAAADAMhA;' +
        'sprop-pps=RAHAc8GJ',
    );
  });

  it('writes High tier and Main 10 from the SPS', () => {
    // libx265 -pix_fmt yuv420p10le 1280x720: Main 10, level 3.1.
    const sps = hex('42010102200000030090000003000003005da00280802d136595952930bc05a02000007d20000ea601');
    assert.match(
      h265FmtpFromParameterSets(VPS, sps, PPS),
      /^profile-space=0;profile-id=2;tier-flag=0;level-id=93;/,
    );
  });

  it('refuses NAL units of the wrong types or an unreadable SPS', () => {
    assert.throws(() => h265FmtpFromParameterSets(SPS, SPS, PPS), /VPS expected, got NAL unit type 33/);
    assert.throws(() => h265FmtpFromParameterSets(VPS, PPS, PPS), MediaFormatError);
    assert.throws(() => h265FmtpFromParameterSets(VPS, SPS, hex('44')), /PPS expected, got NAL unit type -1/);
    assert.throws(() => h265FmtpFromParameterSets(VPS, SPS.subarray(0, 8), PPS), MediaFormatError);
  });
});

describe('parseH265Fmtp', () => {
  it("reads ffmpeg's line (payload type, spaces after ';')", () => {
    const fmtp = parseH265Fmtp(FFMPEG_FMTP);
    assert.deepEqual(fmtp.vps, [VPS]);
    assert.deepEqual(fmtp.sps, [SPS]);
    assert.deepEqual(fmtp.pps, [PPS]);
    assert.deepEqual(fmtp.sei, []);
    assert.equal(fmtp.profileId, null);
    assert.equal(fmtp.maxDonDiff, 0);
  });

  it('round-trips what the server writes', () => {
    const fmtp = parseH265Fmtp(h265FmtpFromParameterSets(VPS, SPS, PPS));
    assert.deepEqual(
      {
        profileSpace: fmtp.profileSpace,
        profileId: fmtp.profileId,
        tierFlag: fmtp.tierFlag,
        levelId: fmtp.levelId,
        interopConstraints: fmtp.interopConstraints,
        vps: fmtp.vps,
        sps: fmtp.sps,
        pps: fmtp.pps,
      },
      {
        profileSpace: 0,
        profileId: 1,
        tierFlag: 0,
        levelId: 90,
        interopConstraints: '900000000000',
        vps: [VPS],
        sps: [SPS],
        pps: [PPS],
      },
    );
  });

  it('reads lists, sprop-sei, sprop-max-don-diff and profile-compatibility-indicator', () => {
    const sei = hex('4e01 05 01 aa 80');
    const suffix = hex('5001 84 01 ff 80');
    const fmtp = parseH265Fmtp(
      `Profile-Id=2; sprop-max-don-diff=2; profile-compatibility-indicator=20000000; ` +
        `sprop-sps=${SPS.toString('base64')},${SPS.toString('base64')}; sprop-sei=${sei.toString('base64')}, ${suffix.toString('base64')}`,
    );
    assert.equal(fmtp.profileId, 2);
    assert.equal(fmtp.maxDonDiff, 2);
    assert.equal(fmtp.profileCompatibilityIndicator, '20000000');
    assert.deepEqual(fmtp.sps, [SPS, SPS]);
    assert.deepEqual(fmtp.sei, [sei, suffix]);
    assert.equal(fmtp.parameters.get('profile-id'), '2');
  });

  it('refuses bad values', () => {
    assert.throws(() => parseH265Fmtp('sprop-vps=not*base64'), /not base64/);
    assert.throws(() => parseH265Fmtp(`sprop-sps=${VPS.toString('base64')}`), /NAL unit of type 32/);
    assert.throws(() => parseH265Fmtp('sprop-pps=RA=='), /NAL unit of 1 bytes/);
    assert.throws(() => parseH265Fmtp('level-id=abc'), /bad level-id/);
    assert.throws(() => parseH265Fmtp('tier-flag=2'), /bad tier-flag/);
    assert.throws(() => parseH265Fmtp('profile-id=32'), /bad profile-id/);
    assert.throws(() => parseH265Fmtp('interop-constraints=9000'), /bad interop-constraints/);
    assert.throws(() => parseH265Fmtp('sprop-max-don-diff=-1'), MediaFormatError);
  });
});
