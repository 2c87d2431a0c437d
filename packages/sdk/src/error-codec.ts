import {
  AlertNotFoundError,
  CancelledError,
  ChildFailedError,
  CircuitOpenError,
  DatabaseError,
  DeadLetterNotFoundError,
  InvalidRunStateError,
  NonDeterminismError,
  NonRetryableError,
  RepriseError,
  RetryableError,
  RunNotFoundError,
  ScheduleExistsError,
  ScheduleNotFoundError,
  SerializationError,
  SignalTimeoutError,
  StepFailedError,
  StepTimeoutError,
  UnknownWorkflowError,
  ValidationError,
  WorkflowFailedError,
  WorkflowTimeoutError,
} from "./errors.js";
import { storableText } from "./json.js";

/**
 * An error as it is stored in the event log and in `RunInfo.error`. On replay a recorded
 * failure is rethrown with the same `name` and `message`.
 */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  data?: unknown;
  cause?: SerializedError;
  /** `false` for errors that must not be retried. */
  retryable?: boolean;
}

/** Turns anything thrown into an `Error`. */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  if (typeof thrown === "string") return new Error(thrown);
  return new Error(`non-error thrown: ${describeThrown(thrown)}`);
}

/**
 * Words for a thrown value that is not an Error. Never throws: a value JSON cannot hold (a
 * BigInt, a cycle, nesting too deep) and String() cannot either (an object without a
 * prototype) is named by its type, so that the failure is still recorded and retried.
 */
function describeThrown(thrown: unknown): string {
  try {
    const text = JSON.stringify(thrown);
    if (text !== undefined) return text.length > 1_000 ? `${text.slice(0, 1_000)}…` : text;
  } catch {
    // JSON cannot hold it: try its own words.
  }
  try {
    return String(thrown);
  } catch {
    return Object.prototype.toString.call(thrown);
  }
}

const MAX_CAUSE_DEPTH = 8;

/** The stored form of an error (and of its `cause` chain). */
export function serializeError(thrown: unknown, depth = 0): SerializedError {
  const error = toError(thrown);
  // What anything threw must be storable: a NUL in a message would make the log refuse the
  // failure, and a transient error look like a broken run. Such characters become U+FFFD.
  const out: SerializedError = { name: storableText(String(error.name || "Error")), message: storableText(String(error.message)) };
  if (error.stack) out.stack = storableText(String(error.stack));
  const extra = error as Error & { code?: unknown; data?: unknown; retryable?: unknown };
  if (typeof extra.code === "string") out.code = storableText(extra.code);
  if (extra.data !== undefined) out.data = jsonSafe(extra.data);
  if (typeof extra.retryable === "boolean") out.retryable = extra.retryable;
  if (error.cause !== undefined && depth < MAX_CAUSE_DEPTH) out.cause = serializeError(error.cause, depth + 1);
  return out;
}

/** `value` as storable JSON: what JSON cannot hold is dropped or named, strings made storable. */
function jsonSafe(value: unknown): unknown {
  try {
    const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === "string" ? storableText(v) : typeof v === "bigint" ? String(v) : v));
    return text === undefined ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return storableText(String(value));
  }
}

/** JavaScript's own error classes: rebuilt as instances, so `instanceof TypeError` holds on replay too. */
const builtinClasses: Record<string, { prototype: Error }> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

const errorClasses: Record<string, { prototype: Error }> = {
  RepriseError,
  NonRetryableError,
  RetryableError,
  ValidationError,
  SerializationError,
  StepFailedError,
  StepTimeoutError,
  WorkflowTimeoutError,
  WorkflowFailedError,
  CancelledError,
  SignalTimeoutError,
  ChildFailedError,
  NonDeterminismError,
  CircuitOpenError,
  RunNotFoundError,
  DeadLetterNotFoundError,
  InvalidRunStateError,
  UnknownWorkflowError,
  DatabaseError,
  ScheduleNotFoundError,
  ScheduleExistsError,
  AlertNotFoundError,
};

/**
 * Rebuilds an error from its stored form: same `name`, `message`, `stack`, `code` and
 * `cause` chain. Reprise's own classes and JavaScript's built-in ones (`TypeError`, …) come
 * back as instances of their class, Reprise's with the fields their constructors set
 * restored from `data`. Other classes come back as an `Error` with the recorded `name`: match
 * your own errors by `name` or `code`, which replay keeps, rather than by `instanceof`.
 */
export function deserializeError(stored: SerializedError): Error {
  const cls = errorClasses[stored.name];
  const builtin = builtinClasses[stored.name];
  const error: Error = cls ? (Object.create(cls.prototype) as Error) : builtin ? (Object.create(builtin.prototype) as Error) : new Error(stored.message);
  const fields: Record<string, unknown> = {
    name: stored.name,
    message: stored.message,
    stack: stored.stack ?? `${stored.name}: ${stored.message}`,
  };
  if (stored.code !== undefined) fields.code = stored.code;
  if (stored.retryable !== undefined) fields.retryable = stored.retryable;
  if (stored.data !== undefined) {
    fields.data = stored.data;
    if (cls && stored.data !== null && typeof stored.data === "object") Object.assign(fields, stored.data);
  }
  if (stored.cause) fields.cause = deserializeError(stored.cause);
  for (const [key, value] of Object.entries(fields)) {
    Object.defineProperty(error, key, { value, writable: true, configurable: true, enumerable: key !== "stack" && key !== "message" });
  }
  return error;
}

/** The stored error of a cancelled run (its `RunInfo.error`): one shape wherever a run is cancelled. */
export function cancelledError(runId: string, reason?: string): SerializedError {
  return serializeError(new CancelledError("the run was cancelled", { ...(reason === undefined ? {} : { reason }), runId }));
}
