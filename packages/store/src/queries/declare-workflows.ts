import { statement, type Queryable } from "../queryable.js";

/**
 * Writes the workflows a worker runs, and the events that start them, at its start: one
 * statement for all of them. The registry row is what a start by definition is checked
 * against and what `emit()` in SQL starts runs from; the worker's code wins on every start.
 * A workflow's triggers become exactly what this code declares: triggers it no longer
 * declares are dropped, new ones added (a workflow no worker runs any more keeps its row
 * and triggers until one does, or until they are deleted by hand).
 *
 * The new triggers reference registry rows created by the same statement: the foreign key
 * is checked at the end of the statement, when both exist.
 */
const SQL = `
WITH input AS (
  SELECT * FROM json_to_recordset($1::json) AS i(
    name text, queue text, priority int, timeout_ms float8, fingerprint text, versioning text,
    has_input_schema boolean, version text, triggers text[])
), upserted AS (
  INSERT INTO :schema.workflows AS w (name, queue, priority, timeout_ms, fingerprint, versioning, has_input_schema, version)
  SELECT name, queue, priority, timeout_ms, fingerprint, versioning, has_input_schema, version FROM input
  ON CONFLICT (name) DO UPDATE SET
    queue = EXCLUDED.queue, priority = EXCLUDED.priority, timeout_ms = EXCLUDED.timeout_ms,
    fingerprint = EXCLUDED.fingerprint, versioning = EXCLUDED.versioning,
    has_input_schema = EXCLUDED.has_input_schema, version = EXCLUDED.version, updated_at = now()
), dropped AS (
  DELETE FROM :schema.triggers t USING input i
  WHERE t.workflow = i.name AND NOT (t.event = ANY (i.triggers))
  RETURNING t.event, t.workflow
), added AS (
  INSERT INTO :schema.triggers (event, workflow)
  SELECT DISTINCT e.event, i.name FROM input i CROSS JOIN LATERAL unnest(i.triggers) AS e(event)
  ON CONFLICT DO NOTHING
  RETURNING event, workflow
)
SELECT 'added' AS change, event, workflow FROM added
UNION ALL
SELECT 'dropped', event, workflow FROM dropped`;

/** A workflow as its worker declares it. */
export interface DeclaredWorkflow {
  name: string;
  queue: string;
  priority: number;
  timeoutMs: number | undefined;
  fingerprint: string | undefined;
  versioning: "auto-upgrade" | "pinned";
  hasInputSchema: boolean;
  version: string | undefined;
  /** The event names that start it. */
  triggers: readonly string[];
}

/** A trigger the declaration added or dropped. */
export interface TriggerChange {
  change: "added" | "dropped";
  event: string;
  workflow: string;
}

export async function declareWorkflows(db: Queryable, schema: string, workflows: readonly DeclaredWorkflow[]): Promise<TriggerChange[]> {
  if (workflows.length === 0) return [];
  const input = workflows.map((w) => ({
    name: w.name,
    queue: w.queue,
    priority: w.priority,
    timeout_ms: w.timeoutMs ?? null,
    fingerprint: w.fingerprint ?? null,
    versioning: w.versioning,
    has_input_schema: w.hasInputSchema,
    version: w.version ?? null,
    triggers: [...new Set(w.triggers)],
  }));
  const { rows } = await db.query<TriggerChange>({ ...statement("declare_workflows", schema, SQL), values: [JSON.stringify(input)] });
  return rows;
}
