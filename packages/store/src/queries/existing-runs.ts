import type { Queryable } from "../queryable.js";

/**
 * The workflow of each run among `ids` that exists (as the connection's transaction sees
 * it): what a start compares with when an id it asked for was not created, to tell "that
 * run exists already" from "that id belongs to another workflow's run".
 */
const SQL = (s: string) => `SELECT id, workflow FROM ${s}.runs WHERE id = ANY($1::text[])`;

export async function existingRuns(db: Queryable, schema: string, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<{ id: string; workflow: string }>({ text: SQL(schema), values: [ids] });
  return new Map(rows.map((r) => [r.id, r.workflow]));
}
