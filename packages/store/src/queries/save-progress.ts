import { statement, type Queryable } from "../queryable.js";

/**
 * Writes what the steps of many runs are doing (see the `progress` column) in one
 * statement: a worker's once-a-second batch, never a step's own commit, so the hot path
 * pays nothing for it. Fenced like an append: a run whose lease this worker lost is left
 * alone. It only ever touches the `progress` column, which no index covers, so the update
 * can stay on the row's page (HOT). Its row lock (FOR NO KEY UPDATE) does not conflict with
 * an append's fence (FOR KEY SHARE); a claim that meets it skips the row for one poll.
 */
const SQL = `
UPDATE :schema.runs r SET progress = p.progress
FROM json_to_recordset($2::json) AS p(id text, epoch int, progress jsonb)
WHERE r.id = p.id AND r.lease_owner = $1 AND r.lease_epoch = p.epoch
RETURNING r.id`;

/** A run's steps in flight; `progress` is JSON text. */
export interface ProgressUpdate {
  id: string;
  epoch: number;
  progress: string;
}

/** @returns the ids whose lease held (the others were left alone). */
export async function saveProgress(db: Queryable, schema: string, args: { owner: string; runs: readonly ProgressUpdate[] }): Promise<Set<string>> {
  if (args.runs.length === 0) return new Set();
  const runs = args.runs.map((r) => `{"id":${JSON.stringify(r.id)},"epoch":${r.epoch},"progress":${r.progress}}`);
  const { rows } = await db.query<{ id: string }>({
    ...statement("save_progress", schema, SQL),
    values: [args.owner, `[${runs.join(",")}]`],
  });
  return new Set(rows.map((r) => r.id));
}
