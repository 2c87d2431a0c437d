-- Reprise 0010: large values out of line.
-- A step result, run input or output, signal payload or child output whose JSON text is
-- over the inline limit (256 KiB by default) is stored here, and the event (or the runs
-- column, or the signal) holds a reference in its place: {"$reprise.payload": {"id", "bytes"}}.
-- So loading a run's history for replay reads references only, and a value is read when
-- the workflow code reaches it. A value is written before the event that refers to it (an
-- orphan left by a crash in between is never read, and goes with its run).
-- Text, not jsonb: it is JSON the sdk already serialised, sent and read back as it is (no
-- second parse in Postgres); TOAST compresses it. Deleted with its run (prune_runs).
CREATE TABLE :schema.payloads (
  run_id      text        NOT NULL REFERENCES :schema.runs (id) ON DELETE CASCADE,
  id          text        NOT NULL,
  bytes       bigint      NOT NULL,
  data        text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, id)
);
