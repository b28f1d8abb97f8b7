import type { Stream } from '../media/stream.js';
import type { TrackCodec } from '../media/track.js';

/** Events every source may emit (a source emits only those that apply to it). */
export interface SourceEvents {
  /** A fault while running; the source has stopped unless it says it retries (`restart`). */
  error: [err: Error];
  /**
   * A live input failed to start, died or ended, and is tried again after `delayMs`. The stream is
   * unavailable (503) meanwhile; `reason` is the input's own (`Connection refused`, ...).
   */
  restart: [attempt: number, delayMs: number, reason: string];
  /** A source whose tracks come later has added them to its stream: media flows. */
  tracks: [codecs: readonly TrackCodec[]];
  /** Something an operator wants in the log (e.g. what ffmpeg copies and what it encodes). */
  info: [message: string];
  /** A source that does not loop reached its end. */
  end: [];
}

/**
 * What feeds a stream: the test pattern, a file, ffmpeg (and next, a relay or a publisher). One shape
 * for all, so an application (and the CLI) serves any of them the same way:
 *
 * ```ts
 * const source = createSource({ source: 'file', file: 'clip.mp4' });
 * source.on('error', (err) => console.error(err));
 * const stream = server.addStream('/clip', { tracks: await source.open() });
 * source.start(stream);
 * // ... and at shutdown:
 * source.stop();
 * ```
 *
 * Two kinds fit the same slot:
 * - tracks known before media flows (pattern, files): `open()` resolves with their codecs;
 * - tracks that come with the media (ffmpeg serving while its input is down; a relay; a publisher):
 *   `open()` resolves with no codecs, and `start(stream)` marks the stream unavailable
 *   (`stream.setUnavailable`, DESCRIBE/SETUP answer 503), adds the tracks once known
 *   (`stream.addTrack`, a `tracks` event) and marks it available.
 */
export interface Source {
  /** What kind of source this is, for logs: `pattern`, `file`, `ffmpeg`. */
  readonly kind: string;
  /** What it serves, for logs and the startup banner (`file clip.mp4 (avc, aac)`); complete once opened. */
  readonly description: string;
  /**
   * Gets ready (opens the file, reads ahead, probes): resolves with the codecs to build the stream
   * with, in order, or with none when the source adds its tracks to the stream itself later.
   * Rejects with the reason when it cannot serve at all (a missing file, an unreadable format).
   */
  open(): Promise<readonly TrackCodec[]>;
  /** Starts pushing into `stream`, built with the codecs `open()` gave (in that order), or empty. */
  start(stream: Stream): void;
  /** Stops pushing and lets go of what the source holds (files, child processes, timers). */
  stop(): void;
  on: SourceListen<this>;
  once: SourceListen<this>;
  off: SourceListen<this>;
}

/**
 * `on`/`once`/`off` of a source: one overload per event, so any EventEmitter whose event map has
 * these events (and more of its own) implements it.
 */
export interface SourceListen<T> {
  (event: 'error', listener: (...args: SourceEvents['error']) => void): T;
  (event: 'restart', listener: (...args: SourceEvents['restart']) => void): T;
  (event: 'tracks', listener: (...args: SourceEvents['tracks']) => void): T;
  (event: 'info', listener: (...args: SourceEvents['info']) => void): T;
  (event: 'end', listener: (...args: SourceEvents['end']) => void): T;
}
