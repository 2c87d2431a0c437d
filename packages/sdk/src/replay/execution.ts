import { EventKind, type HistoryEvent, type RunCancelledPayload, type RunCompletedPayload, type RunFailedPayload } from "../events.js";
import { CancelledError, DatabaseError, WorkflowTimeoutError } from "../errors.js";
import { serializeError, toError, type SerializedError } from "../error-codec.js";
import { toJsonText } from "../json.js";
import { parseWith } from "../schema.js";
import type { WorkflowContext } from "../workflow-types.js";
import { createWorkflowContext } from "./context.js";
import { ExecutionCore, type ExecutionOptions } from "./execution-core.js";
import { failedPosition } from "./failure-position.js";
import { callFailureHook } from "./failure-hook.js";
import { recordedCall } from "./history-index.js";
import type { Outcome } from "./outcome.js";
import { workflowInput } from "./workflow-input.js";

export type { ExecutionOptions } from "./execution-core.js";

type Failed = Extract<Outcome, { status: "failed" }>;

/**
 * One execution of a run: drives the workflow function against its history, answering
 * recorded calls from the log and performing the rest through the host, and decides how
 * the run ends — including its `onFailure` hook, so the worker only maps the outcome to a
 * move of the run. Pure: all I/O goes through the {@link ExecutionHost}.
 */
export class Execution extends ExecutionCore {
  readonly ctx: WorkflowContext;
  private readonly timeoutMs: number | undefined;
  private cancelDeadline: (() => void) | undefined;
  /** The first write the log refused, and the seq its events began at. */
  private refusal: { error: Error; seq: number } | undefined;
  private refusedEnd = false;
  /** The run's onFailure ran in this execution (its record may have been refused since). */
  private ranRunHook = false;

  constructor(options: ExecutionOptions) {
    super(options);
    this.timeoutMs = options.timeoutMs;
    this.ctx = createWorkflowContext(this);
  }

  /**
   * Runs the workflow until it completes, fails, suspends, diverges or is aborted, and (on
   * a live host) its failure hook after a failure. A run whose history already ended (its
   * worker died before the run's hook was recorded) is not run again: it ends as recorded.
   */
  async run(): Promise<Outcome> {
    const ended = this.host.live ? this.history.terminal : undefined;
    if (ended) this.settle(endedAs(ended));
    if (this.deadline !== undefined && this.host.live && !this.settledWith) {
      const left = this.deadline - this.host.now();
      if (left <= 0) this.timeOut();
      else this.cancelDeadline = this.host.setTimer(() => this.timeOut(), left);
    }
    if (!this.settledWith) {
      Promise.resolve()
        .then(async () => {
          // An input stored out of line is read before the function starts (it needs it).
          this.input = await this.loadValue(this.input);
          return this.workflow.fn(this.ctx, workflowInput(this.workflow, this.input));
        })
        .then(
          (value) => this.onReturn(value),
          (error) => this.onThrow(error),
        );
    }
    const outcome = await this.outcome;
    this.cancelDeadline?.();
    // A flush in flight finishes before the caller records the outcome after it; if it
    // failed, what it carried is not in the log, and an ending recorded after it would leave
    // a gap in the run's seq.
    let final = outcome;
    if (this.flushing) {
      const failed = await this.flushing.then(
        () => undefined,
        (error: unknown) => toError(error),
      );
      // The run ended while a flush that then failed was in flight: what it recorded after
      // that flush is void. A refusal still fails the run (after what is durable); anything
      // else (the lease is gone) leaves it to its next owner.
      if (failed && outcome.status !== "aborted") final = this.refusal ? this.recordRefusal() : { status: "aborted", reason: failed };
    }
    if (final.status === "failed" || final.status === "diverged") final = await this.afterFailure(final);
    return this.finish(final);
  }

  /**
   * Has the host record the end. If the log refuses it (a value it cannot store), the run
   * fails in its place: walking away would leave the run leased, to be claimed again and
   * its last step run again, forever. A failure the log refuses as well is thrown.
   */
  private async finish(outcome: Outcome): Promise<Outcome> {
    if (!this.host.live) return outcome;
    const { events, logs } = this.takePending();
    try {
      await this.host.end(outcome, events, logs);
      return outcome;
    } catch (thrown) {
      const error = toError(thrown);
      if (outcome.status === "aborted" || this.refusedEnd || !this.host.isRefusal(error)) throw error;
      this.refusedEnd = true;
      this.refusal = { error, seq: events[0]?.seq ?? this.nextEventSeq };
      return this.finish(await this.afterFailure(this.recordRefusal()));
    }
  }

  /** Cancels the run: signals are aborted and the run ends `cancelled`. */
  cancel(reason?: string): void {
    if (this.settledWith) return;
    const error = new CancelledError("the run was cancelled", { reason, runId: this.runId });
    this.abortController.abort(error);
    this.record(EventKind.CancelRequested, null, null, reason === undefined ? {} : { reason });
    this.record(EventKind.RunCancelled, null, null, reason === undefined ? {} : { reason });
    this.settle({ status: "cancelled", ...(reason === undefined ? {} : { reason }) });
  }

  protected override settle(outcome: Outcome): void {
    if (this.settledWith) return;
    this.cancelDeadline?.();
    super.settle(outcome);
  }

  protected persistFailed(error: Error, firstSeq: number | undefined): void {
    if (firstSeq !== undefined && this.host.isRefusal(error)) this.refusal ??= { error, seq: firstSeq };
    // Once the run has ended, run() decides with the outcome in hand.
    if (this.settledWith) return;
    if (!this.refusal) {
      this.abort(error);
      return;
    }
    this.abortController.abort(error);
    this.settle(this.recordRefusal());
  }

  /** The refused flush and everything recorded after it are void; the run fails in their place. */
  private recordRefusal(): Failed {
    const { error, seq } = this.refusal!;
    this.rewindTo(seq);
    const failure = new DatabaseError(`the event log refused this run's writes: ${error.message}`, error);
    this.host.reportError(`run ${this.runId} fails: ${failure.message}`, { runId: this.runId, workflowName: this.workflow.name });
    return this.recordFailure(failure);
  }

  protected loadFailed(error: Error, id: string): void {
    if (this.settledWith) return;
    // A replay without the database says so itself; a worker's read that failed for good
    // (a connection failure is retried by the host while the lease holds) means the value
    // is not in the log: no attempt can get further, so the run fails rather than loop.
    const failure = this.host.live ? new DatabaseError(`run ${this.runId} refers to a value stored out of line (payload ${id}) that could not be read: ${error.message}`, error) : error;
    this.abortController.abort(failure);
    this.fail(failure);
  }

  private timeOut(): void {
    if (this.settledWith) return;
    const error = new WorkflowTimeoutError(this.runId, this.timeoutMs ?? 0);
    this.abortController.abort(error);
    this.fail(error);
  }

  private onReturn(value: unknown): void {
    if (this.settledWith) return;
    const unreached = this.history.firstPositionFrom(this.positionsTaken);
    if (unreached !== undefined) {
      try {
        this.diverge(unreached, recordedCall(this.history.at(unreached))!, { kind: EventKind.RunCompleted, name: null });
      } catch {
        return;
      }
    }
    let placed: ReturnType<Execution["place"]>;
    try {
      const what = `output of workflow "${this.workflow.name}"`;
      const output = parseWith(this.workflow.options.output, value, what);
      placed = this.place(toJsonText(output, what), what);
    } catch (error) {
      this.fail(toError(error));
      return;
    }
    // A large output is stored out of line: the event and the run's row hold its reference.
    this.record(EventKind.RunCompleted, null, null, {}, { output: placed.text }, placed.outOfLine);
    this.settle({ status: "completed", outputText: placed.text });
  }

  private onThrow(thrown: unknown): void {
    if (this.settledWith) return;
    this.fail(toError(thrown));
  }

  private fail(error: Error): void {
    this.settle(this.recordFailure(error));
  }

  /** Records `RunFailed` for `error` (with the position whose failure it reports, if any). */
  private recordFailure(error: Error): Failed {
    const position = failedPosition(error);
    const serialized = serializeError(error);
    this.record(EventKind.RunFailed, null, null, position === undefined ? { error: serialized } : { error: serialized, position });
    return { status: "failed", error: serialized, thrown: error, ...(position === undefined ? {} : { position }) };
  }

  /**
   * The run failed: its `onFailure` runs once, after `RunFailed` is durable, and its
   * `HookCompleted` is left for the caller to append with the run's move to `failed`. So
   * whoever sees the run failed knows the hook ran, and a worker that dies in between leaves
   * the hook to the next claim (the run stays leased until its lease lapses).
   */
  private async afterFailure(outcome: Extract<Outcome, { status: "failed" | "diverged" }>): Promise<Outcome> {
    const hook = this.workflow.options.onFailure;
    if (!hook || !this.host.live || this.history.hooksDone.has("run") || this.ranRunHook) return outcome;
    this.ranRunHook = true;
    const error: SerializedError = outcome.status === "failed" ? outcome.error : serializeError(outcome.error);
    const { events, logs } = this.takePending();
    try {
      if (events.length > 0 || logs.length > 0) await this.host.persist(events, logs);
    } catch (thrown) {
      return { status: "aborted", reason: toError(thrown) };
    }
    const failed = await callFailureHook(hook, this.failureInfo(error), this.hookTimeoutMs, this.host);
    this.recordHook("run", failed);
    return outcome;
  }
}

/** How a run whose history already ended ends again. */
function endedAs(terminal: HistoryEvent): Outcome {
  switch (terminal.kind) {
    case EventKind.RunCompleted: {
      const { output } = terminal.payload as RunCompletedPayload;
      return { status: "completed", outputText: output === undefined ? undefined : JSON.stringify(output) };
    }
    case EventKind.RunCancelled: {
      const { reason } = (terminal.payload ?? {}) as RunCancelledPayload;
      return { status: "cancelled", ...(reason === undefined ? {} : { reason }) };
    }
    default: {
      const { error, position } = terminal.payload as RunFailedPayload;
      return { status: "failed", error, ...(position === undefined || position === null ? {} : { position }) };
    }
  }
}
