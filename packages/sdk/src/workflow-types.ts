import type { CircuitBreaker } from "./breaker.js";
import type { Duration } from "./duration.js";
import type { SerializedError } from "./error-codec.js";
import type { QueueDefinition } from "./queue.js";
import type { RetryPolicy } from "./retry.js";
import type { ScheduleSpec } from "./schedule-spec.js";
import type { Schema } from "./schema.js";

/** `ctx.log` and `stepCtx.log`: persisted with the run, silent during replay. */
export interface Logger {
  /** Records a line at level `debug`, with optional structured fields (JSON). */
  debug(message: string, fields?: Record<string, unknown>): void;
  /** Records a line at level `info`, with optional structured fields (JSON). */
  info(message: string, fields?: Record<string, unknown>): void;
  /** Records a line at level `warn`, with optional structured fields (JSON). */
  warn(message: string, fields?: Record<string, unknown>): void;
  /** Records a line at level `error`, with optional structured fields (JSON). */
  error(message: string, fields?: Record<string, unknown>): void;
}

/** What a failure hook receives. */
export interface FailureInfo {
  runId: string;
  workflowName: string;
  /** Set for a step's hook. */
  stepName?: string;
  /** The attempt that failed for good (the step's), or the run's attempt. */
  attempt: number;
  error: SerializedError;
  input: unknown;
}

/** A failure hook: called once per final failure, never per attempt. A throwing hook is logged and ignored. */
export type FailureHook = (failure: FailureInfo) => void | Promise<void>;

/** The context a step function receives. */
export interface StepContext {
  /** Aborted on step timeout, run cancellation, run timeout, or a lost lease. */
  readonly signal: AbortSignal;
  /** 1 for the first try. */
  readonly attempt: number;
  /** `${runId}:${position}`: the same on every attempt and after crashes; pass it to external APIs. */
  readonly idempotencyKey: string;
  readonly runId: string;
  readonly stepName: string;
  /** Like `ctx.log`, tagged with the step and attempt. */
  readonly log: Logger;
  /**
   * Saves progress durably; the next attempt of this step reads it as `lastHeartbeat`.
   * Rejects (saving nothing) once this attempt is over: timed out, cancelled, or ended.
   */
  heartbeat(details?: unknown): Promise<void>;
  /** What the last `heartbeat()` of an earlier attempt (or an earlier worker) saved. */
  readonly lastHeartbeat: unknown;
}

/** Per-step options. */
export interface StepOptions<T = unknown> {
  /** Overrides the workflow's default policy, field by field. */
  retry?: RetryPolicy;
  /** Per attempt: aborts `stepCtx.signal` and records a (retryable) `StepTimeoutError`. */
  timeout?: Duration;
  /** Custom classification: return `false` to fail at once. */
  retryIf?: (error: unknown, attempt: number) => boolean;
  /** Guards the step with a shared circuit breaker. */
  breaker?: CircuitBreaker;
  /** Validates the result before it is recorded; a failure is not retried. */
  output?: Schema<T>;
  /** Called once when this step fails for good. */
  onFailure?: FailureHook;
}

/**
 * The transaction a `ctx.transaction` function writes in, on Reprise's own database:
 * `tx.query(text, values)` returns a node-postgres result, `tx.kysely<DB>()` a Kysely bound
 * to the transaction. Valid until the function returns. (Its members are declared by the
 * store, which owns the connection: see transaction-context.ts; the replay engine only
 * hands it through.)
 */
export interface TransactionContext {}

/** Options of `ctx.transaction`. */
export interface TransactionOptions {
  /**
   * Retries after the function threw (each attempt in a new transaction, the failed one
   * rolled back). Serialization failures and deadlocks are retried at once without
   * counting as attempts.
   * @default the workflow's retry policy
   */
  retry?: RetryPolicy;
}

/** Options of `ctx.waitForSignal`. */
export interface WaitForSignalOptions<T> {
  /** Throws `SignalTimeoutError` when no signal arrived in time. */
  timeout?: Duration;
  /** Validates the payload (also checked by `client.signal` when declared in the workflow's `signals`). */
  schema?: Schema<T>;
}

/** Options of `ctx.child`. */
export interface ChildOptions {
  /** The child's run id. @default `${parentRunId}-${position}` */
  id?: string;
  /** @default the child workflow's queue */
  queue?: string;
  /** @default 0 */
  priority?: number;
}

/** An item that `ctx.map` gave up on, as stored in the dead-letter table. */
export interface DeadLetter<T = unknown> {
  /** The dead letter's id (for `reprise dlq retry`). Absent inside the workflow before it is stored. */
  id?: string;
  runId: string;
  workflowName?: string;
  map: string;
  index: number;
  item: T;
  error: SerializedError;
  createdAt?: Date;
  /** The run that redrove it (`client.retryDeadLetter`), if any. */
  retriedBy?: string;
}

/** Options of `ctx.map`. */
export interface MapOptions {
  /** Items in flight at once. @default 10 */
  concurrency?: number;
  /** `"fail"` throws the first failure; `"dead-letter"` stores failed items and goes on. @default "fail" */
  onItemFailure?: "fail" | "dead-letter";
  /** Retry policy of each item's step. */
  retry?: RetryPolicy;
  /** Per-attempt timeout of each item's step. */
  timeout?: Duration;
  /** Custom classification of each item's failures: return `false` to fail the item at once. */
  retryIf?: (error: unknown, attempt: number) => boolean;
}

/** What `ctx.map` returns: `results[i]` is item i's result, `undefined` when dead-lettered. */
export interface MapResult<T, R> {
  results: (R | undefined)[];
  deadLettered: DeadLetter<T>[];
}

/** The workflow context: every durable call takes the next position in the run's history. */
export interface WorkflowContext {
  readonly runId: string;
  readonly workflowName: string;
  /** Aborted when the run is cancelled or times out. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** Runs `fn` at most once to completion per run; replay returns the recorded result. */
  step<T>(name: string, fn: (ctx: StepContext) => T | Promise<T>, options?: StepOptions<T>): Promise<T>;
  /**
   * A step whose function runs inside a Postgres transaction on Reprise's database, and whose
   * completion is recorded in that same transaction, fenced by the run's lease: its writes
   * to that database happen exactly once. A crash before the commit leaves neither the
   * writes nor the completion (the step runs again); after it, replay returns the recorded
   * result without calling `fn`; a worker that lost its lease commits nothing. Effects
   * outside the database (an HTTP call made from `fn`) are not covered: they may repeat.
   *
   * ```ts
   * const orderId = await ctx.transaction("save-order", async (tx) => {
   *   const { rows } = await tx.query("INSERT INTO orders (total) VALUES ($1) RETURNING id", [total]);
   *   return rows[0].id;
   * });
   * ```
   */
  transaction<T>(name: string, fn: (tx: TransactionContext) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** A durable timer. */
  sleep(duration: Duration): Promise<void>;
  /** A durable timer until a point in time (a time already past returns at once). */
  sleepUntil(at: Date): Promise<void>;
  /**
   * Suspends until `client.signal(runId, name, payload)` arrives (first-in first-out per
   * name). Use `timeout` rather than racing the wait against a sleep: a wait that loses a
   * `Promise.race` is not cancelled, and takes the next signal of its name.
   */
  waitForSignal<T = unknown>(name: string, options?: WaitForSignalOptions<T>): Promise<T>;
  /**
   * Starts a child run and waits for its result; its failure is thrown as `ChildFailedError`.
   * A definition (`defineWorkflow`) will do: the child runs on whichever worker implements it.
   */
  child<I, O, In>(workflow: WorkflowRef<I, O, In>, input: In, options?: ChildOptions): Promise<O>;
  /** One durable step per item, at most `concurrency` in flight. */
  map<T, R>(
    name: string,
    items: readonly T[],
    fn: (item: T, index: number, ctx: StepContext) => R | Promise<R>,
    options?: MapOptions,
  ): Promise<MapResult<T, R>>;
  /** Deterministic: the same on every replay. */
  now(): Date;
  /** Like `Math.random()`, recorded on first use: the same on every replay. */
  random(): number;
  /** A new ULID, recorded on first use: the same on every replay. */
  ulid(): string;
  /** True for runs that reach this point with the new code, false when replaying a history recorded before it. */
  patched(id: string): boolean;
}

/** The function of a workflow: its durable calls go through `ctx`; `input` is the parsed input. */
export type WorkflowFunction<I, O> = (ctx: WorkflowContext, input: I) => Promise<O>;

/** Options of {@link workflow}. `In` is the input type callers pass (before the schema's defaults). */
export interface WorkflowOptions<I, O, In = I> {
  /** Stable identity, stored in the log. */
  name: string;
  /** Validates the input at `start`, before anything is stored. */
  input?: Schema<I, In>;
  /** Validates the result before it is stored. */
  output?: Schema<O>;
  /** The queue its runs go to: a name, or a `queue()` definition with limits. @default "default" */
  queue?: string | QueueDefinition;
  /** Default retry policy of its steps. */
  retry?: RetryPolicy;
  /** Whole-run deadline, counted from the start. */
  timeout?: Duration;
  /** Called once when the run fails for good. */
  onFailure?: FailureHook;
  /**
   * Runs this workflow on a schedule with the id of the workflow's name, written by every
   * worker start (input: `{ scheduledAt }`, an ISO-8601 string, plus the schedule's `input`).
   */
  schedule?: ScheduleSpec;
  /** Payload schemas of the signals it waits for; `client.signal` validates against them. */
  signals?: Record<string, Schema<unknown>>;
  /** @default 0 (higher runs first) */
  priority?: number;
  /**
   * Events that start this workflow (`client.emit(name, payload)`, `emit()` in SQL,
   * `reprise emit`): one run per event and workflow, with the event's payload as input.
   * Workers declare these triggers at start, as they declare schedules.
   */
  on?: string | readonly string[];
  /**
   * `"pinned"`: a run stays on workers of the version (`new Worker({ version })`) that first
   * ran it until it ends. `"auto-upgrade"`: any worker continues it; guard changed code with
   * `ctx.patched`. @default "auto-upgrade"
   */
  versioning?: Versioning;
}

/** How a run's deployment version binds it (see `WorkflowOptions.versioning`). */
export type Versioning = "pinned" | "auto-upgrade";

/**
 * What a caller needs to start a workflow and type its result, and nothing of its code:
 * its name, input and output schemas, queue, timeout, priority and signal schemas. The
 * options of `defineWorkflow`.
 */
export type WorkflowContract<I, O, In = I> = Pick<WorkflowOptions<I, O, In>, "name" | "input" | "output" | "queue" | "timeout" | "priority" | "signals">;

/** What only the implementation says: retries, failure hook, triggers, schedule, versioning. */
export type ImplementationOptions<I, O, In = I> = Omit<WorkflowOptions<I, O, In>, keyof WorkflowContract<I, O, In>>;

/**
 * A workflow as `client.start`, `client.run`, `ctx.child` and `client.emit`'s validation see
 * it: a definition (`defineWorkflow`) or an implementation (`workflow`).
 */
export interface WorkflowRef<I = unknown, O = unknown, In = I> {
  readonly name: string;
  /** The name of its queue. */
  readonly queue: string;
  /** The queue's limits when it was given as a `queue()` definition. */
  readonly queueDefinition: QueueDefinition | undefined;
  readonly options: WorkflowContract<I, O, In>;
  readonly timeoutMs: number | undefined;
  /** A hash of the workflow function's source; undefined for a definition, which has none. */
  readonly fingerprint: string | undefined;
  /** Validates an input (the identity when there is no schema). @throws ValidationError */
  parseInput(input: unknown): I;
  /** Type-only: what `client.start` accepts. */
  readonly __input?: In;
  /** Type-only: what the run returns. */
  readonly __output?: O;
}

/** Any workflow reference, whatever its types. */
export type AnyWorkflowRef = WorkflowRef<unknown, unknown, unknown>;

/**
 * A workflow's name and types apart from its code (`defineWorkflow`): a service imports it
 * to start runs, typed, without importing the worker's code; the worker implements it.
 */
export interface WorkflowDefinition<I = unknown, O = unknown, In = I> extends WorkflowRef<I, O, In> {
  /** The implementation, for the worker: the same as `workflow(definition, options, fn)`. */
  implement(fn: WorkflowFunction<I, O>, options?: ImplementationOptions<I, O, In>): Workflow<I, O, In>;
}

/**
 * A workflow definition, used by `Worker` to run it and by `Client` to start it. `I` is the
 * input the function receives, `O` its result, `In` what `client.start` accepts.
 */
export interface Workflow<I = unknown, O = unknown, In = I> extends WorkflowRef<I, O, In> {
  readonly options: WorkflowOptions<I, O, In>;
  /** The workflow function (a method, so that any workflow is a `Workflow<unknown, unknown, unknown>`). */
  fn(ctx: WorkflowContext, input: I): Promise<O>;
  /** A hash of the workflow function's source, recorded with each run it starts. */
  readonly fingerprint: string;
  /** The events that start it (`on`, as a list). */
  readonly triggers: readonly string[];
  readonly versioning: Versioning;
}

/** Any workflow, whatever its input and output types (what a worker or a replay takes). */
export type AnyWorkflow = Workflow<unknown, unknown, unknown>;
