// The library's public surface. CLI-only dependencies (pino, ...) are not reachable from here.

export { parseTimestampSei, SMOLRTSP_TIMESTAMP_SEI_UUID } from './codecs/h264/encoder/sei.js';
export type {
  AacTrackOptions,
  G711Law,
  G711TrackOptions,
  GenericTrackOptions,
  MjpegTrackOptions,
  OpusTrackOptions,
  RtpRandomSource,
} from './media/audio-track-codecs.js';
export {
  AacTrackCodec,
  G711TrackCodec,
  GenericTrackCodec,
  MjpegTrackCodec,
  OpusTrackCodec,
} from './media/audio-track-codecs.js';
export type { H264TrackOptions } from './media/h264-track-codec.js';
export { H264TrackCodec } from './media/h264-track-codec.js';
export type { H265TrackOptions } from './media/h265-track-codec.js';
export { H265TrackCodec } from './media/h265-track-codec.js';
export type { StreamOptions, VideoTrackOptions } from './media/stream.js';
export { rtpRandom, Stream } from './media/stream.js';
export type { PushOptions, TrackCodec, TrackSink, TrackStats } from './media/track.js';
export { Track } from './media/track.js';
export { MediaFormatError, RtspError, RtspHeaderError, RtspParseError } from './protocol/errors.js';
export type { InterleavedFrame, RtspMessage, RtspRequest, RtspResponse } from './protocol/message.js';
export { RtspHeaders } from './protocol/message.js';
export { RtspParser } from './protocol/parser.js';
export { serializeRequest, serializeResponse } from './protocol/serializer.js';
export type { RtpPacketBatch } from './rtp/batch.js';
export type { AuthOptions, AuthRule, AuthUser } from './server/auth.js';
export { createAuthenticator, ha1 } from './server/auth.js';
export type { AuthorizeResult, DispatcherHooks, EndReason, RequestInfo } from './server/dispatcher.js';
export type { IpFilterOptions } from './server/ip-filter.js';
export { createIpFilter } from './server/ip-filter.js';
export type {
  ConnectionInfo,
  RefusalInfo,
  RtspServerEvents,
  RtspServerOptions,
  RtspsOptions,
} from './server/rtsp-server.js';
export { createServer, ListenError, RtspServer, VERSION } from './server/rtsp-server.js';
export type { SessionInfo, SessionState } from './server/session.js';
export type { AnnexBFileSourceOptions } from './sources/annexb-file.js';
export { AnnexBFileSource } from './sources/annexb-file.js';
export type { SourceSpec } from './sources/create-source.js';
/** Builds any built-in source from a spec (`{ source: 'file', file: 'clip.mp4' }`); see Source. */
export { createSource } from './sources/create-source.js';
export type { FfmpegSourceOptions, FfmpegTrackPlan } from './sources/ffmpeg.js';
export { describePlan, FfmpegError, FfmpegSource } from './sources/ffmpeg.js';
export type { Mp4FileSourceOptions } from './sources/mp4-file.js';
export { Mp4FileSource } from './sources/mp4-file.js';
/** What feeds a stream: open → codecs, start(stream), stop(), typed events. Every built-in source is one. */
export type { Source, SourceEvents, SourceListen } from './sources/source.js';
export type { TestPatternSourceOptions, TestPatternStats } from './sources/testpattern/source.js';
export { createTestPattern, TestPatternSource } from './sources/testpattern/source.js';
export { TestPatternEncoder } from './sources/testpattern/test-pattern-encoder.js';
