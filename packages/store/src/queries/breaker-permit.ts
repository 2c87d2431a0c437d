import { statement, type Queryable } from "../queryable.js";

/**
 * May a call guarded by breaker $1 go through? One statement for every case:
 * - closed (or unknown): yes, and nothing is written — the common case is a read.
 * - open, cool-down ($2 ms) over, or half-open with a trial that never reported within the
 *   cool-down (its worker died): this caller becomes the one trial (the UPDATE takes the
 *   row lock, so exactly one of racing callers wins).
 * - otherwise: no, with the milliseconds left until a trial may go.
 */
const SQL = `
WITH current AS (
  SELECT state, opened_at, trial_at FROM :schema.breakers WHERE name = $1
), trial AS (
  UPDATE :schema.breakers b SET state = 'half-open', trial_at = now(), updated_at = now()
  FROM current c
  WHERE b.name = $1
    AND ((c.state = 'open' AND c.opened_at + $2 * interval '1 millisecond' <= now())
      OR (c.state = 'half-open' AND c.trial_at + $2 * interval '1 millisecond' <= now()))
  RETURNING b.name
)
SELECT
  coalesce((SELECT state FROM current), 'closed') = 'closed' OR EXISTS (SELECT 1 FROM trial) AS allowed,
  greatest(0, extract(epoch FROM (
    coalesce((SELECT CASE WHEN state = 'open' THEN opened_at ELSE trial_at END FROM current), now())
    + $2 * interval '1 millisecond' - now())) * 1000) AS retry_after_ms`;

export async function breakerPermit(db: Queryable, schema: string, name: string, resetAfterMs: number): Promise<{ allowed: boolean; retryAfterMs: number }> {
  const { rows } = await db.query<{ allowed: boolean; retry_after_ms: string }>({
    ...statement("breaker_permit", schema, SQL),
    values: [name, resetAfterMs],
  });
  return { allowed: rows[0]!.allowed, retryAfterMs: Number(rows[0]!.retry_after_ms) };
}
