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
