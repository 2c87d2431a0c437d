-- Reprise 0009: declared workflows and their event triggers, emitted events, deployment
-- versions. :schema is replaced by the quoted schema name. Never edit a migration once
-- released: add a new one.

-- Every workflow a worker runs, written at each worker start (declare-workflows): the
-- registry a start by definition is checked against (a name no worker ever declared is an
-- error, not a run that waits forever), and what emit() needs to start a run without the
-- code. The newest version's workers write it; older ones, draining, leave it alone.
CREATE TABLE :schema.workflows (
  name              text        PRIMARY KEY,
  queue             text        NOT NULL,
  priority          integer     NOT NULL DEFAULT 0,
  timeout_ms        double precision,
  -- The code that declared it last (recorded with the runs emit() starts).
  fingerprint       text,
  versioning        text        NOT NULL DEFAULT 'auto-upgrade' CHECK (versioning IN ('auto-upgrade', 'pinned')),
  -- A payload emitted from SQL is validated by the worker (the run fails with the
  -- ValidationError at its start); this says whether there is a schema to do it.
  has_input_schema  boolean     NOT NULL DEFAULT false,
  -- The version of the worker that declared it last.
  version           text,
  declared_at       timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);

-- workflow({ on }): the events that start a workflow. A worker's start replaces the
-- triggers of the workflows it runs with what its code declares.
CREATE TABLE :schema.triggers (
  event     text NOT NULL,
  workflow  text NOT NULL REFERENCES :schema.workflows (name) ON DELETE CASCADE,
  PRIMARY KEY (event, workflow)
);
CREATE INDEX triggers_workflow ON :schema.triggers (workflow);

-- Every event emitted (client.emit, emit() in SQL, reprise emit). An id names one event: the
-- first emission's payload is the event's, and emitting the id again starts only what it
-- has not started yet. Not part of the log: delete old rows at will.
CREATE TABLE :schema.emitted_events (
  id             text        PRIMARY KEY,
  name           text        NOT NULL,
  payload        jsonb,
  payload_bytes  bigint      NOT NULL DEFAULT 0,
  source         text        NOT NULL CHECK (source IN ('client', 'sql')),
  emitted_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX emitted_events_recent ON :schema.emitted_events (emitted_at DESC, id DESC);
CREATE INDEX emitted_events_name ON :schema.emitted_events (name, emitted_at DESC, id DESC);

-- What an event did for each workflow it matched: the run it started (one per event and
-- workflow, its id derived from both), or why it started none (a payload the workflow's
-- schema refused, checked by the client). A refused one may start on a later emission.
CREATE TABLE :schema.event_runs (
  event_id    text        NOT NULL REFERENCES :schema.emitted_events (id) ON DELETE CASCADE,
  workflow    text        NOT NULL,
  run_id      text,
  error       jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_id, workflow),
  CHECK ((run_id IS NULL) <> (error IS NULL))
);

-- Workers alive (expires_at renewed every heartbeat; a graceful stop deletes the row).
CREATE TABLE :schema.workers (
  id          text        PRIMARY KEY,
  version     text,
  workflows   text[]      NOT NULL,
  queues      text[]      NOT NULL,
  started_at  timestamptz NOT NULL DEFAULT now(),
  seen_at     timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL
);
CREATE INDEX workers_version ON :schema.workers (version, expires_at);

-- Deployment versions in the order they first appeared. New runs go to the newest version
-- that has a live worker; workers of older versions drain: they continue only the pinned
-- runs of their own version.
CREATE TABLE :schema.versions (
  version        text        PRIMARY KEY,
  first_seen_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- The version of the worker that first ran the run (set by the claim), and whether the run
-- is pinned to it (workflow({ versioning: "pinned" })): then only workers of that version
-- claim it, until it ends.
ALTER TABLE :schema.runs ADD COLUMN version text, ADD COLUMN pinned boolean NOT NULL DEFAULT false;
-- Open runs by version: what `reprise versions` counts (an index-only scan), and the one
-- lane of a draining worker's claim, which its predicate confines to this index (the
-- claim's other indexes are partial on predicates it does not imply).
CREATE INDEX runs_open_version ON :schema.runs (version, queue, available_at) INCLUDE (pinned)
  WHERE status NOT IN ('completed', 'failed', 'cancelled');

-- emit(name, payload, id): an event from SQL — another system, or a trigger on a table of
-- your own, in your own transaction (a rolled-back insert emits nothing). Starts one run per
-- workflow declared with `on: name`, its id derived from the event id and the workflow's
-- name as the client derives it, so emitting an id twice starts nothing twice. SQL cannot
-- run the workflow's schema: the payload is stored as the run's input and the worker
-- validates it when the run starts (a payload the schema refuses fails the run with the
-- ValidationError, visible in `reprise events list`, and `reprise runs retry` runs it again
-- once the code accepts it). SECURITY DEFINER: a role granted EXECUTE on this function may
-- emit without any privilege on the log's tables. Returns the event id.
CREATE FUNCTION :schema.emit(event_name text, event_payload jsonb DEFAULT NULL, event_id text DEFAULT NULL) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
  eid text := coalesce(emit.event_id, 'sql-' || replace(gen_random_uuid()::text, '-', ''));
  known record;
  notified bigint;
BEGIN
  IF event_name IS NULL OR event_name !~ '^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,199}$' THEN
    RAISE EXCEPTION 'reprise.emit: event name % is invalid: use 1-200 letters, digits and _ . : - /, starting with a letter or digit',
      coalesce(quote_literal(event_name), 'NULL') USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF eid !~ '^[A-Za-z0-9][A-Za-z0-9_.:/@+=-]{0,199}$' THEN
    RAISE EXCEPTION 'reprise.emit: event id % is invalid: use 1-200 letters, digits and _ . : - / @ + =', quote_literal(eid)
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  INSERT INTO :schema.emitted_events (id, name, payload, payload_bytes, source)
  VALUES (eid, event_name, event_payload, coalesce(octet_length(event_payload::text), 0), 'sql')
  ON CONFLICT (id) DO NOTHING;
  SELECT e.name, e.payload INTO known FROM :schema.emitted_events e WHERE e.id = eid;
  IF known.name <> event_name THEN
    RAISE EXCEPTION 'reprise.emit: event id % was already emitted as event %', quote_literal(eid), quote_literal(known.name)
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  WITH targets AS (
    SELECT w.name AS workflow, w.queue, w.priority, w.timeout_ms, w.fingerprint,
           CASE WHEN length(eid) + length(w.name) + 5 <= 255 THEN 'evt:' || eid || ':' || w.name
                ELSE 'evt:' || encode(sha256(convert_to(eid || E'\n' || w.name, 'UTF8')), 'hex') END AS run_id
    FROM :schema.triggers t JOIN :schema.workflows w ON w.name = t.workflow
    WHERE t.event = event_name
  ), created AS (
    INSERT INTO :schema.runs (id, workflow, queue, status, input, priority, available_at, timeout_ms, deadline_at, fingerprint)
    SELECT run_id, workflow, queue, 'queued', known.payload, priority, now(), timeout_ms,
           now() + timeout_ms * interval '1 millisecond', fingerprint
    FROM targets
    ON CONFLICT (id) DO NOTHING
    RETURNING id, workflow, queue, input, fingerprint, timeout_ms, created_at
  ), started AS (
    INSERT INTO :schema.events (run_id, seq, kind, payload, created_at)
    SELECT id, 0, 'RunStarted',
           jsonb_build_object('workflow', workflow, 'queue', queue)
             || CASE WHEN input IS NULL THEN '{}' ELSE jsonb_build_object('input', input) END
             || CASE WHEN fingerprint IS NULL THEN '{}' ELSE jsonb_build_object('fingerprint', fingerprint) END
             || CASE WHEN timeout_ms IS NULL THEN '{}' ELSE jsonb_build_object('timeoutMs', timeout_ms) END
             || jsonb_build_object('event', eid),
           created_at
    FROM created
  ), linked AS (
    INSERT INTO :schema.event_runs AS l (event_id, workflow, run_id)
    SELECT eid, workflow, run_id FROM targets
    ON CONFLICT (event_id, workflow) DO UPDATE SET run_id = EXCLUDED.run_id, error = NULL WHERE l.run_id IS NULL
  ), woken AS (
    -- The channel is the one the store listens on, 'reprise:' || the schema's name (':schema'
    -- below is the quoted name, replaced like every other).
    SELECT pg_notify('reprise:' || btrim(':schema', '"'), 'q:' || queue) FROM (SELECT DISTINCT queue FROM created) q
  )
  SELECT count(*) INTO notified FROM woken;
  RETURN eid;
END;
$$;
REVOKE ALL ON FUNCTION :schema.emit(text, jsonb, text) FROM PUBLIC;
