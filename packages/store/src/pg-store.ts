import { Kysely, PostgresDialect, sql, type Selectable } from "kysely";
import pg from "pg";
import { PgAlerts } from "./alerts/alerts.js";
import { StoreError, StoreErrorCode } from "./errors.js";
import { channelOf, quoteSchema } from "./identifiers.js";
import { listen, type Listener, type ListenOptions } from "./listener.js";
import { migrateSchema, type MigrateOptions } from "./migrate.js";
import { isMultiHost, parseHosts, pgConnection } from "./multi-host.js";
import { activeChildren, cancelRun, type CancelResult } from "./operations/cancel-run.js";
import { forkRun, type ForkResult } from "./operations/fork-run.js";
import { retryRun, type RetryResult } from "./operations/retry-run.js";
import { signalRun, type SignalResult } from "./operations/signal-run.js";
import { appendEvent, type AppendArgs } from "./queries/append-event.js";
import { breakerPermit } from "./queries/breaker-permit.js";
import { breakerReport } from "./queries/breaker-report.js";
import { CLAIM_SESSION, claimLimitedRuns, claimRuns, type ClaimArgs, type ClaimedRun, type SharedLimits } from "./queries/claim-runs.js";
import { commitRuns, type CommitBatch } from "./queries/commit-runs.js";
import { loadHistories, type EventRow, type LoadedHistory } from "./queries/load-histories.js";
import { readSignal, type InboxRow } from "./queries/read-signal.js";
import { renewLeases, type RenewedLease } from "./queries/renew-leases.js";
import { queueDepths, type QueueDepth } from "./queries/queue-depths.js";
import { runSeries, type SeriesBucket, type SeriesFilter } from "./queries/run-series.js";
import { runStats, type StatsFilter, type WorkflowStatsRecord } from "./queries/run-stats.js";
import { saveHeartbeat } from "./queries/save-heartbeat.js";
import { saveProgress, type ProgressUpdate } from "./queries/save-progress.js";
import { startRuns, type NewRun } from "./queries/start-runs.js";
import { existingRuns } from "./queries/existing-runs.js";
import { transactionalStep, type StepCompletion, type StepLease, type TransactionalStepOutcome } from "./operations/transactional-step.js";
import { callerQueryable, type CallerTransaction } from "./caller-transaction.js";
import type { Queryable } from "./queryable.js";
import type { StepTransaction } from "./step-transaction.js";
import type { Database, RunsTable } from "./schema.js";
import { PgSchedules } from "./schedules/schedules.js";
import { PgEvents } from "./events/events.js";
import { PgFleet } from "./fleet/fleet.js";
import { insertPayloads, type RunPayload } from "./queries/insert-payloads.js";
import { loadPayloads } from "./queries/load-payloads.js";
import { savePayloads, type NewPayload } from "./queries/save-payloads.js";
import type {
  BreakerRecord,
  CancelArgs,
  DeadLetterFilter,
  DeadLetterRecord,
  LogFilter,
  LogRecord,
  RunEnd,
  RunFilter,
  RunProgress,
  RunRecord,
  RunVersion,
  Store,
  StoreOptions,
  StoreSession,
} from "./store.js";
import { TERMINAL_SQL, TERMINAL_STATUSES } from "./run-status.js";
import { withTransaction } from "./transaction.js";

/**
 * The {@link Store} on node-postgres: a pool, a kysely instance for everything off the hot
 * path, and one hand-written statement per hot query (see queries/). Private to the package:
 * users get it from `createStore()` as a `Store`.
 */
export class PgStore implements Store {
  readonly schema: string;
  readonly schedules: PgSchedules;
  readonly events: PgEvents;
  readonly fleet: PgFleet;
  readonly alerts: PgAlerts;
  readonly channel: string;
  private readonly pool: pg.Pool;
  private readonly db: Kysely<Database>;
  private readonly connectionString: string | undefined;
  private readonly s: string;
  private readonly ownsPool: boolean;
  private closed = false;
  private leasePool: pg.Pool | undefined;

  constructor(options: StoreOptions) {
    if (!options.pool && !options.connectionString) {
      throw new StoreError(StoreErrorCode.InvalidArgument, "createStore needs a connectionString or a pool");
    }
    if (options.connectionString !== undefined) checkConnectionString(options.connectionString);
    this.schema = options.schema ?? "reprise";
    this.s = quoteSchema(this.schema);
    this.channel = channelOf(this.schema);
    this.connectionString = options.connectionString;
    this.ownsPool = !options.pool;
    this.pool = options.pool ?? poolOf(options.connectionString!, { max: options.poolSize ?? 10 });
    guard(this.pool);
    this.db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: this.pool }) }).withSchema(this.schema) as unknown as Kysely<Database>;
    this.schedules = new PgSchedules(this.pool, this.db, this.s);
    this.events = new PgEvents(this.pool, this.db, this.s, this.channel);
    this.fleet = new PgFleet(this.pool, this.db, this.s);
    this.alerts = new PgAlerts(this.pool, this.db, this.s, this.schema);
  }

  get canListen(): boolean {
    return this.connectionString !== undefined;
  }

  /** Applies missing migrations (safe when processes race). @returns the ids applied. */
  migrate(options: Pick<MigrateOptions, "applicationRole"> = {}): Promise<number[]> {
    return migrateSchema(this.pool, this.schema, options);
  }

  // ---- the hot path --------------------------------------------------------------------

  /** Creates runs with their RunStarted events; existing ids are left alone. @returns the created ids. */
  startRuns(runs: readonly NewRun[], options: { transaction?: CallerTransaction | undefined; payloads?: readonly RunPayload[] | undefined } = {}): Promise<Set<string>> {
    const payloads = options.payloads ?? [];
    // The values go in the transaction that creates their runs (no worker sees a run before
    // its input), and only for runs it created: an existing id keeps its own input.
    const start = async (db: Queryable) => {
      const created = await startRuns(db, this.s, this.channel, runs);
      await insertPayloads(db, this.s, payloads.filter((p) => created.has(p.runId)));
      return created;
    };
    if (options.transaction) return start(callerQueryable(options.transaction));
    if (payloads.length === 0) return startRuns(this.pool, this.s, this.channel, runs);
    return withTransaction(this.pool, start);
  }

  existingRuns(ids: readonly string[], options: { transaction?: CallerTransaction | undefined } = {}): Promise<Map<string, string>> {
    return existingRuns(options.transaction ? callerQueryable(options.transaction) : this.pool, this.s, ids);
  }

  withTransaction<T>(fn: (transaction: CallerTransaction) => Promise<T>): Promise<T> {
    return withTransaction(this.pool, fn);
  }

  transactionalStep(lease: StepLease, body: (tx: StepTransaction) => Promise<StepCompletion>): Promise<TransactionalStepOutcome> {
    return transactionalStep(this.pool, this.s, lease, body);
  }

  /** Claims runnable runs of one queue; `limits` shared by all workers make it a serialised claim. */
  claimRuns(args: ClaimArgs, limits?: SharedLimits): Promise<ClaimedRun[]> {
    if (limits && (limits.concurrency !== undefined || limits.rateLimit !== undefined)) return claimLimitedRuns(this.leases(), this.s, args, limits);
    return claimRuns(this.leases(), this.s, args);
  }

  commitRuns(batch: CommitBatch): Promise<Set<string>> {
    return commitRuns(this.pool, this.s, this.channel, batch);
  }

  /**
   * A connection checked out of the pool is no longer watched by it: an 'error' it emits
   * while held would be unhandled and crash the process, so the session listens and marks
   * itself broken, to be destroyed rather than reused.
   */
  async session(): Promise<StoreSession> {
    const client = await this.pool.connect();
    const { s, channel } = this;
    let broken = false;
    client.on("error", () => (broken = true));
    return {
      commitRuns: (batch: CommitBatch) => commitRuns(client, s, channel, batch),
      appendEvent: (args: AppendArgs) => appendEvent(client, s, args),
      get broken() {
        return broken;
      },
      release: (destroy?: boolean) => client.release(destroy || broken ? true : undefined),
    };
  }

  renewLeases(args: { owner: string; ids: readonly string[]; leaseMs: number }): Promise<{ leases: RenewedLease[]; dbNow: Date | undefined }> {
    return renewLeases(this.leases(), this.s, args);
  }

  /**
   * Claims and lease renewals go through connections of their own (see CLAIM_SESSION):
   * asynchronous commit, and plans that never read a whole table. A store on a pool it was
   * given claims with that pool's settings.
   */
  private leases(): pg.Pool {
    if (!this.connectionString) return this.pool;
    if (!this.leasePool) {
      this.leasePool = poolOf(this.connectionString, { max: 2, options: CLAIM_SESSION });
      guard(this.leasePool);
    }
    return this.leasePool;
  }

  loadHistories(runIds: readonly string[]): Promise<Map<string, LoadedHistory>> {
    return loadHistories(this.pool, this.s, runIds);
  }

  readSignal(runId: string, name: string, after: string | undefined): Promise<InboxRow | null> {
    return readSignal(this.pool, this.s, runId, name, after);
  }

  savePayloads(args: { runId: string; owner: string; epoch: number; payloads: readonly NewPayload[] }): Promise<boolean> {
    return savePayloads(this.pool, this.s, args);
  }

  loadPayloads(runId: string, ids: readonly string[]): Promise<Map<string, string>> {
    return loadPayloads(this.pool, this.s, runId, ids);
  }

  saveHeartbeat(args: { runId: string; position: number; details: string; owner: string; epoch: number }): Promise<boolean> {
    return saveHeartbeat(this.pool, this.s, args);
  }

  saveProgress(args: { owner: string; runs: readonly ProgressUpdate[] }): Promise<Set<string>> {
    return saveProgress(this.pool, this.s, args);
  }

  /** Asks circuit breaker `name` whether a call may go through (see breaker-permit). */
  breakerPermit(name: string, resetAfterMs: number): Promise<{ allowed: boolean; retryAfterMs: number }> {
    return breakerPermit(this.pool, this.s, name, resetAfterMs);
  }

  /** Records a guarded call's outcome; `opened` is true when this report opened the breaker. */
  breakerReport(args: { name: string; ok: boolean; failureThreshold: number; runId?: string }): Promise<{ state: string; opened: boolean } | undefined> {
    return breakerReport(this.pool, this.s, args);
  }

  /** The seq the next event of a run gets (0 for a run without events). */
  async nextSeq(runId: string): Promise<number> {
    const { rows } = await this.pool.query<{ next: number }>(`SELECT coalesce(max(seq), -1) + 1 AS next FROM ${this.s}.events WHERE run_id = $1`, [runId]);
    return rows[0]!.next;
  }

  async breakers(): Promise<BreakerRecord[]> {
    const { rows } = await this.pool.query<{ name: string; state: string; failures: number; opened_at: Date | null; updated_at: Date }>(
      `SELECT name, state, failures, opened_at, updated_at FROM ${this.s}.breakers ORDER BY name`,
    );
    return rows.map((r) => ({ name: r.name, state: r.state, failures: r.failures, openedAt: r.opened_at, updatedAt: r.updated_at }));
  }

  // ---- operations on one run -------------------------------------------------------------

  signalRun(args: { runId: string; name: string; payload: string | undefined; payloads?: readonly NewPayload[] }): Promise<SignalResult> {
    const payloads = args.payloads ?? [];
    if (payloads.length === 0) return signalRun(this.pool, this.s, this.channel, args);
    // The signal and its value commit together: the run never reads a signal whose value is missing.
    return withTransaction(this.pool, async (client) => {
      const result = await signalRun(client, this.s, this.channel, args);
      if (result.delivered) await insertPayloads(client, this.s, payloads.map((p) => ({ ...p, runId: args.runId })));
      return result;
    });
  }

  /**
   * Cancels a run, then one by one its unfinished children (and theirs). A run a worker
   * holds is only asked to stop: that worker records its end and cascades with
   * {@link cancelChildren}.
   */
  async cancelRun(args: CancelArgs & { runId: string }): Promise<CancelResult> {
    const result = await withTransaction(this.pool, (c) => cancelRun(c, this.s, this.channel, args));
    if (result.outcome === "cancelled" || result.outcome === "requested") await this.cancelChildren(args.runId, args);
    return result;
  }

  async cancelChildren(parentId: string, args: CancelArgs): Promise<void> {
    const children = await withTransaction(this.pool, (c) => activeChildren(c, this.s, parentId));
    for (const child of children) await this.cancelRun({ ...args, runId: child });
  }

  retryRun(runId: string): Promise<RetryResult> {
    return withTransaction(this.pool, (c) => retryRun(c, this.s, this.channel, runId));
  }

  forkRun(args: { sourceId: string; fromStep: number | string; newId: string; reopen?: readonly number[] }): Promise<ForkResult> {
    return withTransaction(this.pool, (c) => forkRun(c, this.s, this.channel, args));
  }

  // ---- reads -------------------------------------------------------------------------------

  async getRun(id: string): Promise<RunRecord | undefined> {
    const row = await this.db.selectFrom("runs").selectAll().select(this.versionLive()).where("id", "=", id).executeTakeFirst();
    return row ? toRunRecord(row) : undefined;
  }

  /** For an open pinned run, whether a worker of its version is alive: else it waits for one. */
  private versionLive() {
    return sql<boolean | null>`CASE WHEN pinned AND status NOT IN ${sql.raw(TERMINAL_SQL)} THEN EXISTS (
      SELECT 1 FROM ${sql.raw(this.s)}.workers w WHERE w.version = ${sql.raw(this.s)}.runs.version AND w.expires_at > now()) END`.as("version_live");
  }

  async listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    let query = this.db.selectFrom("runs").selectAll().select(this.versionLive());
    if (filter.status) query = query.where("status", "=", filter.status);
    if (filter.workflow) query = query.where("workflow", "=", filter.workflow);
    if (filter.parentId) query = query.where("parent_id", "=", filter.parentId);
    if (filter.createdFrom) query = query.where("created_at", ">=", filter.createdFrom);
    if (filter.createdTo) query = query.where("created_at", "<", filter.createdTo);
    if (filter.after) {
      const after = filter.after;
      query = query.where(({ eb, refTuple, selectFrom }) =>
        eb(
          refTuple("created_at", "id"),
          "<",
          selectFrom("runs as a").select(["a.created_at", "a.id"]).where("a.id", "=", after) as never,
        ),
      );
    }
    const rows = await query
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .limit(Math.min(Math.max(filter.limit ?? 50, 1), 10_000))
      .execute();
    return rows.map(toRunRecord);
  }

  async runVersions(ids: readonly string[]): Promise<RunVersion[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.pool.query<RunVersion>(
      `SELECT r.id, r.status, r.updated_at AS "updatedAt",
              (SELECT coalesce(max(e.seq), -1) FROM ${this.s}.events e WHERE e.run_id = r.id) AS "lastSeq"
       FROM ${this.s}.runs r WHERE r.id = ANY($1::text[])`,
      [ids],
    );
    return rows;
  }

  /**
   * A loose index scan over runs_workflow_created: one index probe per distinct workflow,
   * however many runs each has (a plain DISTINCT would read every run).
   */
  async workflowNames(): Promise<string[]> {
    const { rows } = await this.pool.query<{ workflow: string }>(
      `WITH RECURSIVE w AS (
         (SELECT workflow FROM ${this.s}.runs ORDER BY workflow LIMIT 1)
         UNION ALL
         SELECT (SELECT r.workflow FROM ${this.s}.runs r WHERE r.workflow > w.workflow ORDER BY r.workflow LIMIT 1) FROM w WHERE w.workflow IS NOT NULL
       )
       SELECT workflow FROM w WHERE workflow IS NOT NULL`,
    );
    return rows.map((r) => r.workflow);
  }

  /** A run's events in seq order (empty for an unknown run). */
  async history(runId: string): Promise<EventRow[]> {
    const rows = await this.db
      .selectFrom("events")
      .select(["run_id", "seq", "kind", "position", "name", "payload", "created_at"])
      .where("run_id", "=", runId)
      .orderBy("seq")
      .execute();
    return rows.map((r) => ({
      runId: r.run_id,
      seq: r.seq,
      kind: r.kind,
      position: r.position,
      name: r.name,
      payload: r.payload,
      createdAt: r.created_at,
    }));
  }

  async logs(runId: string, filter: number | LogFilter = {}): Promise<LogRecord[]> {
    const { limit = 1000, step, afterId } = typeof filter === "number" ? { limit: filter } : filter;
    let query = this.db
      .selectFrom("logs")
      .select(["id", "at", "level", "message", "fields", "position", "step", "attempt"])
      .where("run_id", "=", runId);
    if (typeof step === "number") query = query.where("position", "=", step);
    else if (step !== undefined) query = query.where("step", "=", step);
    if (afterId !== undefined) query = query.where("id", ">", afterId);
    // The primary key (run_id, id) serves the filter on the run, the cursor and the order.
    const rows = await query.orderBy("id").limit(Math.min(Math.max(limit, 1), 10_000)).execute();
    return rows.map((r) => ({ ...r, id: String(r.id) }));
  }

  runSeries(filter: SeriesFilter): Promise<SeriesBucket[]> {
    return runSeries(this.pool, this.s, filter);
  }

  async runStats(filter: StatsFilter = {}): Promise<WorkflowStatsRecord[]> {
    return runStats(this.pool, this.s, filter);
  }

  async queueDepths(queues: readonly string[]): Promise<QueueDepth[]> {
    return queueDepths(this.pool, this.s, queues);
  }

  async deadLetters(filter: DeadLetterFilter = {}): Promise<DeadLetterRecord[]> {
    let query = this.db.selectFrom("dead_letters").selectAll();
    if (filter.runId) query = query.where("run_id", "=", filter.runId);
    if (filter.workflow) query = query.where("workflow", "=", filter.workflow);
    if (filter.id) query = query.where("id", "=", filter.id);
    const rows = await query.orderBy("created_at", "desc").orderBy("id", "desc").limit(filter.limit ?? 1000).execute();
    return rows.map((r) => ({
      id: String(r.id),
      runId: r.run_id,
      workflow: r.workflow,
      map: r.map,
      index: r.item_index,
      position: r.position,
      item: r.item,
      error: r.error,
      createdAt: r.created_at,
      retriedBy: r.retried_by,
    }));
  }

  /** Marks a dead letter as redriven by a run. */
  async markDeadLetterRetried(id: string, runId: string): Promise<void> {
    await this.db.updateTable("dead_letters").set({ retried_by: runId }).where("id", "=", id).execute();
  }

  async runOutcome(runId: string): Promise<RunEnd | null> {
    const row = await this.db
      .selectFrom("runs")
      .select(["status", "output", "error"])
      .where("id", "=", runId)
      .where("status", "in", TERMINAL_STATUSES)
      .executeTakeFirst();
    return row ?? null;
  }

  // ---- plumbing ----------------------------------------------------------------------------

  listen(options: Omit<ListenOptions, "connectionString" | "channel">): Listener {
    if (!this.connectionString) {
      throw new StoreError(StoreErrorCode.InvalidArgument, "LISTEN needs the store to be created with a connectionString");
    }
    return listen({ ...options, connectionString: this.connectionString, channel: this.channel });
  }

  /** The database's clock. */
  async now(): Promise<Date> {
    const { rows } = await this.pool.query<{ now: Date }>("SELECT now() AS now");
    return rows[0]!.now;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.leasePool?.end();
    if (this.ownsPool) await this.pool.end();
  }
}

/**
 * A connection string node-postgres would misread is refused here, in words: "notaurl"
 * otherwise fails later as `getaddrinfo ENOTFOUND base`. A URL (postgres:// or
 * postgresql://) or a Unix socket directory (an absolute path) is accepted.
 */
function checkConnectionString(text: string): void {
  if (typeof text !== "string" || text.trim() === "") throw new StoreError(StoreErrorCode.InvalidArgument, "the connection string is empty");
  if (text.startsWith("/")) return;
  if (isMultiHost(text)) return void parseHosts(text);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new StoreError(StoreErrorCode.InvalidArgument, `the connection string is not a postgres:// URL: ${JSON.stringify(redact(text))}`);
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new StoreError(StoreErrorCode.InvalidArgument, `the connection string is not a postgres:// URL (it starts with ${url.protocol}//)`);
  }
}

/** A pool on `connectionString`, which may name several hosts (see pgConnection). */
function poolOf(connectionString: string, config: pg.PoolConfig): pg.Pool {
  const { Client, config: connection } = pgConnection(connectionString);
  return new pg.Pool({ ...connection, ...config, Client });
}

/** The text without a password, for an error message. */
function redact(text: string): string {
  return text.replace(/\/\/([^:/@]+):[^@/]*@/, "//$1:***@");
}

/**
 * A connection that dies (a database restart, a terminated backend, a cut TCP connection)
 * emits 'error'; with no listener that crashes the process. An idle one is the pool's
 * ('error' on the pool); one checked out (a kysely read, a transaction, a session) is its
 * own: every connection gets a listener, and the query it was running rejects instead.
 */
function guard(pool: pg.Pool): void {
  pool.on("error", () => undefined);
  pool.on("connect", (client) => client.on("error", () => undefined));
}

function toRunRecord(row: Selectable<RunsTable> & { version_live: boolean | null }): RunRecord {
  return {
    id: row.id,
    workflow: row.workflow,
    queue: row.queue,
    status: row.status,
    input: row.input,
    output: row.output,
    error: row.error,
    priority: row.priority,
    attempt: row.attempt,
    parentId: row.parent_id,
    availableAt: row.available_at,
    leaseOwner: row.lease_owner,
    deadlineAt: row.deadline_at,
    fingerprint: row.fingerprint,
    forkedFrom: row.forked_from,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    startedAt: row.started_at,
    version: row.version,
    pinned: row.pinned,
    versionLive: row.version_live,
    leaseEpoch: row.lease_epoch,
    progress: (row.progress as RunProgress | null) ?? null,
  };
}

