import { statement, type Queryable } from "../queryable.js";

/**
 * How many runs of each queue are ready to be claimed now, and since when the oldest of
 * them has been due — what the claim would see, by its own two lanes and their indexes:
 * runs_ready (queue, priority DESC, available_at) for new runs, runs handed back and runs
 * whose lease lapsed; runs_timed (queue, available_at) for sleeping and waiting runs whose
 * time came, a range scan that stops at the first one not due. The count is exact, so it
 * costs a scan of the ready rows (not of the sleeping ones): meant for a metrics scrape
 * every few seconds, not for the hot path.
 */
const SQL = `
SELECT q.queue,
       ready.n + timed.n AS ready,
       extract(epoch FROM now() - least(ready.oldest, timed.oldest)) AS lag_seconds
FROM unnest($1::text[]) AS q(queue)
CROSS JOIN LATERAL (
  SELECT count(*)::int AS n, min(available_at) AS oldest FROM :schema.runs
  WHERE queue = q.queue AND status IN ('queued', 'running') AND available_at <= now()
) ready
CROSS JOIN LATERAL (
  SELECT count(*)::int AS n, min(available_at) AS oldest FROM :schema.runs
  WHERE queue = q.queue AND status NOT IN ('queued', 'running') AND available_at <= now()
) timed`;

/** A queue's backlog: runs claimable now, and how long the oldest of them has waited (0 when none). */
export interface QueueDepth {
  queue: string;
  ready: number;
  lagSeconds: number;
}

export async function queueDepths(db: Queryable, schema: string, queues: readonly string[]): Promise<QueueDepth[]> {
  if (queues.length === 0) return [];
  const { rows } = await db.query<{ queue: string; ready: number; lag_seconds: string | number | null }>({
    ...statement("queue_depths", schema, SQL),
    values: [queues],
  });
  return rows.map((r) => ({ queue: r.queue, ready: r.ready, lagSeconds: r.lag_seconds === null ? 0 : Math.max(0, Number(r.lag_seconds)) }));
}
