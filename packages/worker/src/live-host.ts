import type { CircuitBreaker, LogEntry, SerializedError } from "@reprise/sdk";
import {
  eventLoopTimers,
  payloadRefOf,
  type BreakerPermit,
  type ChildOutcome,
  type ChildStart,
  type ExecutionHost,
  type InboxSignal,
  type NewEvent,
  type Outcome,
  type StepAttemptScope,
  type StepAttemptStart,
  type TransactionAttempt,
} from "@reprise/sdk/engine";
import { isConnectionError, isRefusedValue } from "@reprise/store";
import type { CommitRequest } from "./committer.js";
import { LeaseLostError } from "./errors.js";
import type { WorkerRuntime } from "./runtime.js";
import { transactionAttempt } from "./transaction-attempt.js";

/** The run a host serves, as the host sees it (a `RunTask`). */
export interface HostedRun {
  readonly id: string;
  readonly epoch: number;
  /** A commit of this run's new events (and maybe a status move). */
  commitRequest(events: readonly NewEvent[], logs: readonly LogEntry[]): CommitRequest;
  /** Moves the run as the execution ended, with what it recorded last. */
  end(outcome: Outcome, events: readonly NewEvent[], logs: readonly LogEntry[]): Promise<void>;
  /** Stops the run at once: its lease is gone. */
  leaseLost(error: Error): void;
  /** Observes one step attempt (metrics, spans, the steps in flight). */
  stepAttempt(start: StepAttemptStart): StepAttemptScope;
  /** The trace context a child run is parented on (the run's span), if traced. */
  childTraceContext(): string | undefined;
}

/**
 * The engine's window on the world for one run on this worker: appends go through the
 * group committer, fenced by the run's lease; reads go to the store. A read that keeps
 * failing because the database is gone stops the run here (it resumes elsewhere once the
 * lease lapses) rather than failing the workflow.
 */
export class LiveHost implements ExecutionHost {
  readonly live = true;
  readonly setTimer = eventLoopTimers.setTimer;
  readonly defer = eventLoopTimers.defer;
  readonly monotonic = eventLoopTimers.monotonic;

  constructor(
    private readonly runtime: WorkerRuntime,
    private readonly task: HostedRun,
  ) {}

  now(): number {
    return this.runtime.clock.now();
  }

  async persist(events: NewEvent[], logs: LogEntry[]): Promise<void> {
    await this.saveOutOfLine(events);
    return this.runtime.committer.commit(this.task.commitRequest(events, logs));
  }

  async end(outcome: Outcome, events: NewEvent[], logs: LogEntry[]): Promise<void> {
    await this.saveOutOfLine(events);
    return this.task.end(outcome, events, logs);
  }

  /**
   * Writes the large values these events refer to, before the events: an event is never
   * durable without its value (a crash in between leaves an orphan value, never read).
   * Values are too large to wait for a group commit's company: one statement of their own.
   */
  private async saveOutOfLine(events: readonly NewEvent[]): Promise<void> {
    const payloads = events.flatMap((e) => e.outOfLine ?? []).map((v) => ({ id: v.id, text: v.text }));
    if (payloads.length === 0) return;
    const saved = await this.read(() =>
      this.runtime.store.savePayloads({ runId: this.task.id, owner: this.runtime.workerId, epoch: this.task.epoch, payloads }),
    );
    if (!saved) {
      const error = new LeaseLostError(this.task.id);
      this.task.leaseLost(error);
      throw error;
    }
  }

  async loadPayload(id: string): Promise<unknown> {
    return this.loadOf(this.task.id, id);
  }

  /** A value of a run stored out of line (this run's, or a child's output). */
  private async loadOf(runId: string, id: string): Promise<unknown> {
    const texts = await this.read(() => this.runtime.store.loadPayloads(runId, [id]));
    const text = texts.get(id);
    if (text === undefined) throw new Error(`payload ${id} of run ${runId} is not in the database`);
    return JSON.parse(text) as unknown;
  }

  /** Postgres will not store the value, however often it is sent (see isRefusedValue). */
  isRefusal(error: unknown): boolean {
    return isRefusedValue(error);
  }

  readSignal(name: string, after: string | undefined): Promise<InboxSignal | null> {
    return this.read(async () => {
      const row = await this.runtime.store.readSignal(this.task.id, name, after);
      return row ? { id: row.id, payload: row.payload, sentAt: row.sentAt.toISOString() } : null;
    });
  }

  startChild(child: ChildStart): Promise<{ parentId: string | null; workflow: string }> {
    return this.read(async () => {
      const created = await this.runtime.store.startRuns(
        [
          {
            id: child.id,
            workflow: child.workflow,
            queue: child.queue,
            input: child.input,
            priority: child.priority,
            timeoutMs: child.timeoutMs,
            parentId: child.parentId,
            fingerprint: child.fingerprint,
            traceContext: this.task.childTraceContext(),
          },
        ],
        { payloads: child.outOfLine ? [{ runId: child.id, id: child.outOfLine.id, text: child.outOfLine.text }] : [] },
      );
      if (created.has(child.id)) return { parentId: child.parentId, workflow: child.workflow };
      const existing = await this.runtime.store.getRun(child.id);
      return { parentId: existing?.parentId ?? null, workflow: existing?.workflow ?? "" };
    });
  }

  childOutcome(childId: string): Promise<ChildOutcome | null> {
    return this.read(async () => {
      const outcome = await this.runtime.store.runOutcome(childId);
      if (!outcome) return null;
      if (outcome.status === "completed") {
        // A large output is the child's: read it here, and the parent stores its own copy.
        const ref = payloadRefOf(outcome.output);
        return { status: "completed", output: ref ? await this.loadOf(childId, ref.id) : (outcome.output ?? undefined) };
      }
      return {
        status: outcome.status as "failed" | "cancelled",
        error: (outcome.error as SerializedError | null) ?? { name: "Error", message: `child run ${childId} ${outcome.status}` },
      };
    });
  }

  /** A `ctx.transaction` attempt on the store's own database (see transaction-attempt). */
  transaction(attempt: TransactionAttempt): Promise<boolean> {
    return transactionAttempt(this.runtime, this.task, attempt);
  }

  async saveHeartbeat(position: number, details: string): Promise<void> {
    const saved = await this.read(() =>
      this.runtime.store.saveHeartbeat({ runId: this.task.id, position, details, owner: this.runtime.workerId, epoch: this.task.epoch }),
    );
    if (!saved) {
      const error = new LeaseLostError(this.task.id);
      this.task.leaseLost(error);
      throw error;
    }
  }

  async breakerPermit(breaker: CircuitBreaker): Promise<BreakerPermit> {
    const permit = await this.read(() => this.runtime.store.breakerPermit(breaker.name, breaker.resetAfterMs));
    return permit.allowed ? { allowed: true } : { allowed: false, retryAfterMs: Math.max(1, permit.retryAfterMs) };
  }

  async breakerReport(breaker: CircuitBreaker, ok: boolean): Promise<void> {
    const result = await this.read(() =>
      this.runtime.store.breakerReport({ name: breaker.name, ok, failureThreshold: breaker.failureThreshold, runId: this.task.id }),
    );
    if (result?.opened) {
      this.runtime.logger.warn(`circuit breaker "${breaker.name}" opened`, { breaker: breaker.name, runId: this.task.id });
    }
  }

  onStepAttempt(start: StepAttemptStart): StepAttemptScope {
    return this.task.stepAttempt(start);
  }

  print(entry: LogEntry, runId: string, workflowName: string): void {
    this.runtime.logger.run?.(entry, runId, workflowName);
  }

  reportError(message: string, fields: { runId: string; workflowName: string }): void {
    this.runtime.logger.error(message, fields);
  }

  /** Runs a read, retrying while the database is unreachable and the lease may still hold. */
  private async read<T>(fn: () => Promise<T>): Promise<T> {
    const started = Date.now();
    let delay = 50;
    for (;;) {
      try {
        return await fn();
      } catch (error) {
        if (!isConnectionError(error)) throw error;
        if (Date.now() - started > this.runtime.leaseMs) {
          this.task.leaseLost(new LeaseLostError(this.task.id, "the database stayed unreachable longer than the lease"));
          return new Promise<never>(() => {}); // parked until the execution is dropped
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 2_000);
      }
    }
  }
}
