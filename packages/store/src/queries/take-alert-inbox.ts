import type { InboxFact } from "../alerts/alert-records.js";
import { statement, type Queryable } from "../queryable.js";

/**
 * Takes the oldest facts of the alert inbox for the rules $1 (whose locks the caller holds),
 * with what evaluating them needs, in one round trip, inside the evaluation's transaction:
 * the DELETE commits with the alerts the facts caused, or not at all, so a rule evaluates a
 * fact exactly once. Deleting rather than moving a cursor matters: inbox ids
 * are handed out before their transactions commit, so a fact with a lower id can become
 * visible after a higher one was taken — a cursor would skip it, a DELETE cannot.
 *
 * `failed_name` is the call at a RunFailed's position (the step or child that failed the
 * run); events of a pruned run come back null and are dropped by the evaluator.
 */
const SQL = `
WITH taken AS (
  DELETE FROM :schema.alert_inbox
  WHERE id IN (SELECT id FROM :schema.alert_inbox WHERE rule = ANY($1::text[]) ORDER BY id LIMIT $2)
  RETURNING id, rule, kind, run_id, seq, subject, detail, created_at
)
SELECT t.id, t.rule, t.kind, t.run_id, t.seq, t.subject, t.detail, coalesce(e.created_at, t.created_at) AS at,
       e.position, e.name, e.payload, r.workflow, r.attempt AS run_attempt,
       (SELECT x.name FROM :schema.events x
        WHERE x.run_id = t.run_id AND x.position = (e.payload->>'position')::int
        ORDER BY x.seq LIMIT 1) AS failed_name
FROM taken t
LEFT JOIN :schema.events e ON e.run_id = t.run_id AND e.seq = t.seq
LEFT JOIN :schema.runs r ON r.id = t.run_id
ORDER BY t.id`;

interface Row {
  id: string;
  rule: string;
  kind: string;
  run_id: string | null;
  seq: number | null;
  subject: string | null;
  detail: unknown;
  at: Date;
  position: number | null;
  name: string | null;
  payload: unknown;
  workflow: string | null;
  run_attempt: number | null;
  failed_name: string | null;
}

export async function takeAlertInbox(db: Queryable, schema: string, rules: readonly string[], limit: number): Promise<InboxFact[]> {
  const { rows } = await db.query<Row>({ ...statement("take_alert_inbox", schema, SQL), values: [rules, limit] });
  return rows.map((r) => ({
    id: String(r.id),
    rule: r.rule,
    kind: r.kind,
    runId: r.run_id,
    seq: r.seq,
    subject: r.subject,
    detail: r.detail,
    at: r.at,
    position: r.position,
    name: r.name,
    payload: r.payload,
    failedName: r.failed_name,
    workflow: r.workflow,
    runAttempt: r.run_attempt,
  }));
}
