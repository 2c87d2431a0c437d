import { rawJsonFields } from "../json-text.js";
import { statement, type Queryable } from "../queryable.js";
import type { ScheduleRow } from "../schedules/schedule-row.js";

/**
 * Writes the schedules declared in code (`workflow({ schedule })`) at a worker's start, all
 * in one statement: the code's definition wins, the pause state and the cursor stay.
 *
 * - A row made through the API (source 'api') with the same id is left alone and reported
 *   as a conflict: code never overwrites what someone created by hand.
 * - An unchanged definition writes nothing (no version bump), so restarting workers does not
 *   disturb ticks in flight.
 * - A changed timetable (cron, interval or time zone) restarts the cursor at the next tick;
 *   any other change keeps it, so slots missed while every worker was down are still caught
 *   up by the policy.
 */
const SQL = `
WITH input AS (
  SELECT * FROM json_to_recordset($1::json) AS i(
    id text, workflow text, queue text, cron text, every_ms float8, timezone text, catchup text,
    catchup_window_ms float8, overlap text, input jsonb)
), conflicts AS (
  SELECT s.id FROM :schema.schedules s JOIN input i ON i.id = s.id WHERE s.source <> 'code'
), upserted AS (
  INSERT INTO :schema.schedules AS s (id, workflow, queue, cron, every_ms, timezone, catchup,
                                      catchup_window_ms, overlap, input, source)
  SELECT id, workflow, queue, cron, every_ms, timezone, catchup, catchup_window_ms, overlap, input, 'code'
  FROM input WHERE id NOT IN (SELECT id FROM conflicts)
  ON CONFLICT (id) DO UPDATE SET
    workflow = EXCLUDED.workflow, queue = EXCLUDED.queue, cron = EXCLUDED.cron,
    every_ms = EXCLUDED.every_ms, timezone = EXCLUDED.timezone, catchup = EXCLUDED.catchup,
    catchup_window_ms = EXCLUDED.catchup_window_ms, overlap = EXCLUDED.overlap, input = EXCLUDED.input,
    next_fire_at = CASE
      WHEN (s.cron, s.every_ms, s.timezone) IS NOT DISTINCT FROM (EXCLUDED.cron, EXCLUDED.every_ms, EXCLUDED.timezone)
      THEN s.next_fire_at END,
    version = s.version + 1, locked_by = NULL, locked_until = NULL, updated_at = now()
  WHERE (s.workflow, s.queue, s.cron, s.every_ms, s.timezone, s.catchup, s.catchup_window_ms, s.overlap, s.input)
    IS DISTINCT FROM (EXCLUDED.workflow, EXCLUDED.queue, EXCLUDED.cron, EXCLUDED.every_ms, EXCLUDED.timezone,
                      EXCLUDED.catchup, EXCLUDED.catchup_window_ms, EXCLUDED.overlap, EXCLUDED.input)
  RETURNING s.id, (s.xmax = 0) AS inserted
)
SELECT id, 'conflict' AS outcome FROM conflicts
UNION ALL
SELECT id, CASE WHEN inserted THEN 'created' ELSE 'updated' END FROM upserted`;

/** What the sync did to each declared schedule; ids not listed were unchanged. */
export type DeclaredOutcome = "created" | "updated" | "conflict";

export async function syncDeclaredSchedules(db: Queryable, schema: string, rows: readonly ScheduleRow[]): Promise<Map<string, DeclaredOutcome>> {
  if (rows.length === 0) return new Map();
  const input = rows.map((r) =>
    rawJsonFields(
      {
        id: r.id,
        workflow: r.workflow,
        queue: r.queue,
        cron: r.cron,
        every_ms: r.everyMs,
        timezone: r.timezone,
        catchup: r.catchup,
        catchup_window_ms: r.catchupWindowMs,
        overlap: r.overlap,
      },
      { input: r.input },
    ),
  );
  const { rows: out } = await db.query<{ id: string; outcome: DeclaredOutcome }>({
    ...statement("sync_declared_schedules", schema, SQL),
    values: [`[${input.join(",")}]`],
  });
  return new Map(out.map((r) => [r.id, r.outcome]));
}
