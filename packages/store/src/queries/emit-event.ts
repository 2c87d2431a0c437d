import { rawJsonFields } from "../json-text.js";
import { statement, type Queryable } from "../queryable.js";

/**
 * A client's emit: records the event (an id names one event: a second emission of it
 * changes nothing of it), starts the runs the client built for the workflows it matched
 * (ids derived from the event and the workflow, so each starts once however often the event
 * is emitted), records a refusal for those whose schema rejected the payload, and wakes the
 * runs' queues — one statement, one commit. `emit()` in SQL (migration 0009) does the same
 * for other systems, without the schema check.
 *
 * A refusal recorded by an earlier emission gives way to a run if this one starts it (the
 * workflow's code now accepts the payload); a run, once linked, stays.
 */
const SQL = `
WITH event AS (
  INSERT INTO :schema.emitted_events (id, name, payload, payload_bytes, source)
  VALUES ($1, $2, $3::jsonb, $4, 'client')
  ON CONFLICT (id) DO NOTHING
  RETURNING id
), input AS (
  SELECT * FROM json_to_recordset($5::json) AS i(
    workflow text, run_id text, queue text, input jsonb, priority int, timeout_ms float8, fingerprint text, error jsonb)
), created AS (
  INSERT INTO :schema.runs (id, workflow, queue, status, input, priority, available_at, timeout_ms, deadline_at, fingerprint)
  SELECT run_id, workflow, queue, 'queued', input, coalesce(priority, 0), now(), timeout_ms,
         now() + timeout_ms * interval '1 millisecond', fingerprint
  FROM input WHERE run_id IS NOT NULL
  ON CONFLICT (id) DO NOTHING
  RETURNING id, workflow, queue, input, fingerprint, timeout_ms, created_at
), started AS (
  INSERT INTO :schema.events (run_id, seq, kind, payload, created_at)
  SELECT id, 0, 'RunStarted',
         jsonb_build_object('workflow', workflow, 'queue', queue)
           || CASE WHEN input IS NULL THEN '{}' ELSE jsonb_build_object('input', input) END
           || CASE WHEN fingerprint IS NULL THEN '{}' ELSE jsonb_build_object('fingerprint', fingerprint) END
           || CASE WHEN timeout_ms IS NULL THEN '{}' ELSE jsonb_build_object('timeoutMs', timeout_ms) END
           || jsonb_build_object('event', $1::text),
         created_at
  FROM created
), linked AS (
  INSERT INTO :schema.event_runs AS l (event_id, workflow, run_id, error)
  SELECT $1, workflow, run_id, CASE WHEN run_id IS NULL THEN error END FROM input
  ON CONFLICT (event_id, workflow) DO UPDATE SET run_id = EXCLUDED.run_id, error = NULL
  WHERE l.run_id IS NULL AND EXCLUDED.run_id IS NOT NULL
), notified AS (
  SELECT pg_notify($6, 'q:' || queue) FROM (SELECT DISTINCT queue FROM created) q
)
SELECT EXISTS (SELECT 1 FROM event) AS new_event, ARRAY(SELECT id FROM created) AS created,
       (SELECT count(*) FROM notified) AS notified`;

/** A workflow an emitted event matched: the run to start for it, or why none starts. */
export interface EventTargetRun {
  workflow: string;
  /** The run's id (derived from the event and the workflow); undefined with `error`. */
  runId?: string | undefined;
  queue?: string | undefined;
  /** The run's input as JSON text. */
  input?: string | undefined;
  priority?: number | undefined;
  timeoutMs?: number | undefined;
  fingerprint?: string | undefined;
  /** The refusal (a stored error, JSON text) when the payload does not suit the workflow. */
  error?: string | undefined;
}

/** One emitted event and the runs it starts (one per matching workflow, ids derived from the event's). */
export interface EmitArgs {
  id: string;
  name: string;
  /** The payload as JSON text, or undefined for none. */
  payload: string | undefined;
  payloadBytes: number;
  runs: readonly EventTargetRun[];
}

/** @returns whether the event is new, and the runs this emission created. */
export async function emitEvent(db: Queryable, schema: string, channel: string, args: EmitArgs): Promise<{ newEvent: boolean; created: Set<string> }> {
  const runs = args.runs.map((r) =>
    rawJsonFields(
      {
        workflow: r.workflow,
        run_id: r.runId ?? null,
        queue: r.queue ?? null,
        priority: r.priority ?? null,
        timeout_ms: r.timeoutMs ?? null,
        fingerprint: r.fingerprint ?? null,
      },
      { input: r.input, error: r.error },
    ),
  );
  const { rows } = await db.query<{ new_event: boolean; created: string[] }>({
    ...statement("emit_event", schema, SQL),
    values: [args.id, args.name, args.payload ?? null, args.payloadBytes, `[${runs.join(",")}]`, channel],
  });
  return { newEvent: rows[0]!.new_event, created: new Set(rows[0]!.created) };
}
