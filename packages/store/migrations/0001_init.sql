-- Reprise 0001: the event log and its projections.
-- :schema is replaced by the quoted schema name. Never edit a migration once released:
-- add a new one.

-- Every durable call of every run, in order. The source of truth; only ever inserted.
CREATE TABLE :schema.events (
  run_id      text        NOT NULL,
  seq         integer     NOT NULL,
  kind        text        NOT NULL,
  position    integer,
  name        text,
  payload     jsonb       NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, seq)
);

-- The current state of each run: a projection of its events plus the claim bookkeeping.
-- available_at is the one time the claim looks at: when a queued, sleeping or waiting run
-- becomes runnable, and for a leased run when its lease expires (a crashed worker's run
-- becomes claimable again by the same query). NULL means "nothing to do until woken".
CREATE TABLE :schema.runs (
  id                text        PRIMARY KEY,
  workflow          text        NOT NULL,
  queue             text        NOT NULL,
  status            text        NOT NULL CHECK (status IN ('queued', 'running', 'sleeping', 'waiting', 'completed', 'failed', 'cancelled')),
  input             jsonb,
  output            jsonb,
  error             jsonb,
  priority          integer     NOT NULL DEFAULT 0,
  available_at      timestamptz,
  lease_owner       text,
  lease_epoch       integer     NOT NULL DEFAULT 0,
  -- Bumped by everything that may end a wait (a signal, a child's end, a cancel request);
  -- a suspending worker compares it with what it saw, so no wake-up is lost in between.
  wakeups           integer     NOT NULL DEFAULT 0,
  cancel_requested  jsonb,
  attempt           integer     NOT NULL DEFAULT 1,
  parent_id         text,
  timeout_ms        double precision,
  deadline_at       timestamptz,
  fingerprint       text,
  forked_from       text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);

-- The claim reads two lanes. Ready runs (new, handed back, or with an expired lease) are
-- ordered by priority; the scan meets at most the live leases before the due rows.
CREATE INDEX runs_ready ON :schema.runs (queue, priority DESC, available_at)
  WHERE status IN ('queued', 'running');
-- Timed runs (sleeping, or waiting with a timeout) are read in available_at order and the
-- scan stops at the first one not yet due, so a million sleeping runs cost the claim nothing.
CREATE INDEX runs_timed ON :schema.runs (queue, available_at)
  WHERE status NOT IN ('queued', 'running') AND available_at IS NOT NULL;
CREATE INDEX runs_created ON :schema.runs (created_at DESC, id DESC);
CREATE INDEX runs_workflow_created ON :schema.runs (workflow, created_at DESC);
CREATE INDEX runs_parent ON :schema.runs (parent_id) WHERE parent_id IS NOT NULL;

-- Signals wait here until a run consumes them; the consumption is recorded in the run's log.
CREATE TABLE :schema.signals (
  id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id      text        NOT NULL,
  name        text        NOT NULL,
  payload     jsonb,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX signals_inbox ON :schema.signals (run_id, name, id);

-- The last progress a step saved with stepCtx.heartbeat(), read by its next attempt.
CREATE TABLE :schema.heartbeats (
  run_id      text        NOT NULL,
  position    integer     NOT NULL,
  details     jsonb,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, position)
);

-- ctx.log lines, persisted with the run.
CREATE TABLE :schema.logs (
  run_id      text        NOT NULL,
  id          bigint      GENERATED ALWAYS AS IDENTITY,
  at          timestamptz NOT NULL,
  level       text        NOT NULL,
  message     text        NOT NULL,
  fields      jsonb,
  position    integer,
  step        text,
  attempt     integer,
  PRIMARY KEY (run_id, id)
);

-- Items ctx.map gave up on. Written in the same statement as their DeadLettered event.
CREATE TABLE :schema.dead_letters (
  id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id      text        NOT NULL,
  workflow    text        NOT NULL,
  map         text        NOT NULL,
  item_index  integer     NOT NULL,
  position    integer     NOT NULL,
  item        jsonb,
  error       jsonb       NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  retried_by  text,
  UNIQUE (run_id, position)
);
CREATE INDEX dead_letters_workflow ON :schema.dead_letters (workflow, created_at DESC);

-- The log is append-only. Retention goes through prune_runs(), which alone may delete.
CREATE FUNCTION :schema.events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('reprise.pruning', true) = 'on' AND TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'the reprise event log is append-only: % on events is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON :schema.events
  FOR EACH ROW EXECUTE FUNCTION :schema.events_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON :schema.events
  FOR EACH STATEMENT EXECUTE FUNCTION :schema.events_append_only();

-- Deletes finished runs (and their events, signals, logs) that ended before the cutoff.
CREATE FUNCTION :schema.prune_runs(older_than interval) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  pruned bigint;
BEGIN
  PERFORM set_config('reprise.pruning', 'on', true);
  WITH gone AS (
    DELETE FROM :schema.runs
    WHERE status IN ('completed', 'failed', 'cancelled') AND available_at IS NULL
      AND updated_at < now() - older_than
    RETURNING id
  ), ev AS (
    DELETE FROM :schema.events e USING gone WHERE e.run_id = gone.id
  ), sg AS (
    DELETE FROM :schema.signals s USING gone WHERE s.run_id = gone.id
  ), hb AS (
    DELETE FROM :schema.heartbeats h USING gone WHERE h.run_id = gone.id
  ), lg AS (
    DELETE FROM :schema.logs l USING gone WHERE l.run_id = gone.id
  )
  SELECT count(*) INTO pruned FROM gone;
  PERFORM set_config('reprise.pruning', 'off', true);
  RETURN pruned;
END;
$$;
