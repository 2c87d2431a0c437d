import type { AnyWorkflow, HistoryEvent, LogEntry } from "@reprise/sdk";
import { CancelledError, EventKind } from "@reprise/sdk";
import { cancelledError, Execution, serializeError, type NewEvent, type Outcome, type StepAttemptScope, type StepAttemptStart } from "@reprise/sdk/engine";
import type { ClaimedRun, LoadedHistory, RunMove } from "@reprise/store";
import type { CommitRequest } from "./committer.js";
import { LeaseLostError } from "./errors.js";
import { LiveHost, type HostedRun } from "./live-host.js";
import { RunObserver } from "./run-observer.js";
import type { WorkerRuntime } from "./runtime.js";
import type { ExecutionEnd } from "./tracing.js";

/**
 * One claimed run on this worker: replays its history if it has one, runs the workflow on,
 * and moves the run as the engine's outcome says (completed, failed, suspended, handed
 * back, cancelled). How the run ends, its failure hooks included, is the engine's decision;
 * this only records it. Holds the lease bookkeeping the heartbeat checks.
 */
export class RunTask implements HostedRun {
  readonly id: string;
  readonly epoch: number;
  readonly parentId: string | null;
  private execution: Execution | undefined;
  private readonly observer: RunObserver;
  private lost: Error | undefined;
  private cancelReason: { reason?: string } | undefined;
  private forced = false;
  private handingBack = false;

  constructor(
    private readonly runtime: WorkerRuntime,
    private readonly claimed: ClaimedRun,
    private readonly workflow: AnyWorkflow,
    private readonly loaded: LoadedHistory | undefined,
    /** When the claim was sent (this process's clock): the lease began no earlier. */
    readonly claimedAt: number = Date.now(),
  ) {
    this.id = claimed.id;
    this.epoch = claimed.epoch;
    this.parentId = claimed.parentId;
    if (claimed.cancelRequested) this.cancelReason = claimed.cancelRequested;
    this.observer = new RunObserver(runtime, claimed);
  }

  /** Runs the task to its end. Never throws. */
  async run(): Promise<void> {
    let finished: ExecutionEnd = { status: "aborted", message: "the execution stopped" };
    let ended: "completed" | "failed" | "cancelled" | undefined;
    try {
      const execution = new Execution({
        runId: this.id,
        workflow: this.workflow,
        input: this.claimed.input ?? undefined,
        history: this.history(),
        host: new LiveHost(this.runtime, this),
        suspendAfterMs: this.runtime.options.suspendAfterMs,
        ...(this.claimed.deadlineAt ? { deadline: this.claimed.deadlineAt.getTime() } : {}),
        ...(this.claimed.timeoutMs !== null ? { timeoutMs: this.claimed.timeoutMs } : {}),
        attempt: this.claimed.attempt,
        hookTimeoutMs: this.runtime.options.hookTimeoutMs,
        payloads: this.runtime.options.payloads,
        ...(this.loaded ? { heartbeats: this.loaded.heartbeats } : {}),
      });
      this.execution = execution;
      if (this.lost) execution.abort(this.lost);
      else if (this.cancelReason) execution.cancel(this.cancelReason.reason);
      else if (this.handingBack) execution.handBack();
      // The engine has the host record the end (see end()); the outcome is what was recorded.
      const outcome = await this.observer.within(() => execution.run());
      ({ end: finished, ended } = describeOutcome(outcome));
      if (outcome.status === "aborted" && outcome.reason instanceof LeaseLostError) this.observer.leaseLost();
    } catch (error) {
      finished = { status: "aborted", message: (error as Error).message };
      if (error instanceof LeaseLostError) {
        this.observer.leaseLost();
        this.runtime.logger.warn(error.message, { runId: this.id });
        return;
      }
      this.runtime.logger.error(`run ${this.id}: ${(error as Error).message}`, { runId: this.id, stack: (error as Error).stack });
    } finally {
      this.observer.finish(finished, ended);
    }
  }

  /** The engine's hook for each step attempt (metrics, spans, what is in flight). */
  stepAttempt(start: StepAttemptStart): StepAttemptScope {
    return this.observer.stepAttempt(start);
  }

  /** The run span's context, for a child run to be parented on (undefined without tracing). */
  childTraceContext(): string | undefined {
    return this.observer.span?.childTraceContext();
  }

  /**
   * For the progress batch: the log lines logged since the last commit (the next commit
   * no longer carries them), and what is in flight if it changed since last written.
   */
  takeProgress(): { logs: LogEntry[]; progress: { text: string; markWritten: () => void } | undefined } {
    if (!this.execution || this.execution.settled || this.lost) return { logs: [], progress: undefined };
    return { logs: this.execution.takeLogs(), progress: this.observer.progress(this.epoch) };
  }

  /** The heartbeat found the lease gone: stop at once, append nothing more. */
  leaseLost(error: Error = new LeaseLostError(this.id)): void {
    if (!this.lost) this.observer.leaseLost();
    this.lost ??= error;
    this.execution?.abort(error);
  }

  /** A cancellation was requested for this run. */
  cancel(reason: string | undefined): void {
    if (this.cancelReason) return;
    this.cancelReason = reason === undefined ? {} : { reason };
    this.execution?.cancel(reason);
  }

  /** Graceful shutdown: finish the steps in flight, then give the run back. */
  handBack(): void {
    this.handingBack = true;
    this.execution?.handBack();
  }

  /** Shutdown grace is over: abort what is in flight and give the run back now. */
  forceStop(): void {
    this.forced = true;
    this.execution?.abort(new CancelledError("the worker stopped", { runId: this.id }));
  }

  /** A commit of this run's new events (and maybe a status move). */
  commitRequest(events: readonly NewEvent[], logs: readonly LogEntry[], move?: RunMove): CommitRequest {
    return {
      runId: this.id,
      epoch: this.epoch,
      parentId: this.parentId,
      events: events.map((e) => ({ runId: this.id, seq: e.seq, kind: e.kind, position: e.position, name: e.name, payload: e.payload })),
      logs: logs.map((l) => ({ runId: this.id, ...l })),
      ...(move ? { move } : {}),
    };
  }

  private history(): HistoryEvent[] {
    if (this.loaded && this.loaded.events.length > 0) {
      return this.loaded.events.map((e) => ({ ...e, kind: e.kind as EventKind }));
    }
    // A run that never ran: its only event is RunStarted, whose content the claim returned.
    return [
      {
        runId: this.id,
        seq: 0,
        kind: EventKind.RunStarted,
        position: null,
        name: null,
        payload: { workflow: this.claimed.workflow, queue: this.claimed.queue, input: this.claimed.input ?? undefined },
        createdAt: this.claimed.createdAt,
      },
    ];
  }

  /** Moves the run as the execution ended, with what it recorded last (the host's `end`). */
  async end(outcome: Outcome, events: readonly NewEvent[], logs: readonly LogEntry[]): Promise<void> {
    const commit = (move: RunMove) => this.runtime.committer.commit(this.commitRequest(events, logs, move));
    switch (outcome.status) {
      case "completed":
        return commit({ id: this.id, status: "completed", output: outcome.outputText, release: true });
      case "failed":
      case "diverged": {
        const error = outcome.status === "failed" ? outcome.error : serializeError(outcome.error);
        return commit({ id: this.id, status: "failed", error: JSON.stringify(error), release: true });
      }
      case "cancelled": {
        const error = JSON.stringify(cancelledError(this.id, outcome.reason));
        await commit({ id: this.id, status: "cancelled", error, release: true });
        try {
          await this.runtime.store.cancelChildren(this.id, { reason: outcome.reason, error });
        } catch (thrown) {
          this.runtime.logger.error(`could not cancel the children of run ${this.id}: ${(thrown as Error).message}`, { runId: this.id });
        }
        return;
      }
      case "suspended":
        if (outcome.handedBack) return commit({ id: this.id, status: "queued", release: true, wakeNow: true });
        return commit({
          id: this.id,
          status: outcome.waiting,
          release: true,
          wakeAt: outcome.wakeAt === null ? null : new Date(outcome.wakeAt),
          seenWakeups: this.claimed.wakeups,
        });
      case "aborted":
        // Lease lost: nothing may be written. Forced stop: hand the run back as it is.
        if (this.forced && !this.lost) await commit({ id: this.id, status: "queued", release: true, wakeNow: true });
        return;
    }
  }
}

/** What an execution's outcome means for its span, and for the runs that ended. */
function describeOutcome(outcome: Outcome): { end: ExecutionEnd; ended?: "completed" | "failed" | "cancelled" } {
  switch (outcome.status) {
    case "completed":
      return { end: { status: "completed" }, ended: "completed" };
    case "failed":
      return { end: { status: "failed", message: outcome.error.message }, ended: "failed" };
    case "diverged":
      return { end: { status: "failed", message: outcome.error.message }, ended: "failed" };
    case "cancelled":
      return { end: { status: "cancelled" }, ended: "cancelled" };
    case "suspended":
      return { end: { status: "suspended" } };
    case "aborted":
      return { end: { status: "aborted", message: outcome.reason.message } };
  }
}
