import type { Queryable } from "../queryable.js";

/**
 * Puts a signal in a run's inbox and wakes the run if it waits. Bumping `wakeups` in the
 * same statement is what makes a concurrent suspension see the signal (see commit-runs).
 */
const SQL = (s: string) => `
WITH r AS (
  UPDATE ${s}.runs SET
    wakeups = wakeups + 1,
    available_at = CASE WHEN status = 'waiting' THEN now() ELSE available_at END,
    updated_at = now()
  WHERE id = $1 AND status NOT IN ('completed', 'failed', 'cancelled')
  RETURNING id, queue, status
), sig AS (
  INSERT INTO ${s}.signals (run_id, name, payload) SELECT id, $2, $3::jsonb FROM r RETURNING id
), notified AS (
  SELECT pg_notify($4, 'q:' || queue) FROM r WHERE status = 'waiting'
)
SELECT sig.id::text AS signal_id, (SELECT count(*) FROM notified) AS notified FROM sig`;

/** `signalId` when delivered; otherwise the run's status (`null`: no such run). */
export type SignalResult = { delivered: true; signalId: string } | { delivered: false; status: string | null };

export async function signalRun(
  db: Queryable,
  schema: string,
  channel: string,
  args: { runId: string; name: string; payload: string | undefined },
): Promise<SignalResult> {
  const { rows } = await db.query<{ signal_id: string }>({ text: SQL(schema), values: [args.runId, args.name, args.payload ?? null, channel] });
  if (rows[0]) return { delivered: true, signalId: rows[0].signal_id };
  const found = await db.query<{ status: string }>({ text: `SELECT status FROM ${schema}.runs WHERE id = $1`, values: [args.runId] });
  return { delivered: false, status: found.rows[0]?.status ?? null };
}
