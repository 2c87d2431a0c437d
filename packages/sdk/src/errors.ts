import { toMillis, type Duration } from "./duration.js";
import { describeDivergence, type CallDescription } from "./divergence.js";

/** Stable codes of every Reprise error, one per class, the worker's included. */
export const ErrorCode = {
  Internal: "INTERNAL",
  NonRetryable: "NON_RETRYABLE",
  Retryable: "RETRYABLE",
  Validation: "VALIDATION",
  NotSerializable: "NOT_SERIALIZABLE",
  StepFailed: "STEP_FAILED",
  StepTimeout: "STEP_TIMEOUT",
  WorkflowTimeout: "WORKFLOW_TIMEOUT",
  WorkflowFailed: "WORKFLOW_FAILED",
  Cancelled: "CANCELLED",
  SignalTimeout: "SIGNAL_TIMEOUT",
  ChildFailed: "CHILD_FAILED",
  NonDeterminism: "NON_DETERMINISM",
  CircuitOpen: "CIRCUIT_OPEN",
  RunNotFound: "RUN_NOT_FOUND",
  DeadLetterNotFound: "DEAD_LETTER_NOT_FOUND",
  InvalidRunState: "INVALID_RUN_STATE",
  UnknownWorkflow: "UNKNOWN_WORKFLOW",
  Database: "DATABASE",
  ResultTimeout: "RESULT_TIMEOUT",
  ScheduleNotFound: "SCHEDULE_NOT_FOUND",
  ScheduleExists: "SCHEDULE_EXISTS",
  AlertNotFound: "ALERT_NOT_FOUND",
  ReplayDiverged: "REPLAY_DIVERGED",
  /** The worker no longer holds a run's lease (`@reprise/worker`'s LeaseLostError). */
  LeaseLost: "LEASE_LOST",
  /** A worker's options are invalid (`@reprise/worker`'s WorkerConfigError). */
  WorkerConfig: "WORKER_CONFIG",
  /** A webhook channel's receiver answered with an error status (`@reprise/worker`'s WebhookError). */
  WebhookFailed: "WEBHOOK_FAILED",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * The base of every error Reprise throws. `code` is stable across versions; match on it
 * (or on the class) rather than on messages.
 */
export class RepriseError extends Error {
  override name = "RepriseError";
  readonly code: string;
  /** Extra structured details; stored with the error. */
  readonly data?: unknown;
  /** `false` when retrying cannot help. `undefined` means "decided by the retry policy". */
  readonly retryable?: boolean;

  constructor(message: string, options: { code?: string; cause?: unknown; data?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? ErrorCode.Internal;
    if (options.data !== undefined) this.data = options.data;
    if (options.retryable !== undefined) this.retryable = options.retryable;
  }
}

/**
 * Thrown from a step to fail it at once, without retries (an HTTP 4xx, a bad record).
 *
 * ```ts
 * if (res.status === 404) throw new NonRetryableError(`no such order ${id}`);
 * ```
 */
export class NonRetryableError extends RepriseError {
  override name = "NonRetryableError";
  constructor(message: string, options: { cause?: unknown; data?: unknown } = {}) {
    super(message, { ...options, code: ErrorCode.NonRetryable, retryable: false });
  }
}

/**
 * Thrown from a step to ask for a retry, optionally after a given delay that overrides the
 * policy's backoff (an HTTP 429 with `Retry-After`).
 *
 * ```ts
 * throw new RetryableError("rate limited", { retryAfter: "30s" });
 * ```
 */
export class RetryableError extends RepriseError {
  override name = "RetryableError";
  /** The delay before the next attempt, in milliseconds, when given. */
  readonly retryAfterMs?: number;
  constructor(message: string, options: { retryAfter?: Duration; cause?: unknown; data?: unknown } = {}) {
    super(message, { cause: options.cause, data: options.data, code: ErrorCode.Retryable, retryable: true });
    if (options.retryAfter !== undefined) this.retryAfterMs = toMillis(options.retryAfter);
  }
}

/** A workflow input, step output, signal payload or option failed validation. Never retried. */
export class ValidationError extends RepriseError {
  override name = "ValidationError";
  constructor(message: string, options: { cause?: unknown; data?: unknown; code?: string } = {}) {
    super(message, { ...options, code: options.code ?? ErrorCode.Validation, retryable: false });
  }
}

/** A step result, workflow output or input that cannot be stored as JSON. Never retried. */
export class SerializationError extends ValidationError {
  override name = "SerializationError";
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, code: ErrorCode.NotSerializable });
  }
}

/**
 * Thrown into the workflow when a step failed for good (retries exhausted, or a
 * non-retryable error). The workflow may catch it and fall back.
 */
export class StepFailedError extends RepriseError {
  override name = "StepFailedError";
  readonly stepName: string;
  readonly attempts: number;
  declare readonly cause: Error;
  constructor(stepName: string, attempts: number, cause: Error) {
    super(`step "${stepName}" failed after ${attempts} attempt${attempts === 1 ? "" : "s"}: ${cause.name}: ${cause.message}`, {
      code: ErrorCode.StepFailed,
      cause,
      data: { stepName, attempts },
    });
    this.stepName = stepName;
    this.attempts = attempts;
  }
}

/** One attempt of a step ran longer than its `timeout`. Retryable. */
export class StepTimeoutError extends RepriseError {
  override name = "StepTimeoutError";
  constructor(stepName: string, timeoutMs: number) {
    super(`step "${stepName}" timed out after ${timeoutMs}ms`, {
      code: ErrorCode.StepTimeout,
      retryable: true,
      data: { stepName, timeoutMs },
    });
  }
}

/** The run passed its whole-run `timeout`. */
export class WorkflowTimeoutError extends RepriseError {
  override name = "WorkflowTimeoutError";
  constructor(runId: string, timeoutMs: number) {
    super(`run ${runId} timed out: it did not finish within ${timeoutMs}ms of its start`, {
      code: ErrorCode.WorkflowTimeout,
      retryable: false,
      data: { runId, timeoutMs },
    });
  }
}

/** Thrown by `handle.result()` when the run failed; `cause` is the run's error. */
export class WorkflowFailedError extends RepriseError {
  override name = "WorkflowFailedError";
  readonly runId: string;
  declare readonly cause: Error;
  constructor(runId: string, cause: Error) {
    super(`run ${runId} failed: ${cause.name}: ${cause.message}`, { code: ErrorCode.WorkflowFailed, cause, data: { runId } });
    this.runId = runId;
  }
}

/** The run was cancelled; thrown by durable calls after cancellation and by `result()`. */
export class CancelledError extends RepriseError {
  override name = "CancelledError";
  readonly reason?: string;
  constructor(message = "the run was cancelled", options: { reason?: string; runId?: string } = {}) {
    super(options.reason ? `${message}: ${options.reason}` : message, {
      code: ErrorCode.Cancelled,
      retryable: false,
      data: { reason: options.reason, runId: options.runId },
    });
    if (options.reason !== undefined) this.reason = options.reason;
  }
}

/** `ctx.waitForSignal` reached its timeout before the signal arrived. */
export class SignalTimeoutError extends RepriseError {
  override name = "SignalTimeoutError";
  readonly signalName: string;
  constructor(signalName: string, timeoutMs: number) {
    super(`no signal "${signalName}" arrived within ${timeoutMs}ms`, {
      code: ErrorCode.SignalTimeout,
      data: { signalName, timeoutMs },
    });
    this.signalName = signalName;
  }
}

/** A child run started with `ctx.child` failed or was cancelled; `cause` is its error. */
export class ChildFailedError extends RepriseError {
  override name = "ChildFailedError";
  readonly childId: string;
  readonly workflowName: string;
  declare readonly cause: Error;
  constructor(childId: string, workflowName: string, cause: Error) {
    super(`child run ${childId} (${workflowName}) failed: ${cause.name}: ${cause.message}`, {
      code: ErrorCode.ChildFailed,
      cause,
      data: { childId, workflowName },
    });
    this.childId = childId;
    this.workflowName = workflowName;
  }
}

/**
 * The workflow code no longer matches the recorded history: at `position` the log recorded
 * one call and the code made another. The run fails; nothing is appended after the divergence.
 */
export class NonDeterminismError extends RepriseError {
  override name = "NonDeterminismError";
  readonly runId: string;
  readonly position: number;
  readonly recorded: CallDescription | null;
  readonly actual: CallDescription | null;
  constructor(details: { runId: string; position: number; recorded: CallDescription | null; actual: CallDescription | null }) {
    super(describeDivergence(details), { code: ErrorCode.NonDeterminism, retryable: false, data: details });
    this.runId = details.runId;
    this.position = details.position;
    this.recorded = details.recorded;
    this.actual = details.actual;
  }
}

/** A step guarded by a circuit breaker was refused because the breaker is open. Retryable. */
export class CircuitOpenError extends RepriseError {
  override name = "CircuitOpenError";
  readonly breaker: string;
  /** Milliseconds until the breaker lets a trial call through. */
  readonly retryAfter: number;
  readonly retryAfterMs: number;
  constructor(breaker: string, retryAfterMs: number) {
    super(`circuit breaker "${breaker}" is open; next trial in ${Math.ceil(retryAfterMs)}ms`, {
      code: ErrorCode.CircuitOpen,
      retryable: true,
      data: { breaker, retryAfterMs },
    });
    this.breaker = breaker;
    this.retryAfter = retryAfterMs;
    this.retryAfterMs = retryAfterMs;
  }
}

/** No run has this id. */
export class RunNotFoundError extends RepriseError {
  override name = "RunNotFoundError";
  readonly runId: string;
  constructor(runId: string) {
    super(`no run with id "${runId}"`, { code: ErrorCode.RunNotFound, retryable: false, data: { runId } });
    this.runId = runId;
  }
}

/** No dead letter has this id. */
export class DeadLetterNotFoundError extends RepriseError {
  override name = "DeadLetterNotFoundError";
  constructor(id: string) {
    super(`no dead letter with id "${id}"`, { code: ErrorCode.DeadLetterNotFound, retryable: false, data: { id } });
  }
}

/** The operation does not apply to the run in its current status (retrying a completed run, signalling a finished one). */
export class InvalidRunStateError extends RepriseError {
  override name = "InvalidRunStateError";
  readonly runId: string;
  readonly status: string;
  constructor(runId: string, status: string, action: string, hint?: string) {
    super(`cannot ${action} run ${runId}: it is ${status}${hint ? `; ${hint}` : ""}`, {
      code: ErrorCode.InvalidRunState,
      retryable: false,
      data: { runId, status, action },
    });
    this.runId = runId;
    this.status = status;
  }
}

/**
 * A run names a workflow that the worker or client was not given, or a start by definition
 * names one no worker has ever declared (`hint` says what to do).
 */
export class UnknownWorkflowError extends RepriseError {
  override name = "UnknownWorkflowError";
  readonly workflowName: string;
  constructor(name: string, known: readonly string[] = [], hint?: string) {
    super(`unknown workflow "${name}"${known.length ? ` (known: ${known.join(", ")})` : ""}${hint ? `: ${hint}` : ""}`, {
      code: ErrorCode.UnknownWorkflow,
      retryable: false,
      data: { workflowName: name },
    });
    this.workflowName = name;
  }
}

/** The database could not be reached or refused the operation; `cause` is the driver's error. */
export class DatabaseError extends RepriseError {
  override name = "DatabaseError";
  constructor(message: string, cause?: unknown) {
    super(message, { code: ErrorCode.Database, cause });
  }
}

/** `result({ timeout })` gave up waiting; the run goes on. */
export class ResultTimeoutError extends RepriseError {
  override name = "ResultTimeoutError";
  constructor(runId: string, timeoutMs: number) {
    super(`run ${runId} did not finish within ${timeoutMs}ms`, { code: ErrorCode.ResultTimeout, data: { runId, timeoutMs } });
  }
}

/** No schedule has this id. */
export class ScheduleNotFoundError extends RepriseError {
  override name = "ScheduleNotFoundError";
  readonly scheduleId: string;
  constructor(scheduleId: string) {
    super(`no schedule with id "${scheduleId}"`, { code: ErrorCode.ScheduleNotFound, retryable: false, data: { scheduleId } });
    this.scheduleId = scheduleId;
  }
}

/** `client.schedules.create` was given an id that is taken; use `update` to change it. */
export class ScheduleExistsError extends ValidationError {
  override name = "ScheduleExistsError";
  readonly scheduleId: string;
  constructor(scheduleId: string) {
    super(`a schedule with id "${scheduleId}" already exists (use schedules.update to change it)`, {
      code: ErrorCode.ScheduleExists,
      data: { scheduleId },
    });
    this.scheduleId = scheduleId;
  }
}

/** No alert has this id. */
export class AlertNotFoundError extends RepriseError {
  override name = "AlertNotFoundError";
  readonly alertId: string;
  constructor(alertId: string) {
    super(`no alert with id "${alertId}"`, { code: ErrorCode.AlertNotFound, retryable: false, data: { alertId } });
    this.alertId = alertId;
  }
}
