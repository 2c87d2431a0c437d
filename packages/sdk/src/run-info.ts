import type { CallerTransaction, RunRecord } from "@reprise/store";
import type { Duration } from "./duration.js";
import type { SerializedError } from "./error-codec.js";

/** Options of `client.start`. */
export interface StartOptions {
  /** The run id, and its idempotency key: starting an existing id returns the existing run. @default a ULID */
  id?: string;
  /** @default the workflow's queue */
  queue?: string;
  /** Wait this long before the run may start. */
  delay?: Duration;
  /** Higher runs first. @default the workflow's, else 0 */
  priority?: number;
  /**
   * Start a definition (`defineWorkflow`) whose name no worker has declared yet, to wait
   * for the first worker that implements it. Without it that is an `UnknownWorkflowError`.
   * @default false
   */
  allowUndeclared?: boolean;
  /**
   * Creates the run inside your own transaction on Reprise's database: a node-postgres client
   * after `BEGIN` (a `Client`, or a `PoolClient` from `pool.connect()`), or a Kysely
   * transaction. The run, and the notification that wakes a worker, exist only once that
   * transaction commits; rolled back, the run never existed.
   * @default none: the run is created on its own, at once
   */
  transaction?: StartTransaction;
}

/** A transaction `client.start` can create a run in: a node-postgres client inside `BEGIN`, or a Kysely transaction. */
export type StartTransaction = CallerTransaction;

/** One run of `client.startMany`. */
export interface StartManyItem<In = unknown> {
  input: In;
  /** The run id, and its idempotency key. @default a ULID */
  id?: string;
  /** Wait this long before the run may start. */
  delay?: Duration;
  /** Higher runs first. @default the workflow's, else 0 */
  priority?: number;
}

/** Where a run is: `queued` to `running`, `sleeping`/`waiting` while suspended, then one of the three ends. */
export type RunStatus = "queued" | "running" | "sleeping" | "waiting" | "completed" | "failed" | "cancelled";

/** A step attempt running now, as the worker running it last reported (about once a second). */
export interface InFlightStep {
  name: string;
  position: number;
  attempt: number;
  /** When the attempt started (the database's clock). */
  startedAt: Date;
  /** The worker running it (the run's lease owner). */
  workerId: string;
}

/** A run as `status()` and `listRuns()` describe it. */
export interface RunInfo {
  id: string;
  workflowName: string;
  status: RunStatus;
  input: unknown;
  output?: unknown;
  error?: SerializedError;
  /** 1, plus one per manual retry. */
  attempt: number;
  createdAt: Date;
  updatedAt: Date;
  parentId?: string;
  queue: string;
  priority: number;
  /** A hash of the workflow code the run started with. */
  fingerprint?: string;
  /** The run this one was forked from. */
  forkedFrom?: string;
  /** When a worker first took the run. */
  startedAt?: Date;
  /** The version (`new Worker({ version })`) of the worker that first ran it. */
  version?: string;
  /** True when only workers of `version` may continue it (`versioning: "pinned"`). */
  pinned?: boolean;
  /**
   * Set while the run is pinned to a version that has no live worker: it waits for one
   * (start a worker of that version, or cancel it).
   */
  waitingForVersion?: string;
  /**
   * While the run is `running`: the step attempt in flight that started first, as the
   * worker holding the run reported it within about the last second. A step that started
   * and ended in between is not seen. If that worker died, this stays until another one
   * claims the run.
   */
  currentStep?: InFlightStep;
  /** Every step attempt in flight (parallel steps), oldest first, when there is one. */
  stepsInFlight?: InFlightStep[];
}

/** Filters of `listRuns`. */
export interface ListRunsOptions {
  status?: RunStatus;
  workflow?: string;
  /** @default 50 */
  limit?: number;
  /** A run id from the previous page: list the runs created before it. */
  after?: string;
  /** Only runs created at or after this time. */
  from?: Date;
  /** Only runs created before this time. */
  to?: Date;
}

/** The public view of a stored run. */
export function toRunInfo(run: RunRecord): RunInfo {
  const info: RunInfo = {
    id: run.id,
    workflowName: run.workflow,
    status: run.status as RunStatus,
    input: run.input ?? undefined,
    attempt: run.attempt,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    queue: run.queue,
    priority: run.priority,
  };
  if (run.output !== null && run.output !== undefined) info.output = run.output;
  if (run.error !== null && run.error !== undefined) info.error = run.error as SerializedError;
  if (run.parentId) info.parentId = run.parentId;
  if (run.fingerprint) info.fingerprint = run.fingerprint;
  if (run.forkedFrom) info.forkedFrom = run.forkedFrom;
  if (run.startedAt) info.startedAt = run.startedAt;
  if (run.version !== null) info.version = run.version;
  if (run.pinned) info.pinned = true;
  if (run.pinned && run.versionLive === false && run.version !== null) info.waitingForVersion = run.version;
  // A snapshot of an older lease is what a worker that lost the run left behind.
  const progress = run.progress;
  if (run.status === "running" && progress && progress.epoch === run.leaseEpoch && progress.steps.length > 0) {
    const steps = progress.steps
      .map((s) => ({ name: s.name, position: s.position, attempt: s.attempt, startedAt: new Date(s.startedAt), workerId: progress.worker }))
      .sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime() || a.position - b.position);
    info.currentStep = steps[0]!;
    info.stepsInFlight = steps;
  }
  return info;
}
