import type { ProgressUpdate } from "@reprise/store";
import { LeaseLostError } from "./errors.js";
import type { RunTask } from "./run-task.js";
import type { WorkerRuntime } from "./runtime.js";

/**
 * Every `intervalMs`, writes what the worker's running steps are doing, for all its runs
 * at once and off the hot path:
 * - the `ctx.log` lines logged since each run's last commit, through the group commit
 *   (fenced by the lease, in order with the run's own commits; the step's completion then
 *   no longer carries them, so no line is written twice). A step that hangs or whose
 *   process is killed has its lines in the database up to one interval before it died.
 * - which step attempts are in flight, in one `saveProgress` statement, only for runs where
 *   that changed since it was last written: a step that starts and ends between two
 *   batches costs nothing, and neither does a run whose step is still the one written.
 * An idle worker, or one whose steps are all short and silent, sends nothing.
 */
export class LiveProgress {
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly runtime: WorkerRuntime,
    private readonly tasks: ReadonlyMap<string, RunTask>,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      // A batch still going (a slow database) is not doubled: the next tick catches up.
      this.running ??= this.flush().finally(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref?.();
  }

  /** Stops the timer and waits for a batch in flight. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One batch: every run's new lines and changed steps in flight. */
  async flush(): Promise<void> {
    const { committer, store, workerId, logger } = this.runtime;
    const writes: Promise<void>[] = [];
    const updates: ProgressUpdate[] = [];
    const written: (() => void)[] = [];
    for (const task of this.tasks.values()) {
      const { logs, progress } = task.takeProgress();
      if (logs.length > 0) {
        writes.push(
          committer.commit(task.commitRequest([], logs)).catch((error: unknown) => {
            if (error instanceof LeaseLostError) task.leaseLost(error);
            else logger.warn(`could not write the log lines of run ${task.id}: ${(error as Error).message}`, { runId: task.id });
          }),
        );
      }
      if (progress) {
        updates.push({ id: task.id, epoch: task.epoch, progress: progress.text });
        written.push(progress.markWritten);
      }
    }
    if (updates.length > 0) {
      writes.push(
        store.saveProgress({ owner: workerId, runs: updates }).then(
          () => written.forEach((mark) => mark()),
          // Not marked written: the next batch tries again with what is in flight then.
          (error: unknown) => logger.warn(`could not write the steps in flight: ${(error as Error).message}`),
        ),
      );
    }
    await Promise.all(writes);
  }
}
