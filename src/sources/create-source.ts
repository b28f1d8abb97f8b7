import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { AnnexBFileSource } from './annexb-file.js';
import { FfmpegSource } from './ffmpeg.js';
import { Mp4FileSource } from './mp4-file.js';
import { RelaySource, type RelayTransport } from './relay.js';
import type { Source } from './source.js';
import { TestPatternSource } from './testpattern/source.js';

/** What `createSource` builds: the same shapes as a path in the CLI's config file. */
export type SourceSpec =
  | {
      source: 'pattern';
      width?: number;
      height?: number;
      fps?: number;
      /** Keyframe interval in seconds (default 2). */
      gop?: number;
      /** A G.711 sound track: a tone, a beep each second. */
      audio?: boolean;
      /** Burned into the picture (e.g. the path). */
      label?: string;
    }
  | {
      source: 'file';
      /** `.264`/`.h264`, `.265`/`.h265`/`.hevc` (Annex-B), or anything the demuxer reads (MP4, MOV, MKV). */
      file: string;
      /** Frame rate of an Annex-B file whose SPS has no timing info (default 25). */
      fps?: number;
      /** Start again at the end (default true). */
      loop?: boolean;
    }
  | {
      source: 'ffmpeg';
      /** ffmpeg's input arguments (see FfmpegSourceOptions.args). */
      ffmpeg: string | string[];
      /** Keyframe interval in seconds of video ffmpeg encodes (default 2). */
      gop?: number;
    }
  | {
      source: 'relay';
      /** `rtsp://[user:pass@]host[:port]/path` of the upstream. */
      url: string;
      transport?: RelayTransport;
      /** Pull only while someone plays (see RelaySourceOptions.onDemand). */
      onDemand?: boolean;
      lingerMs?: number;
    };

const ANNEXB = /\.(264|h264|265|h265|hevc)$/i;

/**
 * Builds the source a spec names, not yet opened: then `open()`, add the stream with the codecs it
 * gives, `start(stream)`. An ffmpeg source serves before ffmpeg is up (503 meanwhile, see
 * FfmpegSourceOptions.lateTracks). Throws for a file that does not exist.
 */
export function createSource(spec: SourceSpec): Source {
  switch (spec.source) {
    case 'pattern':
      return new TestPatternSource({
        width: spec.width,
        height: spec.height,
        fps: spec.fps,
        gopFrames: Math.max(1, Math.round((spec.gop ?? 2) * (spec.fps ?? 25))),
        label: spec.label,
        audio: spec.audio === true,
      });
    case 'relay':
      return new RelaySource({
        url: spec.url,
        transport: spec.transport,
        onDemand: spec.onDemand,
        lingerMs: spec.lingerMs,
      });
    case 'ffmpeg':
      return new FfmpegSource({ args: spec.ffmpeg, gopSeconds: spec.gop, lateTracks: true });
    case 'file': {
      if (!existsSync(spec.file)) throw new Error(`no such file: ${spec.file}`);
      const loop = spec.loop !== false;
      if (ANNEXB.test(spec.file)) {
        const ext = extname(spec.file).toLowerCase();
        const codec = ext === '.264' || ext === '.h264' ? 'H264' : 'H265';
        return new AnnexBFileSource({ file: spec.file, fps: spec.fps, loop, codec });
      }
      return new Mp4FileSource({ file: spec.file, loop });
    }
  }
}
