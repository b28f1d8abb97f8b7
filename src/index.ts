// The library's public surface. CLI-only dependencies (pino, ...) are not reachable from here.

/** The RTSP client: pulls a stream from any RTSP server and gives its depacketized units (see RtspClient). */
export { RtspClientError, RtspResponseError } from './client/errors.js';
export type {
  ClientTrack,
  RtspClientEvents,
  RtspClientFallbackInfo,
  RtspClientOptions,
  RtspClientReconnectInfo,
  RtspClientTransport,
  RtspClientUnit,
  TrackReceptionStats,
} from './client/rtsp-client.js';
export { RtspClient } from './client/rtsp-client.js';
// Depacketizers: the receiving side of each format, for relays, recording and RTSP clients.
export type { AacAccessUnit, AacDepacketizerOptions, AacLayout } from './codecs/aac/depacketizer.js';
export { AacDepacketizer } from './codecs/aac/depacketizer.js';
export { MediaFormatError, PictureOrderError } from './codecs/errors.js';
export type { G711Chunk } from './codecs/g711/depacketizer.js';
export { G711Depacketizer } from './codecs/g711/depacketizer.js';
export type { H264AccessUnit } from './codecs/h264/depacketizer.js';
export { H264Depacketizer } from './codecs/h264/depacketizer.js';
export { parseTimestampSei, SMOLRTSP_TIMESTAMP_SEI_UUID } from './codecs/h264/encoder/sei.js';
export type { H265AccessUnit, H265DepacketizerOptions } from './codecs/h265/depacketizer.js';
export { H265Depacketizer } from './codecs/h265/depacketizer.js';
export type { JpegPicture } from './codecs/mjpeg/depacketizer.js';
export { MjpegDepacketizer } from './codecs/mjpeg/depacketizer.js';
export type { OpusFrame } from './codecs/opus/depacketizer.js';
export { OpusDepacketizer } from './codecs/opus/depacketizer.js';
export type { AacTrackOptions } from './media/formats/aac.js';
export { AacTrackCodec } from './media/formats/aac.js';
export type { G711Law, G711TrackOptions } from './media/formats/g711.js';
export { G711TrackCodec } from './media/formats/g711.js';
export type { GenericTrackOptions } from './media/formats/generic.js';
export { GenericTrackCodec } from './media/formats/generic.js';
export type { H264TrackOptions } from './media/formats/h264.js';
export { H264TrackCodec } from './media/formats/h264.js';
export type { H265TrackOptions } from './media/formats/h265.js';
export { H265TrackCodec } from './media/formats/h265.js';
export type { MjpegTrackOptions } from './media/formats/mjpeg.js';
export { MjpegTrackCodec } from './media/formats/mjpeg.js';
export type { OpusTrackOptions } from './media/formats/opus.js';
export { OpusTrackCodec } from './media/formats/opus.js';
export { MulticastConfigError, type MulticastOptions } from './media/multicast.js';
export type { RtpRandomSource, StreamEvents, StreamOptions, VideoTrackOptions } from './media/stream.js';
export { rtpRandom, Stream } from './media/stream.js';
export type { PushOptions, TrackCodec, TrackSink, TrackStats } from './media/track.js';
export { Track } from './media/track.js';
export { RtspError, RtspHeaderError, RtspParseError } from './protocol/errors.js';
export type { InterleavedFrame, RtspMessage, RtspRequest, RtspResponse } from './protocol/message.js';
export { RtspHeaders } from './protocol/message.js';
export { RtspParser } from './protocol/parser.js';
export { serializeRequest, serializeResponse } from './protocol/serializer.js';
export type { RtpBatchWriter, RtpPacketBatch } from './rtp/batch.js';
export { packetizePayloads } from './rtp/batch.js';
export { RtcpFormatError, RtpFormatError } from './rtp/errors.js';
export type { RtpSenderOptions } from './rtp/sender.js';
export { RtpSender } from './rtp/sender.js';
export type { AuthOptions, AuthRule, AuthUser } from './server/auth.js';
export { createAuthenticator, ha1 } from './server/auth.js';
export type { AuthorizeResult, DispatcherHooks, EndReason, RequestInfo } from './server/dispatcher.js';
export type { IpFilterOptions } from './server/ip-filter.js';
export { createIpFilter } from './server/ip-filter.js';
export type { MulticastSenderInfo } from './server/multicast.js';
export type { IngestStats, PublishEnd, PublishPathOptions } from './server/publish.js';
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
export type { RelaySourceOptions, RelayTransport } from './sources/relay.js';
export { RelaySource } from './sources/relay.js';
export type { Source, SourceEvents, SourceListen } from './sources/source.js';
export type { TestPatternSourceOptions, TestPatternStats } from './sources/testpattern/source.js';
export { createTestPattern, TestPatternSource } from './sources/testpattern/source.js';
export { TestPatternEncoder } from './sources/testpattern/test-pattern-encoder.js';
