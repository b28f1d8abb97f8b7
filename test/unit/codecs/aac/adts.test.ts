// Fixture, made once with:
//   ffmpeg -f lavfi -i sine=frequency=1000:sample_rate=44100:duration=0.1 -ac 2 -c:a aac -b:a 64k \
//     -fflags +bitexact -flags:a +bitexact -f adts sine-44100-stereo.aac
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  adtsAudioSpecificConfig,
  isAdts,
  parseAdts,
  parseAdtsHeader,
  splitAdts,
} from '../../../../src/codecs/aac/adts.js';
import { buildAudioSpecificConfig, parseAudioSpecificConfig } from '../../../../src/codecs/aac/config.js';
import { aacFmtp, parseMpeg4GenericFmtp } from '../../../../src/codecs/aac/sdp.js';
import { MediaFormatError } from '../../../../src/codecs/errors.js';

const FIXTURE = readFileSync(new URL('./fixtures/sine-44100-stereo.aac', import.meta.url));
/** aac_frame_length of each frame, as `ffprobe -show_entries packet=size` lists them. */
const FRAME_LENGTHS = [161, 276, 209, 168, 228, 14];

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** The first fixture frame rewritten with protection_absent = 0 and a CRC word after the header. */
function withCrc(frame: Buffer): Buffer {
  const out = Buffer.concat([frame.subarray(0, 7), hex('beef'), frame.subarray(7)]);
  out[1] &= 0xfe; // protection_absent = 0
  const length = out.length;
  out[3] = (out[3] & 0xfc) | (length >> 11);
  out[4] = (length >> 3) & 0xff;
  out[5] = (out[5] & 0x1f) | ((length & 7) << 5);
  return out;
}

describe('ADTS', () => {
  it("splits ffmpeg's ADTS output into its frames and strips the headers", () => {
    const frames = parseAdts(FIXTURE);
    assert.deepEqual(
      frames.map((f) => f.header.frameLength),
      FRAME_LENGTHS,
    );
    let offset = 0;
    for (const frame of frames) {
      assert.equal(frame.offset, offset);
      assert.deepEqual(frame.data, FIXTURE.subarray(offset + 7, offset + frame.header.frameLength));
      offset += frame.header.frameLength;
    }
    assert.equal(offset, FIXTURE.length);
    assert.deepEqual(frames[0].header, {
      mpegVersion: 4,
      protectionAbsent: true,
      objectType: 2,
      samplingFrequencyIndex: 4,
      sampleRate: 44100,
      channelConfiguration: 2,
      channels: 2,
      frameLength: 161,
      headerLength: 7,
      bufferFullness: 0x7ff,
      rawDataBlocks: 1,
    });
  });

  it('builds the AudioSpecificConfig 1210 from the header (AAC LC, 44.1 kHz, stereo)', () => {
    const header = parseAdtsHeader(FIXTURE);
    assert.deepEqual(adtsAudioSpecificConfig(header), hex('1210'));
  });

  it('skips the CRC of a protected frame', () => {
    const first = FIXTURE.subarray(0, FRAME_LENGTHS[0]);
    const protectedFrame = withCrc(first);
    const [frame] = parseAdts(protectedFrame);
    assert.equal(frame.header.protectionAbsent, false);
    assert.equal(frame.header.headerLength, 9);
    assert.equal(frame.header.frameLength, FRAME_LENGTHS[0] + 2);
    assert.deepEqual(frame.data, first.subarray(7));
  });

  it('returns a frame cut off at the end as the rest, for the next chunk', () => {
    for (const cut of [1, 2, 6, 7, 100, FRAME_LENGTHS[0] + 5]) {
      const { frames, rest } = splitAdts(FIXTURE.subarray(0, FRAME_LENGTHS[0] + cut));
      assert.equal(frames.length, 1, `cut ${cut}`);
      assert.equal(rest.length, cut);
      const again = splitAdts(Buffer.concat([rest, FIXTURE.subarray(FRAME_LENGTHS[0] + cut)]));
      assert.equal(again.frames.length, FRAME_LENGTHS.length - 1);
      assert.equal(again.rest.length, 0);
    }
    assert.throws(() => parseAdts(FIXTURE.subarray(0, 200)), MediaFormatError);
  });

  it('rejects what is not ADTS with a MediaFormatError', () => {
    assert.equal(isAdts(hex('fff1')), true);
    assert.equal(isAdts(hex('fff3')), false, 'layer 1');
    assert.equal(isAdts(hex('ffe1')), false);
    const bad = (bytes: Buffer) => assert.throws(() => parseAdts(bytes), MediaFormatError);
    bad(hex('00 01 02 03 04 05 06 07'));
    bad(Buffer.concat([FIXTURE.subarray(0, 161), hex('12 34 56 78 9a bc de f0')]));
    bad(hex('42')); // one stray byte that cannot start a header
    // Sampling frequency index 13 (reserved).
    bad(hex('fff1 7480 143f fc'));
    // aac_frame_length 5, shorter than the header.
    bad(hex('fff1 5080 00bf fc'));
    // Two raw data blocks in one frame.
    const two = Buffer.from(FIXTURE.subarray(0, 161));
    two[6] |= 0x01;
    bad(two);
    // Channel configuration 0: no config can be derived from the header alone.
    const pce = Buffer.from(FIXTURE.subarray(0, 7));
    pce[2] &= 0xfe;
    pce[3] &= 0x3f;
    assert.throws(() => adtsAudioSpecificConfig(parseAdtsHeader(pce)), MediaFormatError);
  });
});

describe('AudioSpecificConfig', () => {
  it('writes the RFC 3640 3.3.6 example config 11B0 (AAC LC, 48 kHz, 5.1)', () => {
    const config = buildAudioSpecificConfig({ objectType: 2, sampleRate: 48000, channelConfiguration: 6 });
    assert.equal(config.toString('hex').toUpperCase(), '11B0');
    assert.deepEqual(parseAudioSpecificConfig('11B0'), {
      objectType: 2,
      samplingFrequencyIndex: 3,
      sampleRate: 48000,
      channelConfiguration: 6,
      channels: 6,
      frameLength: 1024,
    });
  });

  it('escapes object types above 30 and writes rates outside the table out', () => {
    // 11111 000001 (31, then 33 - 32) 1111 (index 15) 0x00c350 (50000) 0001, padded: 43 bits.
    const config = buildAudioSpecificConfig({ objectType: 33, sampleRate: 50000, channelConfiguration: 1 });
    assert.equal(config.toString('hex'), 'f83e0186a020');
    const info = parseAudioSpecificConfig(config);
    assert.equal(info.objectType, 33);
    assert.equal(info.sampleRate, 50000);
    assert.equal(info.samplingFrequencyIndex, 15);
    assert.equal(info.channelConfiguration, 1);
  });

  it('reads explicit HE-AAC signalling and the 960-sample frame flag', () => {
    // SBR (5), 24 kHz core, stereo, 48 kHz output, AAC LC core.
    assert.deepEqual(parseAudioSpecificConfig('2b1188'), {
      objectType: 5,
      samplingFrequencyIndex: 6,
      sampleRate: 24000,
      channelConfiguration: 2,
      channels: 2,
      extensionSampleRate: 48000,
      frameLength: 1024,
    });
    assert.equal(parseAudioSpecificConfig('1214').frameLength, 960);
    assert.equal(parseAudioSpecificConfig('1238').channels, 8, 'channel configuration 7 is 7.1');
  });

  it('rejects bad configs with a MediaFormatError', () => {
    for (const config of ['', '12', 'zz', '0000', '1690', '178']) {
      assert.throws(() => parseAudioSpecificConfig(config), MediaFormatError, config);
    }
    assert.throws(
      () => buildAudioSpecificConfig({ objectType: 0, sampleRate: 44100, channelConfiguration: 2 }),
      MediaFormatError,
    );
  });
});

describe('mpeg4-generic fmtp', () => {
  it('writes the AAC-hbr parameters', () => {
    assert.equal(
      aacFmtp(hex('1210')),
      'streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1210',
    );
  });

  it('reads the RFC 3640 3.3.6 example line, spaces and capitals included', () => {
    const fmtp = parseMpeg4GenericFmtp(
      '96 streamtype=5; profile-level-id=16; mode=AAC-hbr; config=11B0; sizeLength=13; indexLength=3; ' +
        'indexDeltaLength=3; constantDuration=1024',
    );
    assert.equal(fmtp.mode, 'AAC-hbr');
    assert.equal(fmtp.streamType, 5);
    assert.equal(fmtp.profileLevelId, '16');
    assert.deepEqual(fmtp.config, hex('11b0'));
    assert.equal(fmtp.sizeLength, 13);
    assert.equal(fmtp.indexLength, 3);
    assert.equal(fmtp.indexDeltaLength, 3);
    assert.equal(fmtp.ctsDeltaLength, 0);
    assert.equal(fmtp.randomAccessIndication, false);
    assert.equal(fmtp.constantDuration, 1024);
  });

  it('rejects bad values', () => {
    assert.throws(() => parseMpeg4GenericFmtp('sizelength=x'), MediaFormatError);
    assert.throws(() => parseMpeg4GenericFmtp('sizelength=33'), MediaFormatError);
    assert.throws(() => parseMpeg4GenericFmtp('config=123'), MediaFormatError);
  });
});
