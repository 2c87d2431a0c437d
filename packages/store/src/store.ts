import type pg from "pg";
import type { CallerTransaction } from "./caller-transaction.js";
import type { AlertStore } from "./alerts/alert-store.js";
import type { Listener, ListenOptions } from "./listener.js";
import type { CancelResult } from "./operations/cancel-run.js";
import type { ForkResult } from "./operations/fork-run.js";
import type { RetryResult } from "./operations/retry-run.js";
import type { SignalResult } from "./operations/signal-run.js";
import type { AppendArgs } from "./queries/append-event.js";
import type { ClaimArgs, ClaimedRun, SharedLimits } from "./queries/claim-runs.js";
import type { CommitBatch } from "./queries/commit-runs.js";
import type { EventRow, LoadedHistory } from "./queries/load-histories.js";
import type { InboxRow } from "./queries/read-signal.js";
import type { RenewedLease } from "./queries/renew-leases.js";
import type { QueueDepth } from "./queries/queue-depths.js";
import type { StatsFilter, WorkflowStatsRecord } from "./queries/run-stats.js";
import type { SeriesBucket, SeriesFilter } from "./queries/run-series.js";
import type { ProgressUpdate } from "./queries/save-progress.js";
import type { NewRun } from "./queries/start-runs.js";
import type { MigrateOptions } from "./migrate.js";
import type { ScheduleStore } from "./schedules/schedule-store.js";
import type { EventStore } from "./events/event-store.js";
import type { FleetStore } from "./fleet/fleet-store.js";
import type { NewPayload } from "./queries/save-payloads.js";
import type { RunPayload } from "./queries/insert-payloads.js";
import type { StepCompletion, StepLease, TransactionalStepOutcome } from "./operations/transactional-step.js";
import type { StepTransaction } from "./step-transaction.js";

/** Options of {@link createStore}. */
export interface StoreOptions {
  /** A Postgres connection string. Either this or `pool`. */
  connectionString?: string;
  /** A pool you own; the store uses it and does not end it. */
  pool?: pg.Pool;
  /**
   * The Postgres schema holding Reprise's tables.
   * @default "reprise"
   */
  schema?: string;
  /**
   * Connections in the store's own pool.
   * @default 10
   */
  poolSize?: number;
}

/** A run as the `runs` table holds it. */
export interface RunRecord {
  id: string;
  workflow: string;
  queue: string;
  status: string;
  input: unknown;
  output: unknown;
  error: unknown;
  priority: number;
  attempt: number;
  parentId: string | null;
  availableAt: Date | null;
  leaseOwner: string | null;
  deadlineAt: Date | null;
  fingerprint: string | null;
  forkedFrom: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** When a worker first took the run. */
  startedAt: Date | null;
  /** The version of the worker that first ran it. */
  version: string | null;
  /** Only workers of `version` may continue it. */
  pinned: boolean;
  /** For an open pinned run: whether a worker of its version is alive (null otherwise). */
  versionLive: boolean | null;
  /** Bumped by every claim: which lease `progress` must belong to, to be current. */
  leaseEpoch: number;
  /** The steps in flight as the worker holding the run last wrote them (see {@link RunProgress}). */
  progress: RunProgress | null;
}

/**
 * What the worker holding a run last wrote of its steps in flight (about once a second).
 * It is current only while the run is `running` under the lease of `epoch`: a later claim,
 * or the run's end, leaves it behind as it was.
 */
export interface RunProgress {
  epoch: number;
  worker: string;
  steps: { name: string; position: number; attempt: number; startedAt: string }[];
}

/** Filters of {@link Store.listRuns}. */
export interface RunFilter {
  status?: string | undefined;
  workflow?: string | undefined;
  parentId?: string | undefined;
  /** @default 50 */
  limit?: number | undefined;
  /** A run id: list the runs created before it (the next page). */
  after?: string | undefined;
  /** Runs created at or after this. */
  createdFrom?: Date | undefined;
  /** Runs created before this. */
  createdTo?: Date | undefined;
}

/** How far a run has got: what a live view compares to know that it moved. */
export interface RunVersion {
  id: string;
  status: string;
  updatedAt: Date;
  /** The seq of its last event (-1 for none). */
  lastSeq: number;
}

/** A row of the dead-letter table. */
export interface DeadLetterRecord {
  id: string;
  runId: string;
  workflow: string;
  map: string;
  index: number;
  position: number;
  item: unknown;
  error: unknown;
  createdAt: Date;
  retriedBy: string | null;
}

/** Filters of {@link Store.deadLetters}. */
export interface DeadLetterFilter {
  runId?: string | undefined;
  workflow?: string | undefined;
  id?: string | undefined;
  /** @default 1000 */
  limit?: number | undefined;
}

/** Filters of {@link Store.logs}. */
export interface LogFilter {
  /** A step's name, or its position. */
  step?: string | number | undefined;
  /** @default 1000 (at most 10,000) */
  limit?: number | undefined;
  /** Only lines after this one (a {@link LogRecord.id}): the cursor of a follower. */
  afterId?: string | undefined;
}

/** A stored `ctx.log` line. */
export interface LogRecord {
  /** Increases with every line written to a run, in the order its lines were written. */
  id: string;
  at: Date;
  level: string;
  message: string;
  fields: unknown;
  position: number | null;
  step: string | null;
  attempt: number | null;
}

/** A circuit breaker's shared state. */
export interface BreakerRecord {
  name: string;
  state: string;
  failures: number;
  openedAt: Date | null;
  updatedAt: Date;
}

/** A run's end as the `runs` table holds it. */
export interface RunEnd {
  status: string;
  output: unknown;
  error: unknown;
}

/** What a cancellation writes: why, and the cancelled run's stored error (JSON text). */
export interface CancelArgs {
  reason: string | undefined;
  error: string;
}

/**
 * One connection held for a stream of hot-path writes (the worker's group commit): checking
 * a connection out of the pool per statement costs about 0.05 ms.
 */
export interface StoreSession {
  /** The group commit: events and status moves of many runs, fenced by their leases. @returns the runs whose leases held */
  commitRuns(batch: CommitBatch): Promise<Set<string>>;
  /** One event of one run, fenced by its lease. @returns false when the lease is gone */
  appendEvent(args: AppendArgs): Promise<boolean>;
  /** True once the database closed the connection: release it with `broken`. */
  readonly broken: boolean;
  /** Gives the connection back (`broken`: destroy it instead). */
  release(broken?: boolean): void;
}

/**
 * The Postgres event log behind Reprise: runs, their events, signals, schedules and
 * breakers of one schema. Knows SQL, knows nothing of workflow code. Create one with
 * {@link createStore}.
 */
export interface Store {
  /** The schema name as given. */
  readonly schema: string;
  /** The NOTIFY channel of this schema (payloads are ids, a hint to look, never data). */
  readonly channel: string;
  /** True when the store can LISTEN (it was created with a connection string). */
  readonly canListen: boolean;
  /** Schedules: definitions, the scheduler's claim and advance, slots, lateness. */
  readonly schedules: ScheduleStore;
  /** Emitted events: the workflows an event starts, emissions, what each started. */
  readonly events: EventStore;
  /** Declared workflows and triggers, workers alive, deployment versions. */
  readonly fleet: FleetStore;
  /** Alerts: the inbox the log's triggers fill, evaluation, lifecycle, the delivery outbox. */
  readonly alerts: AlertStore;

  /**
   * Applies missing migrations (safe when processes race); with `applicationRole`, grants
   * that role what running needs and nothing that could change the log. @returns the ids applied
   */
  migrate(options?: Pick<MigrateOptions, "applicationRole">): Promise<number[]>;

  // ---- the hot path ----------------------------------------------------------------------

  /**
   * Creates runs with their RunStarted events in one statement; existing ids are left alone.
   * With `transaction`, inside the caller's transaction: the runs (and the NOTIFY that wakes
   * workers) exist only if the caller commits. Values of the created runs stored out of line
   * (`payloads`) are written in the same transaction. @returns the created ids
   */
  startRuns(runs: readonly NewRun[], options?: { transaction?: CallerTransaction | undefined; payloads?: readonly RunPayload[] | undefined }): Promise<Set<string>>;
  /** The workflow of each of these runs that exists (as `transaction`, if given, sees it). */
  existingRuns(ids: readonly string[], options?: { transaction?: CallerTransaction | undefined }): Promise<Map<string, string>>;
  /** Runs `fn` in a transaction of the store's own (committed if it returns, rolled back if it throws). */
  withTransaction<T>(fn: (transaction: CallerTransaction) => Promise<T>): Promise<T>;
  /**
   * A step whose writes and completion commit together (`ctx.transaction`): BEGIN, `body`,
   * the completion `body` returns appended fenced by `lease`, COMMIT. Rolled back when
   * `body` throws or returns nothing, and when the lease no longer holds.
   */
  transactionalStep(lease: StepLease, body: (tx: StepTransaction) => Promise<StepCompletion>): Promise<TransactionalStepOutcome>;
  /** Claims runnable runs of one queue; `limits` shared by all workers make it a serialised claim. */
  claimRuns(args: ClaimArgs, limits?: SharedLimits): Promise<ClaimedRun[]>;
  /** A connection held for hot-path writes; release it when done. */
  session(): Promise<StoreSession>;
  /** {@link StoreSession.commitRuns} on a pooled connection. */
  commitRuns(batch: CommitBatch): Promise<Set<string>>;
  /** Renews a worker's leases in one statement. */
  renewLeases(args: { owner: string; ids: readonly string[]; leaseMs: number }): Promise<{ leases: RenewedLease[]; dbNow: Date | undefined }>;
  /** The histories (and saved heartbeats) of claimed runs. */
  loadHistories(runIds: readonly string[]): Promise<Map<string, LoadedHistory>>;
  /** The oldest signal of that name after `after` (a signal id), if any. */
  readSignal(runId: string, name: string, after: string | undefined): Promise<InboxRow | null>;
  /** Writes a running run's values stored out of line, fenced by its lease. @returns false when the lease is gone */
  savePayloads(args: { runId: string; owner: string; epoch: number; payloads: readonly NewPayload[] }): Promise<boolean>;
  /** Values of a run stored out of line, as JSON text, by id (missing ids are absent). */
  loadPayloads(runId: string, ids: readonly string[]): Promise<Map<string, string>>;
  /** Writes the steps in flight of many runs in one statement, fenced by their leases. @returns the runs whose lease held */
  saveProgress(args: { owner: string; runs: readonly ProgressUpdate[] }): Promise<Set<string>>;
  /** Saves a step's progress, fenced by the lease. @returns false when the lease is gone */
  saveHeartbeat(args: { runId: string; position: number; details: string; owner: string; epoch: number }): Promise<boolean>;
  /** Asks circuit breaker `name` whether a call may go through. */
  breakerPermit(name: string, resetAfterMs: number): Promise<{ allowed: boolean; retryAfterMs: number }>;
  /**
   * Records a guarded call's outcome; `opened` is true when this report opened the breaker.
   * `runId`: the run whose call it was (a failure that opens the breaker is recorded as its opener).
   */
  breakerReport(args: { name: string; ok: boolean; failureThreshold: number; runId?: string }): Promise<{ state: string; opened: boolean } | undefined>;

  // ---- operations on one run -------------------------------------------------------------

  /** Puts a signal in a run's inbox (durable, first-in first-out per name), with its payload's out-of-line value if any. */
  signalRun(args: { runId: string; name: string; payload: string | undefined; payloads?: readonly NewPayload[] }): Promise<SignalResult>;
  /** Cancels a run and, after it, its unfinished children (and theirs). */
  cancelRun(args: CancelArgs & { runId: string }): Promise<CancelResult>;
  /** Cancels the unfinished children of a run that was cancelled (and theirs). */
  cancelChildren(parentId: string, args: CancelArgs): Promise<void>;
  /** Reopens a failed or cancelled run in place. */
  retryRun(runId: string): Promise<RetryResult>;
  /** A new run whose history copies the source's before `fromStep`. */
  forkRun(args: { sourceId: string; fromStep: number | string; newId: string; reopen?: readonly number[] }): Promise<ForkResult>;
  /** Marks a dead letter as redriven by a run. */
  markDeadLetterRetried(id: string, runId: string): Promise<void>;

  // ---- reads -------------------------------------------------------------------------------

  /** A run's row, or undefined for an unknown id. */
  getRun(id: string): Promise<RunRecord | undefined>;
  /** Newest first. */
  listRuns(filter?: RunFilter): Promise<RunRecord[]>;
  /** A run's events in seq order (empty for an unknown run). */
  history(runId: string): Promise<EventRow[]>;
  /** The seq the next event of a run gets (0 for a run without events). */
  nextSeq(runId: string): Promise<number>;
  /** A run's `ctx.log` lines, oldest first (a number is the limit). */
  logs(runId: string, filter?: number | LogFilter): Promise<LogRecord[]>;
  /** Per-workflow stats of a window, from the event log (see queries/run-stats). */
  runStats(filter?: StatsFilter): Promise<WorkflowStatsRecord[]>;
  /** Endings, retries and recoveries per time bucket of a window (the dashboard's charts). */
  runSeries(filter: SeriesFilter): Promise<SeriesBucket[]>;
  /** Runs claimable now per queue, and how long the oldest has been due. */
  queueDepths(queues: readonly string[]): Promise<QueueDepth[]>;
  /** Newest first. */
  deadLetters(filter?: DeadLetterFilter): Promise<DeadLetterRecord[]>;
  /** A run's end, or null while it runs (or if it does not exist). */
  runOutcome(runId: string): Promise<RunEnd | null>;
  /** Every breaker's state. */
  breakers(): Promise<BreakerRecord[]>;
  /** Status and last event of each of these runs (unknown ids are left out), in one statement. */
  runVersions(ids: readonly string[]): Promise<RunVersion[]>;
  /** The names of the workflows that have runs, in order. */
  workflowNames(): Promise<string[]>;

  // ---- plumbing ----------------------------------------------------------------------------

  /** LISTENs on this schema's channel on a dedicated connection (needs `canListen`). */
  listen(options: Omit<ListenOptions, "connectionString" | "channel">): Listener;
  /** The database's clock. */
  now(): Promise<Date>;
  /** Ends the store's own connections (not a pool it was given). */
  close(): Promise<void>;
}
