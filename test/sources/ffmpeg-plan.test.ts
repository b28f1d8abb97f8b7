// What the ffmpeg source asks of ffmpeg: stream listings read from real ffmpeg 5.1 stderr, and the
// command lines built from them (copy what RTP carries, encode the rest, respect named codecs).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  describePlan,
  ffmpegCommand,
  ffmpegErrorLines,
  parseFfmpegStreams,
  planFfmpegTracks,
  redactCredentials,
} from '../../src/sources/ffmpeg-plan.js';

// `ffmpeg -hide_banner -nostdin -loglevel info -f lavfi -i testsrc2=... -f lavfi -i sine=... -t 0 -f null -`
const RAW_AND_PCM = `Input #0, lavfi, from 'testsrc2=size=320x240:rate=25':
  Duration: N/A, start: 0.000000, bitrate: N/A
  Stream #0:0: Video: rawvideo (I420 / 0x30323449), yuv420p, 320x240 [SAR 1:1 DAR 4:3], 25 tbr, 25 tbn
Input #1, lavfi, from 'sine=frequency=440':
  Duration: N/A, start: 0.000000, bitrate: 705 kb/s
  Stream #1:0: Audio: pcm_s16le, 44100 Hz, mono, s16, 705 kb/s
Stream mapping:
  Stream #0:0 -> #0:0 (rawvideo (native) -> wrapped_avframe (native))
  Stream #1:0 -> #0:1 (pcm_s16le (native) -> pcm_s16le (native))
Output #0, null, to 'pipe:':
  Metadata:
    encoder         : Lavf59.27.100
  Stream #0:0: Video: wrapped_avframe, yuv420p(progressive), 320x240 [SAR 1:1 DAR 4:3], q=2-31, 200 kb/s, 25 fps, 25 tbn
    Metadata:
      encoder         : Lavc59.37.100 wrapped_avframe
  Stream #0:1: Audio: pcm_s16le, 44100 Hz, mono, s16, 705 kb/s
    Metadata:
      encoder         : Lavc59.37.100 pcm_s16le
frame=    0 fps=0.0 q=0.0 size=N/A time=00:00:00.00 bitrate=N/A speed=   0x    \rframe=    0 fps=0.0 q=0.0 Lsize=N/A time=00:00:00.00 bitrate=N/A speed=   0x    
video:0kB audio:0kB subtitle:0kB other streams:0kB global headers:0kB muxing overhead: unknown
Output file is empty, nothing was encoded (check -ss / -t / -frames parameters if used)
`;

// `... -re -stream_loop -1 -i av.mp4 -t 0 -f null -` (H.264 + AAC in MP4)
const H264_AND_AAC = `Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'av.mp4':
  Metadata:
    major_brand     : isom
    minor_version   : 512
    compatible_brands: isomiso2avc1mp41
    encoder         : Lavf59.27.100
  Duration: 00:00:01.00, start: 0.000000, bitrate: 225 kb/s
  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), 160x120 [SAR 1:1 DAR 4:3], 135 kb/s, 25 fps, 25 tbr, 12800 tbn (default)
    Metadata:
      handler_name    : VideoHandler
      vendor_id       : [0][0][0][0]
      encoder         : Lavc59.37.100 libx264
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, mono, fltp, 70 kb/s (default)
    Metadata:
      handler_name    : SoundHandler
      vendor_id       : [0][0][0][0]
Stream mapping:
  Stream #0:0 -> #0:0 (h264 (native) -> wrapped_avframe (native))
  Stream #0:1 -> #0:1 (aac (native) -> pcm_s16le (native))
Output #0, null, to 'pipe:':
  Metadata:
    major_brand     : isom
    minor_version   : 512
    compatible_brands: isomiso2avc1mp41
    encoder         : Lavf59.27.100
  Stream #0:0(und): Video: wrapped_avframe, yuv420p(progressive), 160x120 [SAR 1:1 DAR 4:3], q=2-31, 200 kb/s, 25 fps, 25 tbn (default)
    Metadata:
      handler_name    : VideoHandler
      vendor_id       : [0][0][0][0]
      encoder         : Lavc59.37.100 wrapped_avframe
  Stream #0:1(und): Audio: pcm_s16le, 44100 Hz, mono, s16, 705 kb/s (default)
    Metadata:
      handler_name    : SoundHandler
      vendor_id       : [0][0][0][0]
      encoder         : Lavc59.37.100 pcm_s16le
frame=    0 fps=0.0 q=0.0 size=N/A time=00:00:00.00 bitrate=N/A speed=   0x    
video:0kB audio:0kB subtitle:0kB other streams:0kB global headers:0kB muxing overhead: unknown
Output file is empty, nothing was encoded (check -ss / -t / -frames parameters if used)
`;

// `... -i mj.avi -t 0 -f null -` (MJPEG in AVI, as many USB cameras send)
const MJPEG = `Input #0, avi, from 'mj.avi':
  Metadata:
    software        : Lavf59.27.100
  Duration: 00:00:01.00, start: 0.000000, bitrate: 735 kb/s
  Stream #0:0: Video: mjpeg (Baseline) (MJPG / 0x47504A4D), yuvj420p(pc, bt470bg/unknown/unknown), 160x120 [SAR 1:1 DAR 4:3], 712 kb/s, 25 fps, 25 tbr, 25 tbn
Stream mapping:
  Stream #0:0 -> #0:0 (mjpeg (native) -> wrapped_avframe (native))
Output #0, null, to 'pipe:':
  Metadata:
    software        : Lavf59.27.100
    encoder         : Lavf59.27.100
  Stream #0:0: Video: wrapped_avframe, yuvj420p(pc, bt470bg/unknown/unknown, progressive), 160x120 [SAR 1:1 DAR 4:3], q=2-31, 200 kb/s, 25 fps, 25 tbn
    Metadata:
      encoder         : Lavc59.37.100 wrapped_avframe
`;

// `... -f lavfi -i testsrc2 -f lavfi -i sine -filter_complex "[0:v]scale=100:100[v]" -map "[v]" -map 1:a ...`
const FILTER_GRAPH = `Input #0, lavfi, from 'testsrc2':
  Duration: N/A, start: 0.000000, bitrate: N/A
  Stream #0:0: Video: rawvideo (I420 / 0x30323449), yuv420p, 320x240 [SAR 1:1 DAR 4:3], 25 tbr, 25 tbn
Input #1, lavfi, from 'sine':
  Duration: N/A, start: 0.000000, bitrate: 705 kb/s
  Stream #1:0: Audio: pcm_s16le, 44100 Hz, mono, s16, 705 kb/s
Stream mapping:
  Stream #0:0 (rawvideo) -> scale:default (graph 0)
  scale:default (graph 0) -> Stream #0:0 (wrapped_avframe)
  Stream #1:0 -> #0:1 (pcm_s16le (native) -> pcm_s16le (native))
Output #0, null, to 'pipe:':
  Metadata:
    encoder         : Lavf59.27.100
  Stream #0:0: Video: wrapped_avframe, yuv420p(tv, progressive), 100x100 [SAR 4:3 DAR 4:3], q=2-31, 200 kb/s, 25 fps, 25 tbn
  Stream #0:1: Audio: pcm_s16le, 44100 Hz, mono, s16, 705 kb/s
`;

// Failures: `-rtsp_transport tcp -i rtsp://127.0.0.1:9/x`, `-f v4l2 -i /dev/video0`, `-vf foo`.
const REFUSED = `[tcp @ 0x557f1dae15c0] Connection to tcp://127.0.0.1:9?timeout=0 failed: Connection refused
rtsp://127.0.0.1:9/x: Connection refused
`;
const NO_CAMERA = `[video4linux2,v4l2 @ 0x558aa9eae8c0] Cannot open video device /dev/video0: No such file or directory
/dev/video0: No such file or directory
`;
const BAD_FILTER = `Input #0, lavfi, from 'testsrc2':
  Duration: N/A, start: 0.000000, bitrate: N/A
  Stream #0:0: Video: rawvideo (I420 / 0x30323449), yuv420p, 320x240 [SAR 1:1 DAR 4:3], 25 tbr, 25 tbn
Stream mapping:
  Stream #0:0 -> #0:0 (rawvideo (native) -> wrapped_avframe (native))
[AVFilterGraph @ 0x5583cca2bc40] No such filter: 'foo'
Error reinitializing filters!
Failed to inject frame into filter network: Invalid argument
Error while processing the decoded data for stream #0:0
Conversion failed!
`;

/** The output options between the user's arguments and `-f mpegts`. */
function added(user: string[], stderr: string, gopSeconds?: number): string[] {
  const cmd = ffmpegCommand(user, planFfmpegTracks(user, parseFfmpegStreams(stderr)), { gopSeconds });
  const start = cmd.indexOf('-loglevel') + 2 + user.length;
  return cmd.slice(start, cmd.lastIndexOf('-f'));
}

const X264 = (spec: string, gop: number) => [
  `-c:${spec}`,
  'libx264',
  `-preset:${spec}`,
  'ultrafast',
  `-tune:${spec}`,
  'zerolatency',
  `-pix_fmt:${spec}`,
  'yuv420p',
  `-bf:${spec}`,
  '0',
  `-force_key_frames:${spec}`,
  `expr:gte(t,n_forced*${gop})`,
];

describe('parseFfmpegStreams', () => {
  it('reads the input streams, the output streams and what feeds each', () => {
    assert.deepEqual(parseFfmpegStreams(RAW_AND_PCM), {
      inputs: [
        { id: '0:0', kind: 'video', codec: 'rawvideo' },
        { id: '1:0', kind: 'audio', codec: 'pcm_s16le' },
      ],
      outputs: [
        { index: 0, kind: 'video', source: '0:0' },
        { index: 1, kind: 'audio', source: '1:0' },
      ],
    });
    // Stream ids with PIDs and languages; metadata lines in between.
    assert.deepEqual(parseFfmpegStreams(H264_AND_AAC).inputs, [
      { id: '0:0', kind: 'video', codec: 'h264' },
      { id: '0:1', kind: 'audio', codec: 'aac' },
    ]);
    assert.deepEqual(parseFfmpegStreams(MJPEG).inputs, [{ id: '0:0', kind: 'video', codec: 'mjpeg' }]);
    // A filter graph's output has no input stream of its own.
    assert.deepEqual(parseFfmpegStreams(FILTER_GRAPH).outputs, [
      { index: 0, kind: 'video', source: undefined },
      { index: 1, kind: 'audio', source: '1:0' },
    ]);
    assert.deepEqual(parseFfmpegStreams(REFUSED), { inputs: [], outputs: [] });
  });

  it('finds the lines that say what went wrong, without addresses or passwords', () => {
    assert.equal(
      ffmpegErrorLines(REFUSED),
      '[tcp] Connection to tcp://127.0.0.1:9?timeout=0 failed: Connection refused; rtsp://127.0.0.1:9/x: Connection refused',
    );
    assert.equal(ffmpegErrorLines(NO_CAMERA, 1), '/dev/video0: No such file or directory');
    assert.match(ffmpegErrorLines(BAD_FILTER, 5), /^\[AVFilterGraph\] No such filter: 'foo'; /);
    assert.equal(
      ffmpegErrorLines(H264_AND_AAC, 1),
      'Output file is empty, nothing was encoded (check -ss / -t / -frames parameters if used)',
    );
    assert.equal(
      redactCredentials('rtsp://admin:s3cret@10.0.0.7/x: Connection refused'),
      'rtsp://***@10.0.0.7/x: Connection refused',
    );
  });
});

describe('planFfmpegTracks and ffmpegCommand', () => {
  it('H.264 + AAC input: both copied', () => {
    const user = ['-re', '-i', 'av.mp4'];
    const plan = planFfmpegTracks(user, parseFfmpegStreams(H264_AND_AAC));
    assert.deepEqual(plan.map(describePlan), ['track 0 video h264 (copied)', 'track 1 audio aac (copied)']);
    assert.deepEqual(added(user, H264_AND_AAC), ['-c:v', 'copy', '-c:a', 'copy', '-sn', '-dn']);
  });

  it('raw video + PCM input: H.264 with low-latency settings and a keyframe every gop seconds, AAC', () => {
    const user = ['-f', 'lavfi', '-i', 'testsrc2', '-f', 'lavfi', '-i', 'sine'];
    const plan = planFfmpegTracks(user, parseFfmpegStreams(RAW_AND_PCM));
    assert.deepEqual(plan.map(describePlan), [
      'track 0 video rawvideo → h264 (encoded)',
      'track 1 audio pcm_s16le → aac (encoded)',
    ]);
    assert.deepEqual(added(user, RAW_AND_PCM, 3), [...X264('v', 3), '-c:a', 'aac', '-sn', '-dn']);
    assert.deepEqual(added(user, RAW_AND_PCM).slice(10, 12), [
      '-force_key_frames:v',
      'expr:gte(t,n_forced*2)',
    ]);
  });

  it('a codec the arguments name is left alone; the other kind is still decided here', () => {
    const user = [
      '-f',
      'lavfi',
      '-i',
      'testsrc2',
      '-f',
      'lavfi',
      '-i',
      'sine',
      '-c:v',
      'libx264',
      '-g',
      '50',
    ];
    const plan = planFfmpegTracks(user, parseFfmpegStreams(RAW_AND_PCM));
    assert.deepEqual(plan.map(describePlan), [
      'track 0 video rawvideo → libx264 (as the arguments say)',
      'track 1 audio pcm_s16le → aac (encoded)',
    ]);
    assert.deepEqual(added(user, RAW_AND_PCM), ['-c:a', 'aac', '-sn', '-dn']);
    // -vcodec and -acodec, and -c for every kind.
    const both = ['-i', 'x', '-vcodec', 'libx265', '-acodec', 'libopus'];
    assert.deepEqual(added(both, RAW_AND_PCM), ['-sn', '-dn']);
    assert.deepEqual(added(['-i', 'x', '-c', 'copy'], RAW_AND_PCM), ['-sn', '-dn']);
  });

  it('MJPEG video is encoded; filtered video is encoded even when its input is H.264', () => {
    const plan = planFfmpegTracks(['-i', 'mj.avi'], parseFfmpegStreams(MJPEG));
    assert.deepEqual(plan.map(describePlan), ['track 0 video mjpeg → h264 (encoded)']);
    assert.deepEqual(added(['-i', 'mj.avi'], MJPEG), [...X264('v', 2), '-sn', '-dn']);
    assert.deepEqual(added(['-i', 'av.mp4', '-vf', 'scale=80:-2'], H264_AND_AAC), [
      ...X264('v', 2),
      '-c:a',
      'copy',
      '-sn',
      '-dn',
    ]);
    assert.deepEqual(planFfmpegTracks([], parseFfmpegStreams(FILTER_GRAPH)).map(describePlan), [
      'track 0 video filtered → h264 (encoded)',
      'track 1 audio pcm_s16le → aac (encoded)',
    ]);
  });

  it('mixed decisions for one kind address each stream by its place', () => {
    const streams = {
      inputs: [
        { id: '0:0', kind: 'video' as const, codec: 'h264' },
        { id: '1:0', kind: 'video' as const, codec: 'mjpeg' },
      ],
      outputs: [
        { index: 0, kind: 'video' as const, source: '0:0' },
        { index: 1, kind: 'video' as const, source: '1:0' },
      ],
    };
    const cmd = ffmpegCommand(['-i', 'a', '-i', 'b'], planFfmpegTracks([], streams));
    assert.deepEqual(cmd.slice(cmd.indexOf('b') + 1, cmd.indexOf('b') + 5), [
      '-c:v:0',
      'copy',
      '-c:v:1',
      'libx264',
    ]);
  });
});
