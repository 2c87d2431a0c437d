import { TERMINAL_SQL } from "../run-status.js";
import type { Kysely } from "kysely";
import type { Pool } from "pg";
import { advanceSchedules, slotJson, type ScheduleAdvance, type SlotRecord } from "../queries/advance-schedules.js";
import { claimSchedules, type ClaimedSchedule } from "../queries/claim-schedules.js";
import { syncDeclaredSchedules, type DeclaredOutcome } from "../queries/sync-declared-schedules.js";
import type { Database } from "../schema.js";
import type { LateSlot, OverrunSlot, ScheduleRow, StoredSchedule, StoredSlot } from "./schedule-row.js";
import type { ScheduleStore, SlotFilter } from "./schedule-store.js";


/** The {@link ScheduleStore} on node-postgres and kysely (private: reached as `store.schedules`). */
export class PgSchedules implements ScheduleStore {
  constructor(
    private readonly pool: Pool,
    private readonly db: Kysely<Database>,
    /** The quoted schema. */
    private readonly s: string,
  ) {}

  // ---- the scheduler's hot path ----------------------------------------------------------

  /** Claims the schedules a tick must look at (see claim-schedules.ts). */
  claim(args: { now: Date | undefined; workflows: readonly string[]; limit: number; owner: string; leaseMs: number }): Promise<{
    schedules: ClaimedSchedule[];
    tickAt: Date | undefined;
  }> {
    return claimSchedules(this.pool, this.s, args);
  }

  /** Moves the cursors of claimed schedules and records their slots, in one statement. */
  advance(owner: string, advances: readonly ScheduleAdvance[], slots: readonly SlotRecord[]): Promise<Set<string>> {
    return advanceSchedules(this.pool, this.s, owner, advances, slots);
  }

  /** Writes the schedules declared in code (see sync-declared-schedules.ts). */
  syncDeclared(rows: readonly ScheduleRow[]): Promise<Map<string, DeclaredOutcome>> {
    return syncDeclaredSchedules(this.pool, this.s, rows);
  }

  // ---- definitions -------------------------------------------------------------------------

  /** @returns false when a schedule with this id exists (nothing is changed). */
  async create(row: ScheduleRow): Promise<boolean> {
    const inserted = await this.db
      .insertInto("schedules")
      .values({ ...columns(row), id: row.id, source: "api" })
      .onConflict((oc) => oc.column("id").doNothing())
      .returning("id")
      .executeTakeFirst();
    return inserted !== undefined;
  }

  async get(id: string): Promise<StoredSchedule | undefined> {
    return (await this.select().where("s.id", "=", id).executeTakeFirst()) ?? undefined;
  }

  async list(filter: { workflow?: string | undefined; limit?: number | undefined } = {}): Promise<StoredSchedule[]> {
    let query = this.select();
    if (filter.workflow) query = query.where("s.workflow", "=", filter.workflow);
    return query
      .orderBy("s.id")
      .limit(Math.min(Math.max(filter.limit ?? 1000, 1), 10_000))
      .execute();
  }

  /**
   * Replaces a schedule's definition. `retime` restarts its cursor at the next tick (the
   * timetable changed). Any tick holding the row writes nothing back.
   * @returns false when there is no such schedule.
   */
  async replace(row: ScheduleRow, options: { retime: boolean }): Promise<boolean> {
    const result = await this.db
      .updateTable("schedules")
      .set((eb) => ({
        ...columns(row),
        ...(options.retime ? { next_fire_at: null, buffered_at: null } : {}),
        version: eb("version", "+", 1),
        locked_by: null,
        locked_until: null,
        updated_at: new Date(),
      }))
      .where("id", "=", row.id)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * Pauses or resumes. Resuming restarts the cursor at the next tick: slots that came due
   * while paused are not caught up (backfill them if they should run).
   * @returns false when there is no such schedule.
   */
  async setPaused(id: string, paused: boolean): Promise<boolean> {
    const result = await this.db
      .updateTable("schedules")
      .set((eb) => ({
        paused,
        ...(paused ? {} : { next_fire_at: null, buffered_at: null }),
        version: eb("version", "+", 1),
        locked_by: null,
        locked_until: null,
        updated_at: new Date(),
      }))
      .where("id", "=", id)
      .where("paused", "=", !paused)
      .executeTakeFirst();
    if (result.numUpdatedRows > 0n) return true;
    return (await this.db.selectFrom("schedules").select("id").where("id", "=", id).executeTakeFirst()) !== undefined;
  }

  /** Deletes the schedule and its slot records; its runs stay. @returns false when there was none. */
  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom("schedules").where("id", "=", id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  // ---- slots -------------------------------------------------------------------------------

  /** Records slots (a backfill's batch); a slot that already has a run keeps it. */
  async recordSlots(slots: readonly SlotRecord[]): Promise<void> {
    if (slots.length === 0) return;
    await this.pool.query(
      `INSERT INTO ${this.s}.schedule_slots AS sl (schedule_id, slot_at, run_id, outcome, reason)
       SELECT n.schedule_id, n.slot_at, n.run_id, n.outcome, n.reason
       FROM json_to_recordset($1::json) AS n(schedule_id text, slot_at timestamptz, run_id text, outcome text, reason text)
       JOIN ${this.s}.schedules s ON s.id = n.schedule_id
       ON CONFLICT (schedule_id, slot_at) DO UPDATE SET
         run_id = EXCLUDED.run_id, outcome = EXCLUDED.outcome, reason = EXCLUDED.reason, recorded_at = now()
       WHERE sl.run_id IS NULL`,
      [JSON.stringify(slots.map(slotJson))],
    );
  }

  /**
   * Records a run started by hand ("run now") and makes it the run the overlap policy looks
   * at. A tick holding the schedule writes nothing back; the next one recomputes its slots.
   */
  async recordTrigger(slot: { scheduleId: string; slotAt: Date; runId: string }): Promise<boolean> {
    const { rows } = await this.pool.query(
      `WITH s AS (
         UPDATE ${this.s}.schedules SET last_run_id = $3, version = version + 1, locked_by = NULL,
           locked_until = NULL, updated_at = now()
         WHERE id = $1 RETURNING id
       )
       INSERT INTO ${this.s}.schedule_slots (schedule_id, slot_at, run_id, outcome)
       SELECT id, $2, $3, 'triggered' FROM s
       ON CONFLICT (schedule_id, slot_at) DO NOTHING
       RETURNING schedule_id`,
      [slot.scheduleId, slot.slotAt.toISOString(), slot.runId],
    );
    return rows.length > 0;
  }

  /** A schedule's handled slots, newest first, with when each run was queued, started and ended. */
  async slots(id: string, filter: SlotFilter = {}): Promise<StoredSlot[]> {
    const { rows } = await this.pool.query<StoredSlot>(
      `SELECT sl.schedule_id AS "scheduleId", sl.slot_at AS "slotAt", sl.run_id AS "runId", sl.outcome,
              sl.reason, sl.recorded_at AS "recordedAt", r.status AS "runStatus", r.created_at AS "queuedAt",
              r.started_at AS "startedAt",
              CASE WHEN r.status IN ${TERMINAL_SQL} THEN r.updated_at END AS "endedAt"
       FROM ${this.s}.schedule_slots sl
       LEFT JOIN ${this.s}.runs r ON r.id = sl.run_id
       WHERE sl.schedule_id = $1 AND ($2::timestamptz IS NULL OR sl.slot_at >= $2) AND ($3::timestamptz IS NULL OR sl.slot_at <= $3)
       ORDER BY sl.slot_at DESC
       LIMIT $4`,
      [id, filter.from?.toISOString() ?? null, filter.to?.toISOString() ?? null, Math.min(Math.max(filter.limit ?? 100, 1), 100_000)],
    );
    return rows;
  }

  /**
   * Slots since `since` (default: a day before `now`) whose run started more than `lateByMs` after the slot, or has not
   * started that long after it; and schedules whose next slot is that overdue with no run
   * (no scheduler is firing them). Oldest first.
   */
  async late(args: { lateByMs: number; since?: Date | undefined; now?: Date | undefined; limit?: number | undefined }): Promise<LateSlot[]> {
    const { rows } = await this.pool.query<Omit<LateSlot, "lateMs"> & { lateMs: string | number }>(
      `WITH t AS (SELECT coalesce($3::timestamptz, now()) AS at, coalesce($2::timestamptz, coalesce($3::timestamptz, now()) - interval '1 day') AS since)
       SELECT * FROM (
         SELECT sl.schedule_id AS "scheduleId", s.workflow, sl.slot_at AS "slotAt", sl.run_id AS "runId",
                r.started_at AS "startedAt",
                extract(epoch FROM coalesce(r.started_at, t.at) - sl.slot_at) * 1000 AS "lateMs",
                CASE WHEN r.started_at IS NULL THEN 'not-started' ELSE 'started-late' END AS reason
         FROM ${this.s}.schedule_slots sl
         JOIN ${this.s}.schedules s ON s.id = sl.schedule_id
         JOIN ${this.s}.runs r ON r.id = sl.run_id
         CROSS JOIN t
         WHERE sl.slot_at >= t.since AND sl.slot_at <= t.at
           AND (r.started_at IS NOT NULL OR r.status NOT IN ${TERMINAL_SQL})
           AND coalesce(r.started_at, t.at) - sl.slot_at > $1 * interval '1 millisecond'
         UNION ALL
         SELECT s.id, s.workflow, s.next_fire_at, NULL, NULL,
                extract(epoch FROM t.at - s.next_fire_at) * 1000, 'not-fired'
         FROM ${this.s}.schedules s CROSS JOIN t
         WHERE NOT s.paused AND s.next_fire_at >= t.since AND t.at - s.next_fire_at > $1 * interval '1 millisecond'
       ) late
       ORDER BY "slotAt", "scheduleId"
       LIMIT $4`,
      [args.lateByMs, args.since?.toISOString() ?? null, args.now?.toISOString() ?? null, Math.min(Math.max(args.limit ?? 1000, 1), 100_000)],
    );
    return rows.map((r) => ({ ...r, lateMs: Math.round(Number(r.lateMs)) }));
  }

  /** Slots whose run started in time and ran past the slot plus `lateByMs` (or is still running past it). */
  async overrun(args: { lateByMs: number; since?: Date | undefined; now?: Date | undefined; limit?: number | undefined }): Promise<OverrunSlot[]> {
    const { rows } = await this.pool.query<Omit<OverrunSlot, "lateMs"> & { lateMs: string | number }>(
      `WITH t AS (SELECT coalesce($3::timestamptz, now()) AS at, coalesce($2::timestamptz, coalesce($3::timestamptz, now()) - interval '1 day') AS since)
       SELECT sl.schedule_id AS "scheduleId", s.workflow, sl.slot_at AS "slotAt", sl.run_id AS "runId",
              r.started_at AS "startedAt", e.ended_at AS "endedAt",
              extract(epoch FROM coalesce(e.ended_at, t.at) - sl.slot_at) * 1000 AS "lateMs"
       FROM ${this.s}.schedule_slots sl
       JOIN ${this.s}.schedules s ON s.id = sl.schedule_id
       JOIN ${this.s}.runs r ON r.id = sl.run_id
       CROSS JOIN t
       CROSS JOIN LATERAL (SELECT CASE WHEN r.status IN ${TERMINAL_SQL} THEN r.updated_at END AS ended_at) e
       WHERE sl.slot_at >= t.since AND sl.slot_at <= t.at
         AND r.started_at IS NOT NULL AND r.started_at - sl.slot_at <= $1 * interval '1 millisecond'
         AND coalesce(e.ended_at, t.at) - sl.slot_at > $1 * interval '1 millisecond'
       ORDER BY sl.slot_at, sl.schedule_id
       LIMIT $4`,
      [args.lateByMs, args.since?.toISOString() ?? null, args.now?.toISOString() ?? null, Math.min(Math.max(args.limit ?? 1000, 1), 100_000)],
    );
    return rows.map((r) => ({ ...r, lateMs: Math.round(Number(r.lateMs)) }));
  }

  private select() {
    return this.db
      .selectFrom("schedules as s")
      .leftJoin("runs as r", "r.id", "s.last_run_id")
      .select([
        "s.id",
        "s.workflow",
        "s.queue",
        "s.cron",
        "s.every_ms as everyMs",
        "s.timezone",
        "s.catchup",
        "s.catchup_window_ms as catchupWindowMs",
        "s.overlap",
        "s.input",
        "s.source",
        "s.paused",
        "s.version",
        "s.next_fire_at as nextFireAt",
        "s.last_slot_at as lastSlotAt",
        "s.last_run_id as lastRunId",
        "r.status as lastRunStatus",
        "s.buffered_at as bufferedAt",
        "s.created_at as createdAt",
        "s.updated_at as updatedAt",
      ]);
  }
}

function columns(row: ScheduleRow) {
  return {
    workflow: row.workflow,
    queue: row.queue,
    cron: row.cron,
    every_ms: row.everyMs,
    timezone: row.timezone,
    catchup: row.catchup,
    catchup_window_ms: row.catchupWindowMs,
    overlap: row.overlap,
    input: row.input ?? null,
  };
}
