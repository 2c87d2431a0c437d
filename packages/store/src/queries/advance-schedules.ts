import { statement, type Queryable } from "../queryable.js";

/**
 * The end of a scheduler tick, for every schedule it claimed, in one statement: moves each
 * cursor (next_fire_at, last slot, last run, buffered slot), releases the claim, and records
 * the slots the tick handled.
 *
 * Fenced twice: only rows still claimed by this scheduler ($1) and still at the version the
 * tick read are written. A tick whose claim lapsed (a long pause) or that raced an update,
 * pause or delete from a client writes nothing; its runs, if it created any, are the slots'
 * own runs and stay (their ids are the same whoever creates them).
 *
 * A slot recorded as skipped or buffered that later gets a run (the buffered slot starting,
 * a backfill) is updated in place; a slot that has a run keeps it.
 */
const SQL = `
WITH advanced AS (
  UPDATE :schema.schedules s SET
    next_fire_at = p.next_fire_at,
    last_slot_at = p.last_slot_at,
    last_run_id = p.last_run_id,
    buffered_at = p.buffered_at,
    locked_by = NULL,
    locked_until = NULL,
    updated_at = now()
  FROM json_to_recordset($2::json) AS p(id text, version int, next_fire_at timestamptz,
                                         last_slot_at timestamptz, last_run_id text, buffered_at timestamptz)
  WHERE s.id = p.id AND s.version = p.version AND s.locked_by = $1
  RETURNING s.id
), recorded AS (
  INSERT INTO :schema.schedule_slots AS sl (schedule_id, slot_at, run_id, outcome, reason)
  SELECT n.schedule_id, n.slot_at, n.run_id, n.outcome, n.reason
  FROM json_to_recordset($3::json) AS n(schedule_id text, slot_at timestamptz, run_id text, outcome text, reason text)
  JOIN advanced a ON a.id = n.schedule_id
  ON CONFLICT (schedule_id, slot_at) DO UPDATE SET
    run_id = EXCLUDED.run_id, outcome = EXCLUDED.outcome, reason = EXCLUDED.reason, recorded_at = now()
  WHERE sl.run_id IS NULL
  RETURNING 1
)
SELECT id, (SELECT count(*) FROM recorded)::int AS recorded FROM advanced`;

/** Where a tick leaves one schedule. */
export interface ScheduleAdvance {
  id: string;
  /** The version the tick claimed. */
  version: number;
  nextFireAt: Date | null;
  lastSlotAt: Date | null;
  lastRunId: string | null;
  bufferedAt: Date | null;
}

/** A slot as `schedule_slots` records it. */
export interface SlotRecord {
  scheduleId: string;
  slotAt: Date;
  runId: string | null;
  outcome: "started" | "skipped" | "buffered" | "backfilled" | "triggered" | "invalid";
  reason?: string | null | undefined;
}

/** @returns the ids of the schedules written (the others were changed or lost meanwhile). */
export async function advanceSchedules(
  db: Queryable,
  schema: string,
  owner: string,
  advances: readonly ScheduleAdvance[],
  slots: readonly SlotRecord[],
): Promise<Set<string>> {
  if (advances.length === 0) return new Set();
  const plan = advances.map((a) => ({
    id: a.id,
    version: a.version,
    next_fire_at: a.nextFireAt?.toISOString() ?? null,
    last_slot_at: a.lastSlotAt?.toISOString() ?? null,
    last_run_id: a.lastRunId,
    buffered_at: a.bufferedAt?.toISOString() ?? null,
  }));
  const { rows } = await db.query<{ id: string }>({
    ...statement("advance_schedules", schema, SQL),
    values: [owner, JSON.stringify(plan), JSON.stringify(slots.map(slotJson))],
  });
  return new Set(rows.map((r) => r.id));
}

export function slotJson(s: SlotRecord): Record<string, unknown> {
  return { schedule_id: s.scheduleId, slot_at: s.slotAt.toISOString(), run_id: s.runId, outcome: s.outcome, reason: s.reason ?? null };
}
