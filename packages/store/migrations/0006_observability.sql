-- Reprise 0006: what monitoring reads — trace context, the steps in flight, and the
-- indexes of the stats. Additive: workers of the previous version run beside it.
-- :schema is replaced by the quoted schema name. Never edit a migration once released.

-- The span context that was active where the run was started (client.start, or the
-- parent's run span for a child): { traceparent, tracestate? } in W3C format. Written once
-- with the run, read by the claim to parent the worker's spans; never part of the history,
-- so a replay is the same whether tracing was on or not.
ALTER TABLE :schema.runs ADD COLUMN trace_context jsonb;

-- The steps the worker holding the run has in flight: { epoch, worker, steps: [{ name,
-- position, attempt, startedAt }] }, written by that worker's once-a-second batch (never by
-- a step's own commit) and fenced by its lease. It describes the lease of `epoch` only: a
-- new claim (epoch + 1) makes an older snapshot stale without anyone clearing it.
ALTER TABLE :schema.runs ADD COLUMN progress jsonb;

-- Stats read run endings and failed attempts by time. Partial, so each holds one entry per
-- run ending or per retry and nothing for the steps that completed: an append of
-- StepCompleted only evaluates the predicates. (On a large events table, build them first
-- with CREATE INDEX CONCURRENTLY under these names: the migration then keeps them.)
CREATE INDEX IF NOT EXISTS events_run_ends ON :schema.events (created_at)
  WHERE kind IN ('RunCompleted', 'RunFailed', 'RunCancelled');
CREATE INDEX IF NOT EXISTS events_attempt_failures ON :schema.events (created_at)
  WHERE kind = 'StepAttemptFailed';
