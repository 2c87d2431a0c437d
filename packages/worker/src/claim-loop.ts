/** What the claim loop needs from its worker. */
export interface ClaimLoopDeps {
  /** Free slots. */
  capacity(): number;
  /** Claims up to `limit` runs and starts them; returns how many it got. */
  claim(limit: number): Promise<number>;
  pollMs: number;
  onError(error: unknown): void;
}

/**
 * Claims runs whenever there are free slots and reason to look: a NOTIFY for one of its
 * queues, a full claim last time (more may be waiting; looked for again as soon as slots
 * free up), or the poll timer, which is the source of truth (timers, retries, lost
 * notifications). Wake-ups within one turn of the event loop are folded into one claim, so
 * a batch of runs ending together frees its slots to a single claim statement.
 */
export class ClaimLoop {
  private stopped = false;
  private moreWaiting = true;
  /** Bumped by every NOTIFY, so one that lands during a claim is not lost. */
  private notifications = 0;
  private pendingWake = false;
  private wakeScheduled = false;
  private wakeUp: (() => void) | undefined;
  private done: Promise<void> | undefined;

  constructor(private readonly deps: ClaimLoopDeps) {}

  start(): void {
    this.done = this.loop();
  }

  /** A NOTIFY said there is new work. */
  notify(): void {
    this.notifications++;
    this.moreWaiting = true;
    this.wake();
  }

  /** A run ended and freed its slot. */
  slotFreed(): void {
    if (this.moreWaiting) this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.done;
  }

  private wake(): void {
    if (this.wakeScheduled) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      if (this.wakeUp) this.wakeUp();
      else this.pendingWake = true;
    });
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      const free = this.deps.capacity();
      if (free > 0) {
        const seen = this.notifications;
        try {
          const got = await this.deps.claim(free);
          this.moreWaiting = got === free || this.notifications !== seen;
          failures = 0;
        } catch (error) {
          this.deps.onError(error);
          failures++;
          await this.idle(Math.min(this.deps.pollMs * 5, 100 * 2 ** failures));
          continue;
        }
        if (this.stopped) break;
        if (this.moreWaiting && this.deps.capacity() > 0) continue;
      }
      const polled = await this.idle(this.deps.pollMs * (0.9 + Math.random() * 0.2));
      if (polled) this.moreWaiting = true;
    }
  }

  /** Waits for a wake-up or the timeout; resolves true when the timeout ended it. */
  private idle(ms: number): Promise<boolean> {
    if (this.pendingWake || this.stopped) {
      this.pendingWake = false;
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve(true);
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve(false);
      };
    });
  }
}
