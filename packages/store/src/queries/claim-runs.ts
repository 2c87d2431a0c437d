import type { Pool } from "pg";
import { statement, type Queryable } from "../queryable.js";
import { withTransaction } from "../transaction.js";

/**
 * Claims up to {LIMIT} runnable runs of one queue (and the given workflows) for worker
 * {OWNER}, with a lease of {LEASE_MS} ms.
 *
 * Two lanes, each an index range scan with SKIP LOCKED so that racing workers take
 * different rows instead of queueing on each other:
 * - ready: new runs, runs handed back, and running runs whose lease expired (available_at
 *   is the lease expiry), by priority then age. With one queue per statement the scan
 *   follows the index order and stops at the limit; live leases sort after the due rows of
 *   their priority, so it touches at most the in-flight runs besides what it takes.
 * - timed: sleeping and waiting runs whose time came, by due time; the scan stops at the
 *   first row not yet due, however many sleep.
 * Up to 2×{LIMIT} rows are locked and the best {LIMIT} taken; the rest unlock at commit.
 *
 * Claiming bumps lease_epoch: every later append of the run is fenced by it. Terminal runs
 * (none are claimable today; kept for safety) keep their status.
 *
 * `resumed` says whether there may be anything to load besides RunStarted (which the claim
 * returns): events, or heartbeats a step saved before its worker died. A crash in the
 * middle of a run's first step leaves heartbeats but no event; heartbeats are only saved
 * under a lease, so such a run was claimed before and its epoch is past 1. That test is
 * free, where probing the heartbeats table cost ~8 µs per claimed run (measured, 500-run
 * claims); the events probe stays for forks, whose copied events were never claimed.
 */
const LANES = `
ready AS (
  SELECT id, priority, available_at FROM :schema.runs
  WHERE queue = {QUEUE} AND status IN ('queued', 'running') AND available_at <= now()
    AND workflow = ANY({WORKFLOWS}::text[])
  ORDER BY priority DESC, available_at
  LIMIT {LIMIT}
  FOR UPDATE SKIP LOCKED
), timed AS (
  SELECT id, priority, available_at FROM :schema.runs
  WHERE queue = {QUEUE} AND status NOT IN ('queued', 'running') AND available_at <= now()
    AND workflow = ANY({WORKFLOWS}::text[])
  ORDER BY available_at
  LIMIT {LIMIT}
  FOR UPDATE SKIP LOCKED
), picked AS (
  SELECT id FROM (SELECT * FROM ready UNION ALL SELECT * FROM timed) candidates
  ORDER BY priority DESC, available_at
  LIMIT {LIMIT}
), claimed AS (
  UPDATE :schema.runs r SET
    status = CASE WHEN r.status IN ('completed', 'failed', 'cancelled') THEN r.status ELSE 'running' END,
    lease_owner = {OWNER},
    lease_epoch = r.lease_epoch + 1,
    available_at = now() + {LEASE_MS} * interval '1 millisecond',
    started_at = coalesce(r.started_at, now()),
    updated_at = now()
  FROM picked
  WHERE r.id = picked.id
  RETURNING r.id, r.workflow, r.queue, r.status, r.input, r.lease_epoch AS epoch, r.attempt,
    r.parent_id, r.deadline_at, r.timeout_ms, r.wakeups, r.cancel_requested, r.created_at,
    r.started_at, r.trace_context
)`;

const RESULT = `
SELECT c.*, (c.epoch > 1 OR EXISTS (SELECT 1 FROM :schema.events e WHERE e.run_id = c.id AND e.seq > 0)) AS resumed, now() AS db_now
FROM claimed c`;

const PLAIN = `WITH${LANES}${RESULT}`
  .replaceAll("{QUEUE}", "$1")
  .replaceAll("{WORKFLOWS}", "$2")
  .replaceAll("{LIMIT}", "$3")
  .replaceAll("{OWNER}", "$4")
  .replaceAll("{LEASE_MS}", "$5");

/**
 * A queue with a limit shared by all workers (global concurrency, rate limit) is claimed
 * under a per-queue advisory lock, so that two workers cannot both see room for the last
 * slot. The lock and the claim are two statements of one transaction: the claim's snapshot
 * is taken after the lock, so it counts every claim committed before it. (One statement
 * could not do it: its snapshot would predate the lock.) The same lanes as the plain claim,
 * with {LIMIT} the room left; costs per claim: the lock, a count over the queue's running
 * runs (a partial index of in-flight runs only) and, with a rate limit, a count over the
 * window's claims plus one row per claim. $6 (concurrency) and $7/$8 (rate limit per
 * period) are null when the queue has no such limit.
 */
const LIMITED = `WITH allowed AS (
  SELECT GREATEST(0, LEAST($3::int,
    coalesce($6::int - (SELECT count(*) FROM :schema.runs
                        WHERE queue = $1 AND status = 'running' AND lease_owner IS NOT NULL AND available_at > now()), $3::int),
    coalesce($7::int - (SELECT count(*) FROM :schema.queue_claims
                        WHERE queue = $1 AND claimed_at > now() - $8::float8 * interval '1 millisecond'), $3::int))) AS n
),${LANES}, counted AS (
  INSERT INTO :schema.queue_claims (queue, claimed_at) SELECT $1, now() FROM claimed WHERE $7::int IS NOT NULL
), pruned AS (
  DELETE FROM :schema.queue_claims WHERE $7::int IS NOT NULL AND queue = $1 AND claimed_at <= now() - $8::float8 * interval '1 millisecond'
)${RESULT}`
  .replaceAll("{QUEUE}", "$1")
  .replaceAll("{WORKFLOWS}", "$2")
  .replaceAll("{LIMIT}", "(SELECT n FROM allowed)")
  .replaceAll("{OWNER}", "$4")
  .replaceAll("{LEASE_MS}", "$5");

const LOCK = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";

/** What one claim asks for: up to `limit` runnable runs of `workflows` on `queue`, leased to `owner` for `leaseMs`. */
export interface ClaimArgs {
  queue: string;
  workflows: readonly string[];
  limit: number;
  owner: string;
  leaseMs: number;
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
  const { rows } = await db.query<Row>({
    ...statement("claim_runs", schema, PLAIN),
    values: [args.queue, args.workflows, args.limit, args.owner, args.leaseMs],
  });
  return toClaimed(rows);
}

/** Claims runs of a queue whose limits every worker shares: the lock, then the claim (see LIMITED). */
export async function claimLimitedRuns(pool: Pool, schema: string, args: ClaimArgs, limits: SharedLimits): Promise<ClaimedRun[]> {
  const rows = await withTransaction(pool, async (client) => {
    await client.query({ ...statement("claim_lock", schema, LOCK), values: [`reprise-queue:${schema}:${args.queue}`] });
    const claimed = await client.query<Row>({
      ...statement("claim_limited_runs", schema, LIMITED),
      values: [
        args.queue,
        args.workflows,
        args.limit,
        args.owner,
        args.leaseMs,
        limits.concurrency ?? null,
        limits.rateLimit?.limit ?? null,
        limits.rateLimit?.periodMs ?? null,
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
