// A synthetic H.264 source for load and backpressure tests: the sample's real SPS/PPS, then IDR and P
// slices of chosen sizes filled with random bytes (nobody decodes them), pushed on a 25 fps timer.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { splitAnnexB } from '../../src/codecs/h264/annexb.js';
import type { Track } from '../../src/media/track.js';
import { SAMPLE_FILE } from './server.js';

export function sampleParameterSets(): { sps: Buffer; pps: Buffer } {
  const nals = splitAnnexB(readFileSync(SAMPLE_FILE));
  const sps = nals.find((n) => (n[0] & 0x1f) === 7);
  const pps = nals.find((n) => (n[0] & 0x1f) === 8);
  if (!sps || !pps) throw new Error('sample has no SPS/PPS');
  return { sps: Buffer.from(sps), pps: Buffer.from(pps) };
}

export function startSyntheticSource(
  track: Track,
  options: { idrBytes: number; pBytes: number; gop: number; fps?: number },
): () => void {
  const { sps, pps } = sampleParameterSets();
  const idr = Buffer.concat([Buffer.from([0x65]), randomBytes(options.idrBytes - 1)]);
  const p = Buffer.concat([Buffer.from([0x41]), randomBytes(options.pBytes - 1)]);
  const intervalMs = 1000 / (options.fps ?? 25);
  const start = performance.now();
  let frame = 0;
  let timer: NodeJS.Timeout;
  const tick = () => {
    const units = frame % options.gop === 0 ? [sps, pps, idr] : [p];
    track.pushUnits(units, { pts: frame * intervalMs * 1000 });
    frame++;
    timer = setTimeout(tick, Math.max(0, start + frame * intervalMs - performance.now()));
  };
  tick();
  return () => clearTimeout(timer);
}
