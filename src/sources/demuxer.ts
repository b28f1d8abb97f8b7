// mediabunny (bundled, see src/vendor/mediabunny.ts) is loaded the first time a file or ffmpeg source
// opens, not when the library is imported: an application that only pushes its own frames never pays
// for parsing it (a fifth of the package's import time).
import type * as Mediabunny from '../vendor/mediabunny.js';

export type Demuxer = typeof Mediabunny;

let loaded: Promise<Demuxer> | undefined;

export function loadDemuxer(): Promise<Demuxer> {
  loaded ??= import('../vendor/mediabunny.js');
  return loaded;
}
