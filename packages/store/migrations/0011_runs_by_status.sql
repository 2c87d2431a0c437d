-- Reprise 0011: listing runs by status stays fast however many runs there are.
-- Filtered by status, the list used to walk runs_created (newest first) until it found 50
-- of that status: quick for common ones, the whole table for a rare one (no cancelled run
-- among a million: 190 ms). Each status change already rewrites index entries (available_at
-- moves with it), so this adds one entry per move, not a round trip.
CREATE INDEX IF NOT EXISTS runs_status_created ON :schema.runs (status, created_at DESC, id DESC);
