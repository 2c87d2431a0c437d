-- Reprise 0002: flow control of queues.

-- Runs executing now, per queue: what a queue's global concurrency limit counts. Partial,
-- so it holds only the in-flight runs and the count costs O(limit), not O(backlog).
CREATE INDEX runs_running ON :schema.runs (queue) WHERE status = 'running';

-- One row per claim of a rate-limited queue, kept for one window: a sliding-window limit
-- ("at most N claims in any period") across all workers.
CREATE TABLE :schema.queue_claims (
  queue       text        NOT NULL,
  claimed_at  timestamptz NOT NULL
);
CREATE INDEX queue_claims_window ON :schema.queue_claims (queue, claimed_at);
