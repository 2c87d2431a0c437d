import {
  TERMINAL_STATUSES,
  CancelledError,
  DatabaseError,
  EventKind,
  callFailureHook,
  Execution,
  HistoryIndex,
  serializeError,
  type FailureInfo,
  type HistoryEvent,
  type LogEntry,
  type NewEvent,
  type Outcome,
  type RunFailedPayload,
  type AnyWorkflow,
} from "@reprise/sdk";
import { isDataError, type ClaimedRun, type LoadedHistory, type RunMove } from "@reprise/store";
import type { CommitRequest } from "./committer.js";
import { LeaseLostError } from "./errors.js";
import { LiveHost } from "./live-host.js";
import type { WorkerRuntime } from "./runtime.js";


/**
 * One claimed run on this worker: replays its history if it has one, runs the workflow on,
 * and records how the execution ended (completed, failed, suspended, handed back,
 * cancelled). Holds the lease bookkeeping the heartbeat checks.
 */
export class RunTask {
  readonly id: string;
  readonly epoch: number;
  readonly parentId: string | null;
  private execution: Execution | undefined;
  private lost: Error | undefined;
  private cancelReason: { reason?: string } | undefined;
  private forced = false;
  private handingBack = false;

  constructor(
    private readonly runtime: WorkerRuntime,
    private readonly claimed: ClaimedRun,
    private readonly workflow: AnyWorkflow,
    private readonly loaded: LoadedHistory | undefined,
  ) {
    this.id = claimed.id;
    this.epoch = claimed.epoch;
    this.parentId = claimed.parentId;
    if (claimed.cancelRequested) this.cancelReason = claimed.cancelRequested;
  }

  /** Runs the task to its end. Never throws. */
  async run(): Promise<void> {
    try {
      const history = this.history();
      const index = new HistoryIndex(history);
      // The log says the run ended, but its worker died before the hook was recorded.
      if (index.terminal) return await this.finishEndedRun(index);
      const execution = new Execution({
        runId: this.id,
        workflow: this.workflow,
        input: this.claimed.input ?? undefined,
        history,
        host: new LiveHost(this.runtime, this),
        suspendAfterMs: this.runtime.options.suspendAfterMs,
        ...(this.claimed.deadlineAt ? { deadline: this.claimed.deadlineAt.getTime() } : {}),
        ...(this.claimed.timeoutMs !== null ? { timeoutMs: this.claimed.timeoutMs } : {}),
        attempt: this.claimed.attempt,
        ...(this.loaded ? { heartbeats: this.loaded.heartbeats } : {}),
      });
      this.execution = execution;
      if (this.lost) execution.abort(this.lost);
      else if (this.cancelReason) execution.cancel(this.cancelReason.reason);
      else if (this.handingBack) execution.handBack();
      const outcome = await execution.run();
      await this.record(execution, outcome);
    } catch (error) {
      if (error instanceof LeaseLostError) {
        this.runtime.logger.warn(error.message, { runId: this.id });
        return;
      }
      this.runtime.logger.error(`run ${this.id}: ${(error as Error).message}`, { runId: this.id, stack: (error as Error).stack });
    }
  }

  /** The heartbeat found the lease gone: stop at once, append nothing more. */
  leaseLost(error: Error = new LeaseLostError(this.id)): void {
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

  private async record(execution: Execution, outcome: Outcome): Promise<void> {
    const { events, logs } = execution.takePending();
    const commit = (move: RunMove) => this.runtime.committer.commit(this.commitRequest(events, logs, move));
    switch (outcome.status) {
      case "completed":
        return commit({ id: this.id, status: "completed", output: json(outcome.output), release: true });
      case "failed":
      case "diverged": {
        const error = outcome.status === "failed" ? outcome.error : serializeError(outcome.error);
        if (!this.workflow.options.onFailure || execution.history.hooksDone.has("run")) {
          return commit({ id: this.id, status: "failed", error: JSON.stringify(error), release: true });
        }
        // RunFailed is recorded first, but the run only shows "failed" once its hook ran and
        // that is recorded too: whoever sees the failure knows the alert went out, and a
        // worker that dies in between leaves the hook to the next (the run stays leased).
        await this.runtime.committer.commit(this.commitRequest(events, logs));
        await this.runFailureHook(error, execution.nextEventSeq);
        return;
      }
      case "cancelled": {
        const error = serializeError(new CancelledError("the run was cancelled", { ...outcome, runId: this.id }));
        await commit({ id: this.id, status: "cancelled", error: JSON.stringify(error), release: true });
        await this.cancelChildren(outcome.reason, error);
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
        if (this.forced && !this.lost) {
          await this.runtime.committer.commit(this.commitRequest([], [], { id: this.id, status: "queued", release: true, wakeNow: true }));
        } else if (!this.lost && isDataError(outcome.reason)) {
          await this.failRefusedRun(outcome.reason);
        }
        return;
    }
  }

  /**
   * The database refused what the run wanted to record (a value it cannot store that got
   * past validation). Walking away would leave the run leased, to be claimed again and its
   * step run again, forever: it fails instead, after what is durable.
   */
  private async failRefusedRun(reason: Error): Promise<void> {
    const error = serializeError(new DatabaseError(`the event log refused this run's writes: ${reason.message}`, reason));
    const seq = await this.runtime.store.nextSeq(this.id);
    const failed: NewEvent = { seq, kind: EventKind.RunFailed, position: null, name: null, payload: JSON.stringify({ error }) };
    if (!this.workflow.options.onFailure) {
      await this.runtime.committer.commit(this.commitRequest([failed], [], { id: this.id, status: "failed", error: JSON.stringify(error), release: true }));
      return;
    }
    await this.runtime.committer.commit(this.commitRequest([failed], []));
    await this.runFailureHook(error, seq + 1);
  }

  /** A run claimed again after it ended but before its failure hook was recorded (its worker died). */
  private async finishEndedRun(ended: HistoryIndex): Promise<void> {
    const terminal = ended.terminal!;
    const failure = terminal.kind === EventKind.RunFailed ? (terminal.payload as RunFailedPayload).error : undefined;
    if (failure && this.workflow.options.onFailure && !ended.hooksDone.has("run")) {
      await this.runFailureHook(failure, ended.nextSeq);
      return;
    }
    const status = terminal.kind === EventKind.RunCompleted ? "completed" : terminal.kind === EventKind.RunCancelled ? "cancelled" : "failed";
    await this.runtime.committer.commit(
      this.commitRequest([], [], {
        id: this.id,
        status,
        ...(failure ? { error: JSON.stringify(failure) } : {}),
        ...(terminal.kind === EventKind.RunCompleted ? { output: json((terminal.payload as { output?: unknown }).output) } : {}),
        release: true,
      }),
    );
  }

  /** Runs the workflow's onFailure once, records that it ran, and lets the run go. */
  private async runFailureHook(error: FailureInfo["error"], seq: number): Promise<void> {
    const hook = this.workflow.options.onFailure!;
    const info: FailureInfo = { runId: this.id, workflowName: this.workflow.name, attempt: this.claimed.attempt, error, input: this.claimed.input ?? undefined };
    const failed = await callFailureHook(hook, info, this.runtime.options.hookTimeoutMs);
    if (failed) this.runtime.logger.error(`onFailure hook of run ${this.id} threw: ${failed.message}`, { runId: this.id });
    const event: NewEvent = {
      seq,
      kind: EventKind.HookCompleted,
      position: null,
      name: null,
      payload: JSON.stringify(failed ? { hook: "run", ok: false, error: failed } : { hook: "run", ok: true }),
    };
    await this.runtime.committer.commit(
      this.commitRequest([event], [], { id: this.id, status: "failed", error: JSON.stringify(error), release: true }),
    );
  }

  private async cancelChildren(reason: string | undefined, error: object): Promise<void> {
    try {
      const children = await this.runtime.store.listRuns({ parentId: this.id, limit: 10_000 });
      for (const child of children) {
        if (TERMINAL_STATUSES.has(child.status)) continue;
        await this.runtime.store.cancelRun({ runId: child.id, reason, error: JSON.stringify(error) });
      }
    } catch (thrown) {
      this.runtime.logger.error(`could not cancel the children of run ${this.id}: ${(thrown as Error).message}`, { runId: this.id });
    }
  }
}

function json(value: unknown): string | undefined {
  return value === undefined ? undefined : JSON.stringify(value);
}
