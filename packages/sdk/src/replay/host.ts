import type { NewEvent } from "../events.js";
import type { SerializedError } from "../error-codec.js";
import type { CircuitBreaker } from "../breaker.js";
import type { TransactionContext } from "../workflow-types.js";
import type { Outcome } from "./outcome.js";
import type { OutOfLineValue } from "../payload.js";

/** A line of `ctx.log` / `stepCtx.log`. */
export interface LogEntry {
  at: string;
  level: "debug" | "info" | "warn" | "error";
  message: string;
  fields?: Record<string, unknown>;
  position?: number;
  step?: string;
  attempt?: number;
}

/** A signal waiting in a run's inbox. */
export interface InboxSignal {
  id: string;
  payload: unknown;
  sentAt: string;
}

/** What the engine asks the host to create for `ctx.child`. */
export interface ChildStart {
  id: string;
  workflow: string;
  queue: string;
  priority: number;
  /** The validated input as JSON text (undefined for none), or the reference to it when it is stored out of line. */
  input: string | undefined;
  /** The input, when it is too large to sit in the run's row: stored with the child. */
  outOfLine?: OutOfLineValue | undefined;
  parentId: string;
  /** Undefined when the parent started it by its definition (no code at hand). */
  fingerprint: string | undefined;
  timeoutMs: number | undefined;
}

/** A child run's end, or `null` while it runs. */
export type ChildOutcome =
  | { status: "completed"; output: unknown }
  | { status: "failed" | "cancelled"; error: SerializedError };

/** Whether a breaker lets a call through. */
export type BreakerPermit = { allowed: true } | { allowed: false; retryAfterMs: number };

/** One attempt of `ctx.transaction`, as the engine hands it to the host. */
export interface TransactionAttempt {
  /** The step's function, run against the open transaction. */
  run(tx: TransactionContext): Promise<unknown>;
  /**
   * Called inside the transaction with what `run` returned: the completion event to append
   * in it, fenced by the run's lease, or undefined to roll back (the run ended meanwhile).
   * Throws (rolled back) when the result cannot be stored. The event's seq is the same on
   * every call of one attempt, so a retry after an ambiguous commit cannot record it twice.
   */
  complete(value: unknown): NewEvent | undefined;
}

/** A step attempt about to run, as the host is told of it. */
export interface StepAttemptStart {
  position: number;
  name: string;
  /** 1 for the first try. */
  attempt: number;
  /** When the attempt started (ISO, the database's clock): what its events will record. */
  startedAt: string;
  /** When this step's first failed attempt ended (ms since the epoch), if one did. */
  firstFailureAt?: number;
}

/** How a step attempt ended. */
export interface StepAttemptEnd {
  /** `abandoned`: the run stopped under it (cancelled, timed out, lease lost); its result is discarded. */
  outcome: "succeeded" | "failed" | "abandoned";
  durationMs: number;
  /** For a failed attempt: whether the step will be tried again. */
  retrying?: boolean;
  error?: Error;
}

/** What a host does around one step attempt (a span, metrics, what is in flight). */
export interface StepAttemptScope {
  /** Calls the step function (e.g. with the attempt's span active) and returns what it returns. */
  run<T>(fn: () => T): T;
  /** Called exactly once, when the attempt is over. */
  end(result: StepAttemptEnd): void;
}

/** The host's timers: the engine keeps none of its own (see event-loop-timers.ts). */
export interface HostTimers {
  /** Calls `fn` after `ms` milliseconds; the returned function cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
  /** Calls `fn` once everything already queued has run: every branch has gone as far as it can. */
  defer(fn: () => void): void;
  /** A monotonic clock in milliseconds, for durations (never stored as a time). */
  monotonic(): number;
}

/**
 * Everything the engine needs from the world. The worker implements it against Postgres;
 * `replay()` implements it with no effects at all (`live: false`), in which case the engine
 * never calls the effectful methods and stops at the first call the history cannot answer.
 */
export interface ExecutionHost extends HostTimers {
  /** False for a side-effect-free replay. */
  readonly live: boolean;
  /** Milliseconds since the epoch on the database's clock. */
  now(): number;
  /** Appends events (and log lines) durably, fenced by the run's lease. */
  persist(events: NewEvent[], logs: LogEntry[]): Promise<void>;
  /**
   * Records how this execution of the run ended: its last events and log lines with the
   * run's move (completed, failed, suspended, cancelled, handed back; nothing once the lease
   * is lost). Rejects like `persist`; a refusal makes the engine fail the run instead.
   */
  end(outcome: Outcome, events: NewEvent[], logs: LogEntry[]): Promise<void>;
  /**
   * True when an error of `persist` or `end` means the log refuses what was sent (a value the
   * database cannot store): retrying cannot help, so the run fails instead.
   */
  isRefusal(error: unknown): boolean;
  /**
   * A value of this run stored out of line (a recorded step result, signal payload, input,
   * child output over the inline limit), parsed. The engine asks only when the workflow
   * code reaches it. Rejects when it cannot be had (a replay without the database).
   */
  loadPayload(id: string): Promise<unknown>;
  /** The oldest signal of that name after `after` (a signal id), if any. */
  readSignal(name: string, after: string | undefined): Promise<InboxSignal | null>;
  /** Creates the child run unless a run with that id exists; returns the existing or new run's parent. */
  startChild(child: ChildStart): Promise<{ parentId: string | null; workflow: string }>;
  childOutcome(childId: string): Promise<ChildOutcome | null>;
  /**
   * Runs an attempt of `ctx.transaction` in one database transaction: `run`, then the event
   * `complete` returns appended, then COMMIT. Serialization failures and deadlocks are
   * retried by the host (run again). Resolves true once committed, false when `complete`
   * asked for a rollback; rejects with what `run` or `complete` threw, or what the database
   * refused, with nothing of the attempt stored. A lost lease stops the run (as `persist`).
   */
  transaction(attempt: TransactionAttempt): Promise<boolean>;
  /** Saves a step's progress (JSON text) for its next attempt. */
  saveHeartbeat(position: number, details: string): Promise<void>;
  /** Asks a circuit breaker for permission, and reports the call's result to it. */
  breakerPermit(breaker: CircuitBreaker): Promise<BreakerPermit>;
  breakerReport(breaker: CircuitBreaker, ok: boolean): Promise<void>;
  /** Shows a log line (persisting is `persist`'s job). */
  print(entry: LogEntry, runId: string, workflowName: string): void;
  /** Reports a problem of the execution that is no log line of the workflow's (a failure hook that threw). */
  reportError(message: string, fields: { runId: string; workflowName: string }): void;
  /**
   * Optional: told of each step attempt that runs, for what observes runs (metrics, spans,
   * the steps in flight). Only live attempts are reported: a replay runs none, so what a
   * host does here can never change a replay. Nothing is stored through it.
   */
  onStepAttempt?(attempt: StepAttemptStart): StepAttemptScope | undefined;
}
