import { statement, type Queryable } from "../queryable.js";

/** Upserts a step's progress, only while the caller still holds the run's lease. */
const SQL = `
INSERT INTO :schema.heartbeats (run_id, position, details, updated_at)
SELECT id, $2, $3::jsonb, now() FROM :schema.runs
WHERE id = $1 AND lease_owner = $4 AND lease_epoch = $5
ON CONFLICT (run_id, position) DO UPDATE SET details = excluded.details, updated_at = excluded.updated_at`;

/** @returns false when the lease is gone (nothing was saved). */
export async function saveHeartbeat(
  db: Queryable,
  schema: string,
  args: { runId: string; position: number; details: string; owner: string; epoch: number },
): Promise<boolean> {
  const { rowCount } = await db.query({
    ...statement("save_heartbeat", schema, SQL),
    values: [args.runId, args.position, args.details, args.owner, args.epoch],
  });
  return (rowCount ?? 0) > 0;
}
