/**
 * The test pattern's sound: a quiet 440 Hz tone with a loud 1 kHz beep for the first 100 ms of
 * every second of the stream's timeline, the same seconds the picture's frame counter marks, so
 * audio/video sync can be checked by ear and by numbers. Pure: sample positions in, PCM out.
 */
export class ToneGenerator {
  private phaseTone = 0;
  private phaseBeep = 0;

  constructor(readonly sampleRate = 8000) {}

  /** 16-bit PCM for `count` samples starting at sample index `start` of the timeline. */
  render(start: number, count: number): Int16Array {
    const out = new Int16Array(count);
    const rate = this.sampleRate;
    const toneStep = (2 * Math.PI * 440) / rate;
    const beepStep = (2 * Math.PI * 1000) / rate;
    const beepSamples = rate / 10;
    for (let i = 0; i < count; i++) {
      const inBeep = (start + i) % rate < beepSamples;
      this.phaseTone = (this.phaseTone + toneStep) % (2 * Math.PI);
      this.phaseBeep = (this.phaseBeep + beepStep) % (2 * Math.PI);
      out[i] = inBeep
        ? Math.round(16000 * Math.sin(this.phaseBeep))
        : Math.round(2000 * Math.sin(this.phaseTone));
    }
    return out;
  }
}
