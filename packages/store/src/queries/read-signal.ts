import { statement, type Queryable } from "../queryable.js";

/**
 * The oldest signal of a name in a run's inbox after the last one the run consumed
 * (consumption is recorded in the run's log, so the inbox is never updated).
 */
const SQL = `
SELECT id::text AS id, payload, created_at FROM :schema.signals
WHERE run_id = $1 AND name = $2 AND id > $3::bigint
ORDER BY id
LIMIT 1`;

/** A signal waiting in a run's inbox. */
export interface InboxRow {
  id: string;
  payload: unknown;
  sentAt: Date;
}

export async function readSignal(db: Queryable, schema: string, runId: string, name: string, after: string | undefined): Promise<InboxRow | null> {
  const { rows } = await db.query<{ id: string; payload: unknown; created_at: Date }>({
    ...statement("read_signal", schema, SQL),
    values: [runId, name, after ?? "0"],
  });
  const row = rows[0];
  return row ? { id: row.id, payload: row.payload, sentAt: row.created_at } : null;
}
