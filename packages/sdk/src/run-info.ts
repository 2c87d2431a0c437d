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

export type RunStatus = "queued" | "running" | "sleeping" | "waiting" | "completed" | "failed" | "cancelled";

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
  return info;
}
