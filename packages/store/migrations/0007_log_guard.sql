-- Reprise 0007: the log cannot be erased by the application.
-- Deletes from events used to be let through whenever the session setting reprise.pruning
-- was 'on', which any role can set. Now only the table's owner may delete, and only inside
-- prune_runs() (SECURITY DEFINER: it runs as that owner whoever calls it). With separate
-- roles (migrate({ applicationRole })) the application role holds no UPDATE, DELETE or
-- TRUNCATE privilege on events at all, and cannot disable the trigger (only the owner can).
-- With a single role for both, that role owns the log and this guards against mistakes only.
CREATE OR REPLACE FUNCTION :schema.events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('reprise.pruning', true) = 'on'
     AND current_user = (SELECT r.rolname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_roles r ON r.oid = c.relowner WHERE c.oid = TG_RELID) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'the reprise event log is append-only: % on events is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

-- Deletes finished runs (and their events, signals, heartbeats, logs) that ended before the
-- cutoff. Only finished runs: a run still sleeping or waiting keeps every event it replays.
CREATE OR REPLACE FUNCTION :schema.prune_runs(older_than interval) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
REVOKE ALL ON FUNCTION :schema.prune_runs(interval) FROM PUBLIC;
