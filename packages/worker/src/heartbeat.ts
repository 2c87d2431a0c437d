import { LeaseLostError } from "./errors.js";
import type { RunTask } from "./run-task.js";
import type { WorkerRuntime } from "./runtime.js";

/**
 * Renews every lease the worker holds in one statement, every `intervalMs`. A run missing
 * from the answer was taken over (or cancelled, or retried from outside) and is stopped at
 * once; a cancel request found on a lease is delivered to its run. If renewals keep
 * failing (or hanging: a partition drops packets and closes nothing) for a whole lease
 * duration, the worker must assume it lost every lease, and stops its runs.
 */
export class Heartbeat {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private again = false;
  private lastRenewed = Date.now();

  constructor(
    private readonly runtime: WorkerRuntime,
    private readonly tasks: ReadonlyMap<string, RunTask>,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.lastRenewed = Date.now();
    this.schedule(this.intervalMs);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Beats now (a cancel request was announced for one of our runs). */
  beatSoon(): void {
    this.schedule(0);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.beat(), ms);
    this.timer.unref?.();
  }

  private async beat(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    const tasks = [...this.tasks.values()];
    try {
      const sentAt = Date.now();
      // A renewal that hangs (a partition: packets dropped, nothing closed) must not keep
      // steps running past the lease: give up on it when the lease would have lapsed.
      let giveUp: ReturnType<typeof setTimeout> | undefined;
      const { leases, dbNow } = await Promise.race([
        this.runtime.store.renewLeases({ owner: this.runtime.workerId, ids: tasks.map((t) => t.id), leaseMs: this.runtime.leaseMs }),
        new Promise<never>((_, reject) => {
          giveUp = setTimeout(() => reject(new Error("lease renewal timed out")), Math.max(0, this.lastRenewed + this.runtime.leaseMs - Date.now()) + 1);
        }),
      ]).finally(() => clearTimeout(giveUp));
      this.runtime.clock.observe(dbNow, sentAt, Date.now());
      this.lastRenewed = sentAt;
      const held = new Map(leases.map((l) => [l.id, l]));
      for (const task of tasks) {
        const lease = held.get(task.id);
        if (!lease || lease.epoch !== task.epoch) {
          // Runs that ended meanwhile gave up their lease themselves; only live ones matter.
          if (this.tasks.get(task.id) === task) task.leaseLost(new LeaseLostError(task.id));
        } else if (lease.cancelRequested) {
          task.cancel(lease.cancelRequested.reason);
        }
      }
    } catch (error) {
      // Each lease is judged by its own last renewal: a run claimed a moment ago holds a
      // fresh lease however long the renewals of the others have been failing.
      const now = Date.now();
      const lapsed = [...this.tasks.values()].filter((task) => now - Math.max(this.lastRenewed, task.claimedAt) > this.runtime.leaseMs);
      const dropping = lapsed.length > 0 ? `; dropping ${lapsed.length} run(s) whose leases lapsed: ${lapsed.map((t) => t.id).join(", ")}` : "";
      this.runtime.logger.warn(`lease renewal failed: ${(error as Error).message}${dropping}`, lapsed.length > 0 ? { runIds: lapsed.map((t) => t.id) } : undefined);
      for (const task of lapsed) task.leaseLost(new LeaseLostError(task.id, "its lease could not be renewed for a whole lease duration"));
    } finally {
      this.running = false;
      if (this.timer !== undefined || this.again) this.schedule(this.again ? 0 : this.intervalMs);
      this.again = false;
    }
  }
}
