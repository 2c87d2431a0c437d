/** How fast a clock reading loses precision with age: 1 ms either way per second. */
const AGEING = 1e-3;

/**
 * The database's clock as seen from this process: every timer a run records (wake-up
 * times, retry times, deadlines) is in database time, so that workers with skewed clocks
 * agree, and a timer held in memory must not end before the database says it is due.
 *
 * Each `now()` the database returns was taken between sending the query and receiving the
 * answer, which bounds the offset between the two clocks: `[dbNow - receivedAt, dbNow -
 * sentAt]` (widened by a millisecond for the truncation of both clocks). Bounds from many
 * reads are intersected, widened as they age so that a drifting clock is followed; a read
 * that contradicts them (a clock was stepped) replaces them. `now()` is the lower bound:
 * never ahead of the database, behind it by at most the best recent round trip. (Using the
 * middle of the round trip instead let a short sleep end early by half of it, and by half a
 * connection set-up on a worker's first claim.)
 */
export class DatabaseClock {
  private low = 0;
  private high = 0;
  private sampledAt: number | undefined;

  now(): number {
    return Date.now() + this.low;
  }

  /** Learns from a `now()` the database returned between `sentAt` and `receivedAt` (this process's clock). */
  observe(dbNow: Date | undefined, sentAt: number, receivedAt: number): void {
    if (!dbNow) return;
    const low = dbNow.getTime() - receivedAt - 1;
    const high = dbNow.getTime() - sentAt + 1;
    if (this.sampledAt !== undefined) {
      const slack = Math.max(0, receivedAt - this.sampledAt) * AGEING;
      const knownLow = this.low - slack;
      const knownHigh = this.high + slack;
      if (low <= knownHigh && high >= knownLow) {
        this.low = Math.max(low, knownLow);
        this.high = Math.min(high, knownHigh);
        this.sampledAt = receivedAt;
        return;
      }
    }
    this.low = low;
    this.high = high;
    this.sampledAt = receivedAt;
  }
}
