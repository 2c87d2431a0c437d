-- Reprise 0003: schedules, the slots they fired, and when each run started.
-- :schema is replaced by the quoted schema name. Never edit a migration once released.

-- One row per schedule: its spec (as the sdk resolved and validated it) and the scheduler's
-- cursor. A slot's run id is derived from (id, slot time), so the cursor may lag or be
-- replayed without ever starting a slot twice.
CREATE TABLE :schema.schedules (
  id                 text        PRIMARY KEY,
  workflow           text        NOT NULL,
  -- NULL: the workflow's own queue.
  queue              text,
  cron               text,
  every_ms           double precision,
  timezone           text        NOT NULL DEFAULT 'UTC',
  catchup            text        NOT NULL DEFAULT 'none' CHECK (catchup IN ('none', 'latest', 'all')),
  catchup_window_ms  double precision NOT NULL,
  overlap            text        NOT NULL DEFAULT 'skip' CHECK (overlap IN ('allow', 'skip', 'buffer-one', 'cancel-other')),
  -- Fixed input merged with { scheduledAt }.
  input              jsonb,
  -- 'code': declared with workflow({ schedule }) and rewritten by every worker start.
  source             text        NOT NULL DEFAULT 'api' CHECK (source IN ('api', 'code')),
  paused             boolean     NOT NULL DEFAULT false,
  -- Bumped by every change from outside the scheduler; a tick that read an older version
  -- writes nothing back.
  version            integer     NOT NULL DEFAULT 1,
  -- The earliest slot not yet handled. NULL: (re)start the timetable at the next tick,
  -- from the time of that tick (a new, re-timed or resumed schedule).
  next_fire_at       timestamptz,
  last_slot_at       timestamptz,
  -- The run of the latest slot started (or triggered): what the overlap policy looks at.
  last_run_id        text,
  -- overlap 'buffer-one': the slot waiting for last_run_id to end.
  buffered_at        timestamptz,
  -- The scheduler tick that holds the row; a crashed tick's claim lapses at locked_until.
  locked_by          text,
  locked_until       timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  CHECK ((cron IS NULL) <> (every_ms IS NULL))
);
-- The tick reads due schedules in next_fire_at order and stops at the first not yet due.
CREATE INDEX schedules_due ON :schema.schedules (next_fire_at) WHERE NOT paused;
CREATE INDEX schedules_new ON :schema.schedules (id) WHERE next_fire_at IS NULL AND NOT paused;
CREATE INDEX schedules_buffered ON :schema.schedules (id) WHERE buffered_at IS NOT NULL AND NOT paused;

-- What happened to each slot a scheduler (or a backfill, or a trigger) handled. Slots missed
-- under catch-up 'none' or 'latest' are not written (there can be thousands).
-- When the slot's run was queued, started and ended is read from runs (started_at below).
CREATE TABLE :schema.schedule_slots (
  schedule_id  text        NOT NULL REFERENCES :schema.schedules (id) ON DELETE CASCADE,
  slot_at      timestamptz NOT NULL,
  run_id       text,
  outcome      text        NOT NULL CHECK (outcome IN ('started', 'skipped', 'buffered', 'backfilled', 'triggered', 'invalid')),
  reason       text,
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (schedule_id, slot_at)
);
CREATE INDEX schedule_slots_run ON :schema.schedule_slots (run_id) WHERE run_id IS NOT NULL;
-- Slots whose run has not been seen starting yet: what a lateness check scans.
CREATE INDEX schedule_slots_recent ON :schema.schedule_slots (slot_at DESC);

-- When a worker first took the run (set by the claim): the start of a slot's run, for
-- lateness, and RunInfo.startedAt.
ALTER TABLE :schema.runs ADD COLUMN started_at timestamptz;
