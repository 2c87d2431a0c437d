import { statement, type Queryable } from "../queryable.js";

/**
 * Per-workflow stats of a time window, read from the event log (so every worker's runs
 * count, and a run that failed and was retried to completion counts one failure and one
 * completion). Hand-written: window functions and percentiles, which kysely would only wrap.
 *
 * - ends: the run endings of the window (RunCompleted, RunFailed, RunCancelled), by the
 *   partial index events_run_ends (created_at) — one entry per ending — joined to runs by
 *   primary key for the workflow and when the run first started.
 * - durations: percentile_cont over each ending's time since the run first started.
 * - incidents: per workflow, endings in time order (cancellations left out) are cut after
 *   each completion; a piece that holds a failure is an incident, from its first failure
 *   to the completion that ends it. An incident still open at the end of the window is
 *   not counted in the mean; one that began before the window counts from its first
 *   failure inside it.
 * - failed attempts: StepAttemptFailed events of the window, by the partial index
 *   events_attempt_failures (created_at), grouped by step; each step's recovery is the
 *   time from its first failed attempt to its StepCompleted, found by the events primary
 *   key (run_id, seq) among the events of that run only.
 */
const SQL = `
WITH bounds AS (
  SELECT coalesce($1::timestamptz, now() - $2::float8 * interval '1 millisecond') AS since
), ends AS (
  SELECT e.run_id, e.kind, e.created_at AS ended_at, r.workflow, r.started_at
  FROM :schema.events e
  JOIN :schema.runs r ON r.id = e.run_id
  WHERE e.kind IN ('RunCompleted', 'RunFailed', 'RunCancelled')
    AND e.created_at >= (SELECT since FROM bounds)
    AND ($3::text IS NULL OR r.workflow = $3::text)
), outcomes AS (
  SELECT workflow,
         count(DISTINCT run_id)::int AS runs,
         count(*) FILTER (WHERE kind = 'RunCompleted')::int AS completed,
         count(*) FILTER (WHERE kind = 'RunFailed')::int AS failed,
         count(*) FILTER (WHERE kind = 'RunCancelled')::int AS cancelled,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ended_at - started_at) * 1000) AS p50_ms,
         percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM ended_at - started_at) * 1000) AS p95_ms
  FROM ends
  GROUP BY workflow
), sequenced AS (
  SELECT workflow, kind, ended_at,
         count(*) FILTER (WHERE kind = 'RunCompleted')
           OVER (PARTITION BY workflow ORDER BY ended_at, run_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS piece
  FROM ends
  WHERE kind <> 'RunCancelled'
), incidents AS (
  SELECT workflow,
         min(ended_at) FILTER (WHERE kind = 'RunFailed') AS first_failure,
         max(ended_at) FILTER (WHERE kind = 'RunCompleted') AS recovered
  FROM sequenced
  GROUP BY workflow, piece
), recovery AS (
  SELECT workflow, avg(extract(epoch FROM recovered - first_failure) * 1000) AS mttr_ms
  FROM incidents
  WHERE first_failure IS NOT NULL AND recovered IS NOT NULL
  GROUP BY workflow
), failed_steps AS (
  SELECT e.run_id, e.position, r.workflow, count(*)::int AS failures, min(e.created_at) AS first_failure
  FROM :schema.events e
  JOIN :schema.runs r ON r.id = e.run_id
  WHERE e.kind = 'StepAttemptFailed'
    AND e.created_at >= (SELECT since FROM bounds)
    AND ($3::text IS NULL OR r.workflow = $3::text)
  GROUP BY e.run_id, e.position, r.workflow
), steps AS (
  SELECT f.workflow, sum(f.failures)::int AS retries,
         avg(extract(epoch FROM done.created_at - f.first_failure) * 1000) AS step_mttr_ms
  FROM failed_steps f
  LEFT JOIN LATERAL (
    SELECT c.created_at FROM :schema.events c
    WHERE c.run_id = f.run_id AND c.position = f.position AND c.kind = 'StepCompleted'
    ORDER BY c.seq
    LIMIT 1
  ) done ON true
  GROUP BY f.workflow
)
SELECT coalesce(o.workflow, s.workflow) AS workflow,
       coalesce(o.runs, 0) AS runs, coalesce(o.completed, 0) AS completed,
       coalesce(o.failed, 0) AS failed, coalesce(o.cancelled, 0) AS cancelled,
       coalesce(s.retries, 0) AS retries, rc.mttr_ms, s.step_mttr_ms, o.p50_ms, o.p95_ms
FROM outcomes o
FULL JOIN steps s ON s.workflow = o.workflow
LEFT JOIN recovery rc ON rc.workflow = coalesce(o.workflow, s.workflow)
ORDER BY 1`;

/** The window of {@link Store.runStats}: from `since`, or from `sinceMs` before the database's now. */
export interface StatsFilter {
  workflow?: string | undefined;
  since?: Date | undefined;
  /** @default 7 days */
  sinceMs?: number | undefined;
}

/** One workflow's numbers over a window (times in milliseconds; null when there was nothing to measure). */
export interface WorkflowStatsRecord {
  workflow: string;
  runs: number;
  completed: number;
  failed: number;
  cancelled: number;
  stepRetries: number;
  meanTimeToRecoveryMs: number | null;
  stepMeanTimeToRecoveryMs: number | null;
  p50DurationMs: number | null;
  p95DurationMs: number | null;
}

const WEEK_MS = 7 * 86_400_000;

export async function runStats(db: Queryable, schema: string, filter: StatsFilter): Promise<WorkflowStatsRecord[]> {
  const { rows } = await db.query<{
    workflow: string;
    runs: number;
    completed: number;
    failed: number;
    cancelled: number;
    retries: number;
    mttr_ms: string | number | null;
    step_mttr_ms: string | number | null;
    p50_ms: number | null;
    p95_ms: number | null;
  }>({
    ...statement("run_stats", schema, SQL),
    values: [filter.since ?? null, filter.since ? null : (filter.sinceMs ?? WEEK_MS), filter.workflow ?? null],
  });
  const num = (v: string | number | null) => (v === null ? null : Number(v));
  return rows.map((r) => ({
    workflow: r.workflow,
    runs: r.runs,
    completed: r.completed,
    failed: r.failed,
    cancelled: r.cancelled,
    stepRetries: r.retries,
    meanTimeToRecoveryMs: num(r.mttr_ms),
    stepMeanTimeToRecoveryMs: num(r.step_mttr_ms),
    p50DurationMs: num(r.p50_ms),
    p95DurationMs: num(r.p95_ms),
  }));
}
