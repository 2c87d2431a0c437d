import { statement, type Queryable } from "../queryable.js";

/**
 * Records the outcome of a guarded call. A success closes the breaker (written only if it
 * was not already closed with no failures); a failure counts, and opens the breaker at
 * $3 consecutive failures or when the half-open trial failed. Returns the new state and
 * whether this report opened it. The report that opens it records its run ($4) as
 * `opened_by`, which migration 0005's trigger hands to alert rules with the opening.
 */
const SQL = `
INSERT INTO :schema.breakers AS b (name, state, failures, opened_at, updated_at, opened_by)
VALUES ($1, CASE WHEN $2 OR $3 > 1 THEN 'closed' ELSE 'open' END, CASE WHEN $2 THEN 0 ELSE 1 END,
        CASE WHEN $2 OR $3 > 1 THEN NULL ELSE now() END, now(), CASE WHEN $2 OR $3 > 1 THEN NULL ELSE $4::text END)
ON CONFLICT (name) DO UPDATE SET
  failures = CASE WHEN $2 THEN 0 ELSE b.failures + 1 END,
  state = CASE
    WHEN $2 THEN 'closed'
    WHEN b.state = 'half-open' OR b.failures + 1 >= $3 THEN 'open'
    ELSE b.state END,
  opened_at = CASE
    WHEN $2 THEN NULL
    WHEN b.state = 'half-open' OR (b.state = 'closed' AND b.failures + 1 >= $3) THEN now()
    ELSE b.opened_at END,
  trial_at = CASE WHEN $2 THEN NULL ELSE b.trial_at END,
  opened_by = CASE
    WHEN NOT $2 AND (b.state = 'half-open' OR (b.state = 'closed' AND b.failures + 1 >= $3)) THEN $4::text
    ELSE b.opened_by END,
  updated_at = now()
WHERE NOT ($2 AND b.state = 'closed' AND b.failures = 0)
RETURNING state, (state = 'open' AND opened_at = now()) AS opened`;

export async function breakerReport(
  db: Queryable,
  schema: string,
  args: { name: string; ok: boolean; failureThreshold: number; runId?: string | undefined },
): Promise<{ state: string; opened: boolean } | undefined> {
  const { rows } = await db.query<{ state: string; opened: boolean }>({
    ...statement("breaker_report", schema, SQL),
    values: [args.name, args.ok, args.failureThreshold, args.runId ?? null],
  });
  return rows[0];
}
