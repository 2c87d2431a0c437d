import pg from "pg";
import { statement, type Queryable } from "../queryable.js";

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
    r.parent_id, r.deadline_at, r.timeout_ms, r.wakeups, r.cancel_requested, r.created_at
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
 * slot. The lock and the claim go in one round trip as two statements of one implicit
 * transaction: the claim's snapshot is taken after the lock, so it counts every claim
 * committed before it. Costs per claim: the lock, a count over the queue's running runs
 * (a partial index of in-flight runs only) and, with a rate limit, a count over the
 * window's claims plus one row per claim.
 */
function limitedSql(s: string, a: ClaimArgs, limits: SharedLimits): string {
  const q = pg.escapeLiteral(a.queue);
  const rateWindow = limits.rateLimit ? `now() - ${limits.rateLimit.periodMs} * interval '1 millisecond'` : "";
  const room = [
    String(a.limit),
    limits.concurrency !== undefined
      ? `${limits.concurrency} - (SELECT count(*) FROM ${s}.runs WHERE queue = ${q} AND status = 'running' AND lease_owner IS NOT NULL AND available_at > now())`
      : "",
    limits.rateLimit ? `${limits.rateLimit.limit} - (SELECT count(*) FROM ${s}.queue_claims WHERE queue = ${q} AND claimed_at > ${rateWindow})` : "",
  ].filter(Boolean);
  const lanes = LANES.replaceAll(":schema", s)
    .replaceAll("{QUEUE}", q)
    .replaceAll("{WORKFLOWS}", pg.escapeLiteral(`{${a.workflows.map((w) => `"${w.replaceAll('"', '\\"')}"`).join(",")}}`))
    .replaceAll("{LIMIT}", "(SELECT n FROM allowed)")
    .replaceAll("{OWNER}", pg.escapeLiteral(a.owner))
    .replaceAll("{LEASE_MS}", String(Math.round(a.leaseMs)));
  const rateCtes = limits.rateLimit
    ? `, counted AS (INSERT INTO ${s}.queue_claims (queue, claimed_at) SELECT ${q}, now() FROM claimed),
       pruned AS (DELETE FROM ${s}.queue_claims WHERE queue = ${q} AND claimed_at <= ${rateWindow})`
    : "";
  return `SELECT pg_advisory_xact_lock(hashtextextended(${pg.escapeLiteral(`reprise-queue:${s}:${a.queue}`)}, 0));
WITH allowed AS (SELECT GREATEST(0, LEAST(${room.join(", ")})) AS n),${lanes}${rateCtes}${RESULT.replaceAll(":schema", s)}`;
}

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
  resumed: boolean;
  db_now: Date;
}

export async function claimRuns(db: Queryable, schema: string, args: ClaimArgs, limits?: SharedLimits): Promise<ClaimedRun[]> {
  let rows: Row[];
  if (limits && (limits.concurrency !== undefined || limits.rateLimit !== undefined)) {
    // Simple protocol (no parameters): the two statements run in one implicit transaction.
    const results = (await db.query<Row>({ text: limitedSql(schema, args, limits) })) as unknown as { rows: Row[] }[];
    rows = results[1]!.rows;
  } else {
    ({ rows } = await db.query<Row>({
      ...statement("claim_runs", schema, PLAIN),
      values: [args.queue, args.workflows, args.limit, args.owner, args.leaseMs],
    }));
  }
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
    resumed: r.resumed,
    dbNow: r.db_now,
  }));
}
