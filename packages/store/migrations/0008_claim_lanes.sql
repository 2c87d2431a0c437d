-- Reprise 0008: claims that cannot be mis-planned, and tables vacuumed while they are busy.

-- Runs started with a `delay` wait in a lane of their own until due. In runs_ready they sat
-- after the due runs of their priority, and a claim that found fewer due runs than it asked
-- for read through every one of them (100k delayed runs: the whole index, 620 pages, 5-9 ms
-- per idle claim). A delayed run is told apart by what every version already writes: it was
-- never taken (started_at IS NULL) and is due after it was created (a start without delay,
-- a fork and a hand-back are due at once). Its first claim sets started_at, which moves it
-- to the ready lane for good (lease expiry, hand-backs).
CREATE INDEX runs_ready_now ON :schema.runs (queue, priority DESC, available_at)
  WHERE status IN ('queued', 'running') AND (started_at IS NOT NULL OR available_at <= created_at);
CREATE INDEX runs_delayed ON :schema.runs (queue, available_at)
  WHERE status = 'queued' AND started_at IS NULL AND available_at > created_at;
-- runs_ready (0001) is no longer read by this version's claim. It stays for one release:
-- workers of the previous version, running beside this one during a rolling deploy, claim
-- through it, and without it their claim would scan the table. The next release drops it.

-- The planner's view of events must not depend on when it was last analyzed: statistics
-- taken while the schema was young (20 runs) made per-run lookups look like scans of a
-- twentieth of the table. A fixed ratio of distinct run ids (one per 10 events) scales with
-- the table, so a lookup by run_id is planned as the index probe it is at any size.
ALTER TABLE :schema.events ALTER COLUMN run_id SET (n_distinct = -0.1);
ANALYZE :schema.events (run_id);

-- runs is small and hot: every run is updated three or four times (claim, steps' status
-- moves, end). With the default thresholds (20% of the table) autovacuum did not start on
-- a 1M-run table during 5 minutes of churn, and the claim's indexes filled with dead
-- entries. Vacuum and analyze after 2% (and at least 1000 rows) instead.
ALTER TABLE :schema.runs SET (
  autovacuum_vacuum_scale_factor = 0.02,
  autovacuum_vacuum_threshold = 1000,
  autovacuum_analyze_scale_factor = 0.02,
  autovacuum_analyze_threshold = 1000
);
-- events is only appended to: vacuumed for its visibility map after 5% new rows (not 20%).
ALTER TABLE :schema.events SET (autovacuum_vacuum_insert_scale_factor = 0.05);

-- Retention in bounded batches: prune_runs(older_than, max_runs) deletes at most max_runs
-- finished runs (with their events, signals, heartbeats and logs), oldest first, and returns
-- how many; call it until it returns 0. prune_runs(older_than) deleted everything in one
-- transaction: 966k runs took 95 s and 34.7 GB of WAL, and the hot path's p99 quadrupled.
-- A run that ended before the cutoff was created before it, so the batch is a range of
-- runs_created (no index of its own to keep up on every run's end): it reads the batch, plus
-- the runs created before the cutoff that have not ended or ended since. Events go by their
-- primary key, = ANY of the batch's ids. Planned as that ordered range scan whatever the
-- statistics say: with statistics of a young schema the batch was a bitmap scan of every run
-- created before the cutoff, sorted (measured at 100k runs), hence the settings below.
-- Measured: 1000 runs with 10k events per call in about 0.17 s.
CREATE FUNCTION :schema.prune_runs(older_than interval, max_runs integer) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  SET enable_seqscan = off SET enable_bitmapscan = off SET enable_sort = off AS $$
DECLARE
  ids text[];
BEGIN
  IF max_runs IS NULL OR max_runs < 1 THEN
    RAISE EXCEPTION 'prune_runs: max_runs must be at least 1, got %', max_runs USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM set_config('reprise.pruning', 'on', true);
  WITH gone AS (
    DELETE FROM :schema.runs WHERE ctid = ANY (ARRAY(
      SELECT ctid FROM :schema.runs
      WHERE created_at < now() - older_than
        AND status IN ('completed', 'failed', 'cancelled') AND available_at IS NULL
        AND updated_at < now() - older_than
      ORDER BY created_at, id
      LIMIT max_runs
      FOR UPDATE SKIP LOCKED))
    RETURNING id
  )
  SELECT coalesce(array_agg(id), '{}') INTO ids FROM gone;
  DELETE FROM :schema.events WHERE run_id = ANY (ids);
  DELETE FROM :schema.signals WHERE run_id = ANY (ids);
  DELETE FROM :schema.heartbeats WHERE run_id = ANY (ids);
  DELETE FROM :schema.logs WHERE run_id = ANY (ids);
  PERFORM set_config('reprise.pruning', 'off', true);
  RETURN cardinality(ids);
END;
$$;
REVOKE ALL ON FUNCTION :schema.prune_runs(interval, integer) FROM PUBLIC;
