import { statement, type Queryable } from "../queryable.js";

/**
 * The hot path of a sequential workflow: one step's completion for one run, nothing else.
 * The same fence as commit-runs (lease epoch and owner, FOR KEY SHARE against a concurrent
 * claim) with scalar parameters instead of JSON records: measured 1.17× a bare INSERT round
 * trip, against 1.46× for the general statement, because nothing is parsed or unnested.
 * A row count of 0 means the lease is gone and nothing was written.
 */
const SQL = `
WITH fence AS (
  SELECT id FROM :schema.runs
  WHERE id = $1 AND lease_epoch = $2 AND lease_owner = $3
  FOR KEY SHARE
)
INSERT INTO :schema.events (run_id, seq, kind, position, name, payload)
SELECT fence.id, $4, $5, $6, $7, $8::jsonb FROM fence`;

/** One event to append, with the lease that fences it. */
export interface AppendArgs {
  owner: string;
  runId: string;
  epoch: number;
  seq: number;
  kind: string;
  position: number | null;
  name: string | null;
  /** JSON text. */
  payload: string;
}

/** @returns false when the lease no longer holds (nothing was appended). */
export async function appendEvent(db: Queryable, schema: string, args: AppendArgs): Promise<boolean> {
  const { rowCount } = await db.query({
    ...statement("append_event", schema, SQL),
    values: [args.runId, args.epoch, args.owner, args.seq, args.kind, args.position, args.name, args.payload],
  });
  return rowCount === 1;
}
