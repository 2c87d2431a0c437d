import { statement, type Queryable } from "../queryable.js";

/**
 * Reads values stored out of line, as the JSON text they were written as. Called when the
 * workflow code reaches a recorded value (one id), or to resolve a whole history for a
 * reader (all of a run's referenced ids at once) — never by the claim or the history load.
 */
const SQL = `SELECT id, data FROM :schema.payloads WHERE run_id = $1 AND id = ANY($2::text[])`;

/** @returns the JSON text of each id found. */
export async function loadPayloads(db: Queryable, schema: string, runId: string, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<{ id: string; data: string }>({ ...statement("load_payloads", schema, SQL), values: [runId, ids] });
  return new Map(rows.map((r) => [r.id, r.data]));
}
