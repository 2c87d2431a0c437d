/**
 * The database's clock as seen from this process: every timer a run records (wake-up
 * times, retry times, deadlines) is in database time, so that workers with skewed clocks
 * agree. The offset is measured on each claim and heartbeat, to within half a round trip.
 */
export class DatabaseClock {
  private offsetMs = 0;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** Learns the offset from a `now()` the database returned between `sentAt` and `receivedAt`. */
  observe(dbNow: Date | undefined, sentAt: number, receivedAt: number): void {
    if (!dbNow) return;
    this.offsetMs = dbNow.getTime() - (sentAt + receivedAt) / 2;
  }
}
