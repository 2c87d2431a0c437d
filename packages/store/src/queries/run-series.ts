import { statement, type Queryable } from "../queryable.js";

/**
 * The dashboard's charts: per time bucket of a window, the run endings (completed, failed,
 * cancelled), the retried step attempts, and the mean time to recovery of the incidents
 * that recovered in it — read from the event log like run-stats.ts, by the same partial
 * indexes on events (events_run_ends, events_attempt_failures: created_at), so a window
 * costs the events inside it, not the whole log. An incident (a workflow's failed runs up to
 * its next completed run) is placed in the bucket where it recovered.
 */
const SQL = `
WITH bounds AS (
  SELECT $1::timestamptz AS since, $2::float8 AS bucket_ms,
         greatest(0, floor(extract(epoch FROM now() - $1::timestamptz) * 1000 / $2::float8))::int AS last
), ends AS (
  SELECT e.run_id, e.kind, e.created_at AS ended_at, r.workflow
  FROM :schema.events e
  JOIN :schema.runs r ON r.id = e.run_id
  WHERE e.kind IN ('RunCompleted', 'RunFailed', 'RunCancelled')
    AND e.created_at >= (SELECT since FROM bounds)
    AND ($3::text IS NULL OR r.workflow = $3::text)
), sequenced AS (
  SELECT workflow, kind, ended_at,
         count(*) FILTER (WHERE kind = 'RunCompleted')
           OVER (PARTITION BY workflow ORDER BY ended_at, run_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS piece
  FROM ends
  WHERE kind <> 'RunCancelled'
), incidents AS (
  SELECT min(ended_at) FILTER (WHERE kind = 'RunFailed') AS first_failure,
         max(ended_at) FILTER (WHERE kind = 'RunCompleted') AS recovered
  FROM sequenced
  GROUP BY workflow, piece
), bucketed_ends AS (
  SELECT floor(extract(epoch FROM ended_at - (SELECT since FROM bounds)) * 1000 / (SELECT bucket_ms FROM bounds))::int AS i,
         count(*) FILTER (WHERE kind = 'RunCompleted')::int AS completed,
         count(*) FILTER (WHERE kind = 'RunFailed')::int AS failed,
         count(*) FILTER (WHERE kind = 'RunCancelled')::int AS cancelled
  FROM ends GROUP BY 1
), bucketed_recovery AS (
  SELECT floor(extract(epoch FROM recovered - (SELECT since FROM bounds)) * 1000 / (SELECT bucket_ms FROM bounds))::int AS i,
         avg(extract(epoch FROM recovered - first_failure) * 1000) AS mttr_ms
  FROM incidents WHERE first_failure IS NOT NULL AND recovered IS NOT NULL GROUP BY 1
), bucketed_retries AS (
  SELECT floor(extract(epoch FROM e.created_at - (SELECT since FROM bounds)) * 1000 / (SELECT bucket_ms FROM bounds))::int AS i,
         count(*)::int AS retries
  FROM :schema.events e
  JOIN :schema.runs r ON r.id = e.run_id
  WHERE e.kind = 'StepAttemptFailed' AND e.created_at >= (SELECT since FROM bounds)
    AND ($3::text IS NULL OR r.workflow = $3::text)
  GROUP BY 1
)
SELECT b.i AS "index", (SELECT since FROM bounds) + b.i * (SELECT bucket_ms FROM bounds) * interval '1 millisecond' AS "at",
       coalesce(e.completed, 0) AS completed, coalesce(e.failed, 0) AS failed, coalesce(e.cancelled, 0) AS cancelled,
       coalesce(t.retries, 0) AS retries, rc.mttr_ms AS "meanTimeToRecoveryMs"
FROM generate_series(0, (SELECT last FROM bounds)) AS b(i)
LEFT JOIN bucketed_ends e ON e.i = b.i
LEFT JOIN bucketed_retries t ON t.i = b.i
LEFT JOIN bucketed_recovery rc ON rc.i = b.i
ORDER BY b.i`;

/** One bucket of `store.runSeries()`. */
export interface SeriesBucket {
  /** The bucket's start. */
  at: Date;
  completed: number;
  failed: number;
  cancelled: number;
  /** Step attempts that failed and were retried. */
  retries: number;
  /** Of the incidents that recovered in this bucket; null when none did. */
  meanTimeToRecoveryMs: number | null;
}

/** Filters of `store.runSeries()`. */
export interface SeriesFilter {
  since: Date;
  bucketMs: number;
  workflow?: string | undefined;
}

export async function runSeries(db: Queryable, schema: string, filter: SeriesFilter): Promise<SeriesBucket[]> {
  const { rows } = await db.query<SeriesBucket & { index: number; meanTimeToRecoveryMs: number | string | null }>({
    ...statement("run_series", schema, SQL),
    values: [filter.since.toISOString(), filter.bucketMs, filter.workflow ?? null],
  });
  return rows.map((r) => ({
    at: r.at,
    completed: r.completed,
    failed: r.failed,
    cancelled: r.cancelled,
    retries: r.retries,
    meanTimeToRecoveryMs: r.meanTimeToRecoveryMs === null ? null : Math.round(Number(r.meanTimeToRecoveryMs)),
  }));
}
