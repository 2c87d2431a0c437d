import type { Pool } from "pg";
import { statement, type Queryable } from "../queryable.js";
import { withTransaction } from "../transaction.js";

/**
 * Claims up to {LIMIT} runnable runs of one queue (and the given workflows) for worker
 * {OWNER}, with a lease of {LEASE_MS} ms.
 *
 * Three lanes, each an index range scan with SKIP LOCKED so that racing workers take
 * different rows instead of queueing on each other:
 * - ready: new runs, runs handed back, and running runs whose lease expired (available_at
 *   is the lease expiry), by priority then age. With one queue per statement the scan
 *   follows the index order and stops at the limit; live leases sort after the due rows of
 *   their priority, so it touches at most the in-flight runs besides what it takes.
 * - delayed: runs started with a `delay`, never taken yet (started_at IS NULL) and due
 *   after they were created, by due time; the scan stops at the first one not yet due. In
 *   the ready lane they sat behind the due rows of their priority, and an idle claim read
 *   through all of them (100k delayed runs: 620 pages, 5–9 ms per claim). The lane needs
 *   no column: both partial indexes (migration 0008) tell the rows apart by what every
 *   version already writes, and the first claim (started_at) moves a run to the ready lane.
 * - timed: sleeping and waiting runs whose time came, by due time; the scan stops at the
 *   first row not yet due, however many sleep.
 * Up to 3×{LIMIT} rows are locked and the best {LIMIT} taken; the rest unlock at commit.
 *
 * The update finds the rows the lanes locked by their tuple id (a TID scan), not by joining
 * on id: no statistics can change that plan, where a join planned from a tiny table's
 * statistics scanned another index of runs per claimed run. (A row changed between this
 * statement's snapshot and its lock has a newer tuple than the snapshot sees: it is left
 * for the next claim.)
 *
 * Claiming bumps lease_epoch: every later append of the run is fenced by it. Terminal runs
 * (none are claimable today; kept for safety) keep their status.
 *
 * `resumed` says whether there may be anything to load besides RunStarted (which the claim
 * returns): events, or heartbeats a step saved before its worker died. Everything that adds
 * to a run's history is done under a lease (so the run was claimed before and this claim's
 * epoch is past 1), by a retry or a cancellation (which bump the epoch too), or by a fork
 * (forked_from is set). So the claim reads only the runs row: no probe of events or
 * heartbeats, whose plans depended on their statistics. An EXISTS on events, planned
 * from statistics gathered while the schema was young, became a sequential scan of events
 * per claimed run (a 500-run claim: ~1 s and 240k buffers at 1M runs) until autoanalyze ran.
 *
 * Versions: a run takes the version of the worker that first claims it ({VERSION}, null for
 * a worker without one) and, if that worker runs its workflow pinned ({PINNED}), is pinned
 * to it. The ready and timed lanes skip pinned runs of other versions: a filter on rows the
 * index range already yields, so the plan is the same whatever the parameters (one generic
 * plan fits all); it reads past the due pinned runs of another version, which exist only
 * while that version has runs and no worker (`reprise versions` says so). Delayed runs were
 * never claimed: they have no version yet.
 */
const LANES = `
ready AS (
  SELECT ctid, priority, available_at FROM :schema.runs
  WHERE queue = {QUEUE} AND status IN ('queued', 'running')
    AND (started_at IS NOT NULL OR available_at <= created_at)
    AND available_at <= now() AND workflow = ANY({WORKFLOWS}::text[])
    AND (NOT pinned OR version = {VERSION})
  ORDER BY priority DESC, available_at
  LIMIT {LIMIT}
  FOR UPDATE SKIP LOCKED
), delayed AS (
  SELECT ctid, priority, available_at FROM :schema.runs
  WHERE queue = {QUEUE} AND status = 'queued' AND started_at IS NULL AND available_at > created_at
    AND available_at <= now() AND workflow = ANY({WORKFLOWS}::text[])
  ORDER BY available_at
  LIMIT {LIMIT}
  FOR UPDATE SKIP LOCKED
), timed AS (
  SELECT ctid, priority, available_at FROM :schema.runs
  WHERE queue = {QUEUE} AND status NOT IN ('queued', 'running') AND available_at <= now()
    AND workflow = ANY({WORKFLOWS}::text[]) AND (NOT pinned OR version = {VERSION})
  ORDER BY available_at
  LIMIT {LIMIT}
  FOR UPDATE SKIP LOCKED
), picked AS (
  SELECT ctid FROM (SELECT * FROM ready UNION ALL SELECT * FROM delayed UNION ALL SELECT * FROM timed) candidates
  ORDER BY priority DESC, available_at
  LIMIT {LIMIT}
)`;

/**
 * The one lane of a draining worker (its version is no longer the newest): only the pinned
 * runs of its own version, due or with an expired lease. Its predicate implies the partial
 * predicate of runs_open_version (migration 0009) and that of no other lane's index, so the
 * plan can only be a range scan of (version, queue) there — never a walk over the queue's
 * backlog of new runs, which a draining worker must leave to the newest version.
 */
const DRAINING_LANE = `
picked AS (
  SELECT ctid FROM :schema.runs
  WHERE version = {VERSION} AND queue = {QUEUE} AND status NOT IN ('completed', 'failed', 'cancelled')
    AND available_at <= now() AND pinned AND workflow = ANY({WORKFLOWS}::text[])
  ORDER BY priority DESC, available_at
  LIMIT {LIMIT}
  FOR UPDATE SKIP LOCKED
)`;

const CLAIMED = `
claimed AS (
  UPDATE :schema.runs r SET
    status = CASE WHEN r.status IN ('completed', 'failed', 'cancelled') THEN r.status ELSE 'running' END,
    lease_owner = {OWNER},
    lease_epoch = r.lease_epoch + 1,
    available_at = now() + {LEASE_MS} * interval '1 millisecond',
    started_at = coalesce(r.started_at, now()),
    version = coalesce(r.version, {VERSION}),
    pinned = CASE WHEN r.version IS NULL THEN {VERSION} IS NOT NULL AND r.workflow = ANY({PINNED}::text[]) ELSE r.pinned END,
    updated_at = now()
  WHERE r.ctid = ANY (ARRAY(SELECT ctid FROM picked))
  RETURNING r.id, r.workflow, r.queue, r.status, r.input, r.lease_epoch AS epoch, r.attempt,
    r.parent_id, r.deadline_at, r.timeout_ms, r.wakeups, r.cancel_requested, r.created_at,
    r.started_at, r.trace_context, r.forked_from
)`;

const RESULT = `
SELECT c.*, (c.epoch > 1 OR c.forked_from IS NOT NULL) AS resumed, now() AS db_now
FROM claimed c`;

const plain = (lanes: string) =>
  `WITH${lanes},${CLAIMED}${RESULT}`
    .replaceAll("{QUEUE}", "$1")
    .replaceAll("{WORKFLOWS}", "$2")
    .replaceAll("{LIMIT}", "$3")
    .replaceAll("{OWNER}", "$4")
    .replaceAll("{LEASE_MS}", "$5")
    .replaceAll("{VERSION}", "$6::text")
    .replaceAll("{PINNED}", "$7");
const PLAIN = plain(LANES);
const PLAIN_DRAINING = plain(DRAINING_LANE);

/**
 * A queue with a limit shared by all workers (global concurrency, rate limit) is claimed
 * under a per-queue advisory lock, so that two workers cannot both see room for the last
 * slot. The lock and the claim are two statements of one transaction: the claim's snapshot
 * is taken after the lock, so it counts every claim committed before it. (One statement
 * could not do it: its snapshot would predate the lock.) The same lanes as the plain claim,
 * with {LIMIT} the room left; costs per claim: the lock, a count over the queue's running
 * runs (a partial index of in-flight runs only) and, with a rate limit, a count over the
 * window's claims plus one row per claim. $6 (concurrency) and $7/$8 (rate limit per
 * period) are null when the queue has no such limit; $9/$10 are the plain claim's $6/$7.
 */
const limited = (lanes: string) => `WITH allowed AS (
  SELECT GREATEST(0, LEAST($3::int,
    coalesce($6::int - (SELECT count(*) FROM :schema.runs
                        WHERE queue = $1 AND status = 'running' AND lease_owner IS NOT NULL AND available_at > now()), $3::int),
    coalesce($7::int - (SELECT count(*) FROM :schema.queue_claims
                        WHERE queue = $1 AND claimed_at > now() - $8::float8 * interval '1 millisecond'), $3::int))) AS n
),${lanes},${CLAIMED}, counted AS (
  INSERT INTO :schema.queue_claims (queue, claimed_at) SELECT $1, now() FROM claimed WHERE $7::int IS NOT NULL
), pruned AS (
  DELETE FROM :schema.queue_claims WHERE $7::int IS NOT NULL AND queue = $1 AND claimed_at <= now() - $8::float8 * interval '1 millisecond'
)${RESULT}`
  .replaceAll("{QUEUE}", "$1")
  .replaceAll("{WORKFLOWS}", "$2")
  .replaceAll("{LIMIT}", "(SELECT n FROM allowed)")
  .replaceAll("{OWNER}", "$4")
  .replaceAll("{LEASE_MS}", "$5")
  .replaceAll("{VERSION}", "$9::text")
  .replaceAll("{PINNED}", "$10");
const LIMITED = limited(LANES);
const LIMITED_DRAINING = limited(DRAINING_LANE);

const LOCK = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";

/**
 * The settings of the connections that claim and renew leases (libpq `options`).
 *
 * - `synchronous_commit=off`: claims and renewals commit without waiting for the WAL flush
 *   (a disk sync per claim saved). Safe: a claim lost in a database crash only puts the run
 *   back in the queue, every append's fence checks owner and epoch, and the first append
 *   after a claim is a synchronous commit, which flushes the claim's WAL record first.
 * - `enable_seqscan=off`: every lane has an index whose order is the claim's, and a plan
 *   made from statistics of a tiny table (gathered while the schema was young) reads all of
 *   runs per claim instead, until autoanalyze catches up: measured on a freshly analyzed
 *   schema, every scan of the claim was a sequential one. With it the claim's plan does not
 *   depend on how stale the statistics are. (Statements with no index path still run.)
 */
export const CLAIM_SESSION = "-c synchronous_commit=off -c enable_seqscan=off";

/** What one claim asks for: up to `limit` runnable runs of `workflows` on `queue`, leased to `owner` for `leaseMs`. */
export interface ClaimArgs {
  queue: string;
  workflows: readonly string[];
  limit: number;
  owner: string;
  leaseMs: number;
  /** The claiming worker's version (recorded on runs it is the first to claim). */
  version?: string | undefined;
  /** Those of `workflows` it runs pinned to their version. */
  pinned?: readonly string[] | undefined;
  /** A newer version is live: claim only the pinned runs of this version. */
  draining?: boolean | undefined;
}

/** Limits of a queue that every worker must respect together. */
export interface SharedLimits {
  concurrency?: number | undefined;
  rateLimit?: { limit: number; periodMs: number } | undefined;
}

/** A run a claim took: its row as the worker needs it to execute, with the new lease `epoch`. */
export interface ClaimedRun {
  id: string;
  workflow: string;
  queue: string;
  status: string;
  input: unknown;
  epoch: number;
  attempt: number;
  parentId: string | null;
  deadlineAt: Date | null;
  timeoutMs: number | null;
  wakeups: number;
  cancelRequested: { reason?: string } | null;
  createdAt: Date;
  /** When a worker first took the run (this claim, for a new run). */
  startedAt: Date;
  /** `{ traceparent, tracestate? }` stored with the run, to parent the worker's spans on. */
  traceContext: { traceparent?: string; tracestate?: string } | null;
  /** False when there is nothing to load: the run was never claimed before and its history is just RunStarted. */
  resumed: boolean;
  dbNow: Date;
}

interface Row {
  id: string;
  workflow: string;
  queue: string;
  status: string;
  input: unknown;
  epoch: number;
  attempt: number;
  parent_id: string | null;
  deadline_at: Date | null;
  timeout_ms: number | null;
  wakeups: number;
  cancel_requested: { reason?: string } | null;
  created_at: Date;
  started_at: Date;
  trace_context: { traceparent?: string; tracestate?: string } | null;
  resumed: boolean;
  db_now: Date;
}

/** Claims runs of a queue without shared limits: one statement. */
export async function claimRuns(db: Queryable, schema: string, args: ClaimArgs): Promise<ClaimedRun[]> {
  const draining = args.draining === true && args.version !== undefined;
  const { rows } = await db.query<Row>({
    ...(draining ? statement("claim_draining_runs", schema, PLAIN_DRAINING) : statement("claim_runs", schema, PLAIN)),
    values: [args.queue, args.workflows, args.limit, args.owner, args.leaseMs, args.version ?? null, args.pinned ?? []],
  });
  return toClaimed(rows);
}

/** Claims runs of a queue whose limits every worker shares: the lock, then the claim (see LIMITED). */
export async function claimLimitedRuns(pool: Pool, schema: string, args: ClaimArgs, limits: SharedLimits): Promise<ClaimedRun[]> {
  const rows = await withTransaction(pool, async (client) => {
    await client.query({ ...statement("claim_lock", schema, LOCK), values: [`reprise-queue:${schema}:${args.queue}`] });
    const draining = args.draining === true && args.version !== undefined;
    const claimed = await client.query<Row>({
      ...(draining ? statement("claim_draining_limited_runs", schema, LIMITED_DRAINING) : statement("claim_limited_runs", schema, LIMITED)),
      values: [
        args.queue,
        args.workflows,
        args.limit,
        args.owner,
        args.leaseMs,
        limits.concurrency ?? null,
        limits.rateLimit?.limit ?? null,
        limits.rateLimit?.periodMs ?? null,
        args.version ?? null,
        args.pinned ?? [],
      ],
    });
    return claimed.rows;
  });
  return toClaimed(rows);
}

function toClaimed(rows: readonly Row[]): ClaimedRun[] {
  return rows.map((r) => ({
    id: r.id,
    workflow: r.workflow,
    queue: r.queue,
    status: r.status,
    input: r.input,
    epoch: r.epoch,
    attempt: r.attempt,
    parentId: r.parent_id,
    deadlineAt: r.deadline_at,
    timeoutMs: r.timeout_ms,
    wakeups: r.wakeups,
    cancelRequested: r.cancel_requested,
    createdAt: r.created_at,
    startedAt: r.started_at,
    traceContext: r.trace_context,
    resumed: r.resumed,
    dbNow: r.db_now,
  }));
}
