import type { Selectable } from "kysely";
import { statement, type Queryable } from "../queryable.js";
import type { SchedulesTable } from "../schema.js";
import type { StoredSchedule } from "../schedules/schedule-row.js";

/**
 * Claims, for one scheduler tick, up to $3 schedules of the workflows $2 that need a look at
 * time $1 (the database's now() when null), for scheduler $4, for $5 ms.
 *
 * Three lanes, each a short index scan with SKIP LOCKED so that racing schedulers take
 * different rows instead of waiting on each other:
 * - due: next_fire_at <= $1, in next_fire_at order; the scan stops at the first schedule not
 *   yet due, so a million idle schedules cost a tick nothing.
 * - new: next_fire_at IS NULL (created, re-timed or resumed): the tick starts its timetable.
 * - buffered: overlap 'buffer-one' with a slot waiting, once the run it waits for has ended
 *   (or is gone).
 * A claim is a lease (locked_by, locked_until), not a held transaction: the tick computes
 * slots in JS and writes with two more statements. A tick that dies mid-way leaves a claim
 * that lapses (or that the same scheduler, whose ticks never overlap, takes back at once);
 * the next tick recomputes the same slots, whose run ids already exist.
 *
 * Returns the claimed rows with the status of each schedule's last run (for the overlap
 * policy) and the tick's time.
 */
const SQL = `
WITH tick AS (
  SELECT coalesce($1::timestamptz, now()) AS at
), due AS (
  SELECT s.id FROM :schema.schedules s, tick
  WHERE NOT s.paused AND s.next_fire_at <= tick.at AND s.workflow = ANY($2::text[])
    AND (s.locked_until IS NULL OR s.locked_until < now() OR s.locked_by = $4)
  ORDER BY s.next_fire_at
  LIMIT $3
  FOR UPDATE OF s SKIP LOCKED
), fresh AS (
  SELECT s.id FROM :schema.schedules s
  WHERE NOT s.paused AND s.next_fire_at IS NULL AND s.workflow = ANY($2::text[])
    AND (s.locked_until IS NULL OR s.locked_until < now() OR s.locked_by = $4)
  LIMIT $3
  FOR UPDATE OF s SKIP LOCKED
), buffered AS (
  SELECT s.id FROM :schema.schedules s
  LEFT JOIN :schema.runs r ON r.id = s.last_run_id
  WHERE NOT s.paused AND s.buffered_at IS NOT NULL AND s.workflow = ANY($2::text[])
    AND (r.id IS NULL OR r.status IN ('completed', 'failed', 'cancelled'))
    AND (s.locked_until IS NULL OR s.locked_until < now() OR s.locked_by = $4)
  LIMIT $3
  FOR UPDATE OF s SKIP LOCKED
), picked AS (
  SELECT id FROM due UNION SELECT id FROM fresh UNION SELECT id FROM buffered
)
UPDATE :schema.schedules s SET locked_by = $4, locked_until = now() + $5 * interval '1 millisecond'
FROM picked
WHERE s.id = picked.id
RETURNING s.id, s.workflow, s.queue, s.cron, s.every_ms, s.timezone, s.catchup, s.catchup_window_ms,
  s.overlap, s.input, s.version, s.next_fire_at, s.last_slot_at, s.last_run_id, s.buffered_at,
  (SELECT r.status FROM :schema.runs r WHERE r.id = s.last_run_id) AS last_run_status,
  (SELECT at FROM tick) AS tick_at`;

/** A schedule claimed by a tick (its last run's status is null when there is none, or it was pruned). */
export type ClaimedSchedule = Omit<StoredSchedule, "source" | "paused" | "createdAt" | "updatedAt">;

type Row = Pick<
  Selectable<SchedulesTable>,
  | "id"
  | "workflow"
  | "queue"
  | "cron"
  | "every_ms"
  | "timezone"
  | "catchup"
  | "catchup_window_ms"
  | "overlap"
  | "input"
  | "version"
  | "next_fire_at"
  | "last_slot_at"
  | "last_run_id"
  | "buffered_at"
> & { last_run_status: string | null; tick_at: Date };

/** @returns the claimed schedules and the tick's time (`now`, or the database's). */
export async function claimSchedules(
  db: Queryable,
  schema: string,
  args: { now: Date | undefined; workflows: readonly string[]; limit: number; owner: string; leaseMs: number },
): Promise<{ schedules: ClaimedSchedule[]; tickAt: Date | undefined }> {
  const { rows } = await db.query<Row>({
    ...statement("claim_schedules", schema, SQL),
    values: [args.now?.toISOString() ?? null, args.workflows, args.limit, args.owner, args.leaseMs],
  });
  return {
    tickAt: rows[0]?.tick_at,
    schedules: rows.map((r) => ({
      id: r.id,
      workflow: r.workflow,
      queue: r.queue,
      cron: r.cron,
      everyMs: r.every_ms,
      timezone: r.timezone,
      catchup: r.catchup,
      catchupWindowMs: r.catchup_window_ms,
      overlap: r.overlap,
      input: r.input,
      version: r.version,
      nextFireAt: r.next_fire_at,
      lastSlotAt: r.last_slot_at,
      lastRunId: r.last_run_id,
      lastRunStatus: r.last_run_status,
      bufferedAt: r.buffered_at,
    })),
  };
}
