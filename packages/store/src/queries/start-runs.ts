import { rawJsonFields } from "../json-text.js";
import { statement, type Queryable } from "../queryable.js";

/**
 * Creates runs and their RunStarted events in one round trip, for one run or for a batch
 * (backfills, bulk starts).
 *
 * `ON CONFLICT (id) DO NOTHING` makes the id an idempotency key: a run that already exists
 * is neither changed nor reported as created. The NOTIFY carries queue names only, one per
 * queue (Postgres folds identical notifications of a transaction into one).
 */
const SQL = `
WITH input AS (
  SELECT * FROM json_to_recordset($1::json) AS i(
    id text, workflow text, queue text, input jsonb, priority int, delay_ms float8,
    timeout_ms float8, parent_id text, fingerprint text, trace_context jsonb)
), created AS (
  INSERT INTO :schema.runs (id, workflow, queue, status, input, priority, available_at,
                            timeout_ms, deadline_at, parent_id, fingerprint, trace_context)
  SELECT id, workflow, queue, 'queued', input, coalesce(priority, 0),
         now() + coalesce(delay_ms, 0) * interval '1 millisecond',
         timeout_ms, now() + timeout_ms * interval '1 millisecond', parent_id, fingerprint, trace_context
  FROM input
  ON CONFLICT (id) DO NOTHING
  RETURNING id, workflow, queue, input, parent_id, fingerprint, timeout_ms, created_at
), started AS (
  INSERT INTO :schema.events (run_id, seq, kind, payload, created_at)
  SELECT id, 0, 'RunStarted',
         jsonb_build_object('workflow', workflow, 'queue', queue)
           || CASE WHEN input IS NULL THEN '{}' ELSE jsonb_build_object('input', input) END
           || CASE WHEN parent_id IS NULL THEN '{}' ELSE jsonb_build_object('parentId', parent_id) END
           || CASE WHEN fingerprint IS NULL THEN '{}' ELSE jsonb_build_object('fingerprint', fingerprint) END
           || CASE WHEN timeout_ms IS NULL THEN '{}' ELSE jsonb_build_object('timeoutMs', timeout_ms) END,
         created_at
  FROM created
), notified AS (
  SELECT pg_notify($2, 'q:' || queue) FROM (SELECT DISTINCT queue FROM created) q
)
SELECT id, (SELECT count(*) FROM notified) AS notified FROM created`;

/** A run to create (`client.start`, a schedule slot, a backfill); its id is its idempotency key. */
export interface NewRun {
  id: string;
  workflow: string;
  queue: string;
  /** The input as JSON text, already validated. */
  input?: string | undefined;
  priority?: number | undefined;
  delayMs?: number | undefined;
  timeoutMs?: number | undefined;
  parentId?: string | undefined;
  fingerprint?: string | undefined;
  /**
   * JSON text: `{ traceparent, tracestate? }` of the span active where the run was started.
   * Kept beside the run, never in its history.
   */
  traceContext?: string | undefined;
}

/** @returns the ids that were created (the others existed already). */
export async function startRuns(db: Queryable, schema: string, channel: string, runs: readonly NewRun[]): Promise<Set<string>> {
  if (runs.length === 0) return new Set();
  // The input is spliced in as raw JSON text so that it is serialised exactly once.
  const rows = runs.map((r) =>
    rawJsonFields(
      {
        id: r.id,
        workflow: r.workflow,
        queue: r.queue,
        priority: r.priority,
        delay_ms: r.delayMs,
        timeout_ms: r.timeoutMs,
        parent_id: r.parentId,
        fingerprint: r.fingerprint,
      },
      { input: r.input, trace_context: r.traceContext },
    ),
  );
  const { rows: created } = await db.query<{ id: string }>({ ...statement("start_runs", schema, SQL), values: [`[${rows.join(",")}]`, channel] });
  return new Set(created.map((r) => r.id));
}
