import type { StepAttemptEnd, StepAttemptScope, StepAttemptStart } from "@reprise/sdk/engine";
import type { ClaimedRun } from "@reprise/store";
import type { WorkflowMetrics } from "./metrics.js";
import type { WorkerRuntime } from "./runtime.js";
import type { ExecutionEnd, RunSpan } from "./tracing.js";

/** A step attempt in flight, as the progress batch writes it. */
interface InFlight {
  name: string;
  position: number;
  attempt: number;
  startedAt: string;
}

/**
 * What watches one execution of a run without taking part in it: the step attempts in
 * flight (for the progress batch), the run's metrics and its spans. Everything here is in
 * memory; the hot path is a few increments per attempt, and a replay never gets here (it
 * runs no attempt).
 */
export class RunObserver {
  readonly span: RunSpan | undefined;
  private readonly metrics: WorkflowMetrics | undefined;
  private readonly inFlight = new Map<number, InFlight>();
  /** The in-flight set last written, as a key ("" = none written, or none in flight). */
  private written = "";
  private lost = false;

  constructor(
    private readonly runtime: WorkerRuntime,
    private readonly claimed: ClaimedRun,
  ) {
    this.metrics = runtime.metrics?.of(claimed.workflow);
    this.span = runtime.tracing?.startRun(claimed);
    if (!claimed.resumed) this.metrics?.runStarted();
  }

  /** Runs `fn` (the execution) with the run's span active, if it has one. */
  within<T>(fn: () => T): T {
    return this.span ? this.span.within(fn) : fn();
  }

  /** The engine's hook: one scope per attempt. */
  stepAttempt(start: StepAttemptStart): StepAttemptScope {
    const entry: InFlight = { name: start.name, position: start.position, attempt: start.attempt, startedAt: start.startedAt };
    this.inFlight.set(start.position, entry);
    const span = this.span?.step(start);
    let ended = false;
    return {
      run: span ? (fn) => span.within(fn) : (fn) => fn(),
      end: (result: StepAttemptEnd) => {
        if (ended) return;
        ended = true;
        if (this.inFlight.get(start.position) === entry) this.inFlight.delete(start.position);
        this.metrics?.stepAttempt(result.outcome, result.durationMs / 1000, result.outcome === "failed" && result.retrying === true);
        if (result.outcome === "succeeded" && start.firstFailureAt !== undefined) {
          this.metrics?.recovered((this.runtime.clock.now() - start.firstFailureAt) / 1000);
        }
        span?.end(result);
      },
    };
  }

  /**
   * The progress to write if what is in flight changed since it was last written (JSON
   * text), else undefined. `markWritten` is called once it is stored.
   */
  progress(epoch: number): { text: string; markWritten: () => void } | undefined {
    const steps = [...this.inFlight.values()];
    const key = steps.map((s) => `${s.position}:${s.attempt}`).join(",");
    if (key === this.written) return undefined;
    const text = JSON.stringify({ epoch, worker: this.runtime.workerId, steps });
    return { text, markWritten: () => (this.written = key) };
  }

  /** The run stopped on this worker because its lease is gone (counted once). */
  leaseLost(): void {
    if (this.lost) return;
    this.lost = true;
    this.metrics?.leaseLost();
  }

  /** The execution is over; `ended` is set once the run's end is recorded. */
  finish(outcome: ExecutionEnd, ended?: "completed" | "failed" | "cancelled"): void {
    if (ended) this.metrics?.runEnded(ended, (this.runtime.clock.now() - this.claimed.startedAt.getTime()) / 1000);
    this.span?.end(outcome);
  }
}
