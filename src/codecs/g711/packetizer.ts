/**
 * G.711 over RTP (RFC 3551 4.5.14): PCMU (static payload type 0) and PCMA (8), 8000 Hz, one byte
 * per sample. What is pushed is cut into packets of `samplesPerPacket` (default 160 = 20 ms, the
 * RFC 3551 default packetization); packet i of a push is timed `i * samplesPerPacket` after the first.
 * The marker is set on the first packet of a talkspurt (RFC 3551 4.1): the first packet sent, and
 * any push that does not follow on from where the previous one ended.
 */
import type { RtpBatchWriter, RtpPacketBatch } from '../../rtp/batch.js';
import { patchAudioBatch } from '../generic/rtp-patch.js';

export type G711Law = 'mulaw' | 'alaw';

export interface G711PacketizerOptions {
  law: G711Law;
  /** Samples (bytes) per packet, default 160. */
  samplesPerPacket?: number;
}

export class G711Packetizer {
  readonly law: G711Law;
  private readonly samplesPerPacket: number;
  private expectedTimestamp: number | undefined;

  constructor(options: G711PacketizerOptions) {
    if (options.law !== 'mulaw' && options.law !== 'alaw') {
      throw new RangeError(`G.711 law must be 'mulaw' or 'alaw', got ${String(options.law)}`);
    }
    const samplesPerPacket = options.samplesPerPacket ?? 160;
    if (!Number.isInteger(samplesPerPacket) || samplesPerPacket < 1 || samplesPerPacket > 0xffff - 12) {
      throw new RangeError(`samplesPerPacket must be 1..65523, got ${samplesPerPacket}`);
    }
    this.law = options.law;
    this.samplesPerPacket = samplesPerPacket;
  }

  /** RTP timestamp right after the last packetized sample (undefined before the first). */
  get nextTimestamp(): number | undefined {
    return this.expectedTimestamp;
  }

  /** Packetizes G.711 bytes whose first sample is at `rtpTimestamp`. An empty input gives an empty batch. */
  packetize(samples: Buffer, rtpTimestamp: number, writer: RtpBatchWriter): RtpPacketBatch {
    const per = this.samplesPerPacket;
    const count = Math.ceil(samples.length / per);
    writer.begin(count, samples.length, rtpTimestamp, true);
    const buf = writer.buffer;
    const timestamps = new Array<number>(count);
    for (let i = 0; i < count; i++) {
      const start = i * per;
      const end = Math.min(start + per, samples.length);
      samples.copy(buf, writer.startPacket(end - start), start, end);
      timestamps[i] = (rtpTimestamp + start) >>> 0;
    }
    const batch = writer.finish();
    if (count > 0) {
      patchAudioBatch(batch, timestamps, this.expectedTimestamp !== rtpTimestamp >>> 0);
      this.expectedTimestamp = (rtpTimestamp + samples.length) >>> 0;
    }
    return batch;
  }
}
