/**
 * Packetizers lay out payloads only; the RTP state (SSRC, sequence numbers) is a track's sender,
 * handed to `packetize` as a writer. Tests that drive a packetizer alone give it one here.
 */
import { RtpBatchWriter, type RtpPacketBatch } from '../../src/rtp/batch.js';

interface Packetizing {
  packetize(units: never, rtpTimestamp: number, writer: RtpBatchWriter): RtpPacketBatch;
}

type Unit<P> = P extends { packetize(units: infer U, rtpTimestamp: number, writer: RtpBatchWriter): unknown }
  ? U
  : never;

/** A packetizer bound to its own RTP state: `packetize(units, ts)` as a track would call it. */
export type WithRtpState<P> = Omit<P, 'packetize' | 'packetizeFrame'> & {
  packetize(units: Unit<P>, rtpTimestamp: number): RtpPacketBatch;
  packetizeFrame: P extends { packetizeFrame(frame: infer F, ts: number, w: RtpBatchWriter): RtpPacketBatch }
    ? (frame: F, rtpTimestamp: number) => RtpPacketBatch
    : never;
  readonly nextSequence: number;
  readonly writer: RtpBatchWriter;
};

// The payload type each format's track codec uses by default.
const DEFAULT_PAYLOAD_TYPES: Record<string, number> = {
  H264Packetizer: 96,
  H265Packetizer: 96,
  AacPacketizer: 97,
  OpusPacketizer: 111,
  MjpegPacketizer: 26,
  GenericPacketizer: 96,
};

export function withRtpState<P extends Packetizing>(
  packetizer: P,
  init: { ssrc: number; initialSequence: number; payloadType?: number },
): WithRtpState<P> {
  const law = (packetizer as { law?: string }).law;
  const payloadType =
    init.payloadType ??
    (law === undefined ? DEFAULT_PAYLOAD_TYPES[packetizer.constructor.name] : law === 'mulaw' ? 0 : 8);
  const writer = new RtpBatchWriter({ payloadType, ssrc: init.ssrc, initialSequence: init.initialSequence });
  return new Proxy(packetizer, {
    get(target, prop) {
      if (prop === 'nextSequence') return writer.nextSequence;
      if (prop === 'writer') return writer;
      const value = Reflect.get(target, prop, target);
      if (prop === 'packetize' || prop === 'packetizeFrame') {
        return (units: unknown, ts: number) =>
          (value as (u: unknown, t: number, w: RtpBatchWriter) => RtpPacketBatch).call(
            target,
            units,
            ts,
            writer,
          );
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as unknown as WithRtpState<P>;
}
