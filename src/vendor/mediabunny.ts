// The parts of mediabunny (MP4/MKV/MPEG-TS demuxing) that the file and ffmpeg sources use.
//
// The build bundles this file into dist/vendor/mediabunny.js, so the published package does not
// depend on mediabunny: its install is 12 MB where the parts used here bundle to under 1 MB, and it
// depends on @types/dom-webcodecs, which TypeScript loads into every consumer whose tsconfig does not
// list `types` and which clashes with TypeScript 5.9's own DOM types. mediabunny is MPL-2.0: its
// licence ships beside the bundle (dist/vendor/mediabunny.LICENSE) with where its source is.
export {
  ALL_FORMATS,
  EncodedPacketSink,
  FilePathSource,
  Input,
  type InputTrack,
  MPEG_TS,
  ReadableStreamSource,
} from 'mediabunny';
