/**
 * Presentation order of access units from their picture order counts: fed POCs in decode order, it
 * tells each access unit's place on the presentation timeline. Within a POC period (IDR to the next
 * POC reset) a picture's place is the period's start plus its rank by POC; the next period starts
 * after the last one's pictures. Without reordering, places equal decode indices.
 */
import type { PictureOrder } from './h264/poc.js';

/**
 * Pictures held back before the lowest POC among them is ranked. No picture can follow more than 16
 * earlier-decoded pictures in output order: they would all have to wait in a decoded picture
 * buffer, which holds at most 16 frames in H.264 and H.265 alike.
 */
export const REORDER_WINDOW = 16;

interface Pending {
  index: number;
  poc: number;
}

export class PresentationOrder {
  private nextIndex = 0;
  /** Place of the current period's first picture. */
  private periodStart = 0;
  /** Pictures of the current period ranked so far. */
  private ranked = 0;
  /** Current period's pictures not ranked yet, by POC (decode order among equals). */
  private pending: Pending[] = [];
  private readonly places = new Map<number, number>();

  /**
   * Adds the next access unit in decode order; returns its decode index. An access unit without a
   * picture order (null: no picture, or not readable) takes the next place as a period of its own.
   */
  add(order: PictureOrder | null): number {
    const index = this.nextIndex++;
    if (order === null || order.newPeriod) this.endPeriod();
    if (order === null) {
      this.places.set(index, this.periodStart++);
      return index;
    }
    let at = this.pending.length;
    while (at > 0 && this.pending[at - 1].poc > order.poc) at--;
    this.pending.splice(at, 0, { index, poc: order.poc });
    while (this.pending.length > REORDER_WINDOW) this.rankFirst();
    return index;
  }

  /** The current period is over (end of the stream): ranks all its pictures. */
  endPeriod(): void {
    while (this.pending.length > 0) this.rankFirst();
    this.periodStart += this.ranked;
    this.ranked = 0;
  }

  /**
   * The place of access unit `index` on the presentation timeline (in frames), once known; forgets it
   * then. Undefined while pictures decoded after it may still come before it.
   */
  take(index: number): number | undefined {
    const place = this.places.get(index);
    if (place !== undefined) this.places.delete(index);
    return place;
  }

  /** True when the place of `index` is known. */
  known(index: number): boolean {
    return this.places.has(index);
  }

  private rankFirst(): void {
    const first = this.pending.shift();
    if (first) this.places.set(first.index, this.periodStart + this.ranked++);
  }
}
