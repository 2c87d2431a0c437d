import { statement, type Queryable } from "../queryable.js";

/**
 * The events and saved step heartbeats of runs a worker just claimed to resume, in one
 * round trip. Runs that never ran (only RunStarted) are not asked for.
 */
const SQL = `
SELECT run_id, seq, kind, position, name, payload, created_at, false AS heartbeat
FROM :schema.events WHERE run_id = ANY($1::text[])
UNION ALL
SELECT run_id, -1, NULL, position, NULL, details, updated_at, true
FROM :schema.heartbeats WHERE run_id = ANY($1::text[])
ORDER BY run_id, seq`;

/** One row of the `events` table: a recorded event of a run. */
export interface EventRow {
  runId: string;
  seq: number;
  kind: string;
  position: number | null;
  name: string | null;
  payload: unknown;
  createdAt: Date;
}

/** A run's events in `seq` order, and the last heartbeat details saved per step position. */
export interface LoadedHistory {
  events: EventRow[];
  heartbeats: Map<number, unknown>;
}

export async function loadHistories(db: Queryable, schema: string, runIds: readonly string[]): Promise<Map<string, LoadedHistory>> {
  const out = new Map<string, LoadedHistory>();
  if (runIds.length === 0) return out;
  const { rows } = await db.query<{
    run_id: string;
    seq: number;
    kind: string;
    position: number | null;
    name: string | null;
    payload: unknown;
    created_at: Date;
    heartbeat: boolean;
  }>({ ...statement("load_histories", schema, SQL), values: [runIds] });
  for (const id of runIds) out.set(id, { events: [], heartbeats: new Map() });
  for (const r of rows) {
    const h = out.get(r.run_id)!;
    if (r.heartbeat) h.heartbeats.set(r.position!, r.payload);
    else h.events.push({ runId: r.run_id, seq: r.seq, kind: r.kind, position: r.position, name: r.name, payload: r.payload, createdAt: r.created_at });
  }
  return out;
}
