// The benchmark's synthetic H.264 source: real SPS/PPS from the shipped sample, random-filled slices
// sized for a target bitrate. Built once, pushed again and again (nobody decodes it).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { splitAnnexB } from '../src/codecs/h264/annexb.js';

export const SAMPLE_FILE = fileURLToPath(new URL('../fixtures/sample-640x480-25fps.264', import.meta.url));

export interface SyntheticStreamOptions {
  bitsPerSecond?: number;
  fps?: number;
  /** Frames per GOP: one IDR, then P slices (default 25: one keyframe a second at 25 fps). */
  gop?: number;
  /** Bytes of the keyframe access unit, SPS and PPS included (default 60 000). */
  keyframeBytes?: number;
  file?: string;
}

export interface SyntheticStream {
  /** SPS, PPS, IDR slice (NAL units without start codes). */
  keyframe: Buffer[];
  /** One P slice. */
  delta: Buffer[];
  fps: number;
  gop: number;
  keyframeBytes: number;
  deltaBytes: number;
  /** What the frames add up to, NAL bytes per second. */
  actualBitsPerSecond: number;
}

function bytesOf(units: Buffer[]): number {
  let n = 0;
  for (const u of units) n += u.length;
  return n;
}

export function buildSyntheticStream(options: SyntheticStreamOptions = {}): SyntheticStream {
  const bitsPerSecond = options.bitsPerSecond ?? 4_000_000;
  const fps = options.fps ?? 25;
  const gop = options.gop ?? 25;
  const keyframeBytes = options.keyframeBytes ?? 60_000;
  const nals = splitAnnexB(readFileSync(options.file ?? SAMPLE_FILE));
  const sps = nals.find((n) => (n[0] & 0x1f) === 7);
  const pps = nals.find((n) => (n[0] & 0x1f) === 8);
  if (!sps || !pps) throw new Error('the sample file has no SPS/PPS');
  const gopBytes = (bitsPerSecond / 8) * (gop / fps);
  const idrBytes = keyframeBytes - sps.length - pps.length;
  const deltaBytes = Math.round((gopBytes - keyframeBytes) / (gop - 1));
  if (idrBytes < 2 || deltaBytes < 2) throw new Error('bitrate too low for the keyframe size');
  const idr = randomBytes(idrBytes);
  idr[0] = 0x65; // nal_ref_idc 3, IDR
  const p = randomBytes(deltaBytes);
  p[0] = 0x41; // nal_ref_idc 2, non-IDR slice
  const keyframe = [Buffer.from(sps), Buffer.from(pps), idr];
  const delta = [p];
  const actualGopBytes = bytesOf(keyframe) + (gop - 1) * bytesOf(delta);
  return {
    keyframe,
    delta,
    fps,
    gop,
    keyframeBytes: bytesOf(keyframe),
    deltaBytes: bytesOf(delta),
    actualBitsPerSecond: (actualGopBytes * 8 * fps) / gop,
  };
}
