import type { PoolClient } from "pg";
import { TERMINAL_STATUSES } from "../run-status.js";


/** What `cancelRun` did. */
export type CancelResult =
  | { outcome: "not-found" }
  | { outcome: "finished"; status: string }
  /** A worker holds the run: it was asked to stop (it aborts within a heartbeat or at once on NOTIFY). */
  | { outcome: "requested" }
  /** Nobody held the run: it was cancelled here. */
  | { outcome: "cancelled" };

/**
 * Cancels a run inside the caller's transaction. A run held by a live worker gets a cancel
 * request (the worker records the cancellation); any other run is cancelled on the spot:
 * its lease epoch is bumped first, so a worker that lost its lease cannot append after it.
 *
 * @param error the stored error of the cancelled run (JSON text).
 */
export async function cancelRun(
  client: PoolClient,
  schema: string,
  channel: string,
  args: { runId: string; reason: string | undefined; error: string },
): Promise<CancelResult> {
  const s = schema;
  const request = JSON.stringify(args.reason === undefined ? {} : { reason: args.reason });
  const { rows } = await client.query<{ status: string; leased: boolean; parent_id: string | null }>(
    `SELECT status, (lease_owner IS NOT NULL AND available_at > now()) AS leased, parent_id
     FROM ${s}.runs WHERE id = $1 FOR UPDATE`,
    [args.runId],
  );
  const run = rows[0];
  if (!run) return { outcome: "not-found" };
  if ((TERMINAL_STATUSES as readonly string[]).includes(run.status)) return { outcome: "finished", status: run.status };
  if (run.leased) {
    await client.query(`UPDATE ${s}.runs SET cancel_requested = $2::jsonb, wakeups = wakeups + 1 WHERE id = $1`, [args.runId, request]);
    await client.query("SELECT pg_notify($1, $2)", [channel, `c:${args.runId}`]);
    return { outcome: "requested" };
  }
  await client.query(
    `WITH next AS (SELECT coalesce(max(seq), -1) + 1 AS seq FROM ${s}.events WHERE run_id = $1)
     INSERT INTO ${s}.events (run_id, seq, kind, payload)
     SELECT $1, next.seq, 'CancelRequested', $2::jsonb FROM next
     UNION ALL
     SELECT $1, next.seq + 1, 'RunCancelled', $2::jsonb FROM next`,
    [args.runId, request],
  );
  await client.query(
    `UPDATE ${s}.runs SET status = 'cancelled', error = $2::jsonb, cancel_requested = $3::jsonb,
       available_at = NULL, lease_owner = NULL, lease_epoch = lease_epoch + 1, updated_at = now()
     WHERE id = $1`,
    [args.runId, args.error, request],
  );
  if (run.parent_id) await wakeRun(client, s, channel, run.parent_id);
  return { outcome: "cancelled" };
}

/** Bumps a run's wakeups and makes it due if it sleeps or waits (a child of it ended). */
export async function wakeRun(client: PoolClient, schema: string, channel: string, runId: string): Promise<void> {
  await client.query(
    `WITH p AS (
       UPDATE ${schema}.runs SET wakeups = wakeups + 1,
         available_at = CASE WHEN status IN ('sleeping', 'waiting') THEN now() ELSE available_at END
       WHERE id = $1 RETURNING queue, status)
     SELECT pg_notify($2, 'q:' || queue) FROM p WHERE status IN ('sleeping', 'waiting')`,
    [runId, channel],
  );
}

/** Ids of a run's children that have not ended. */
export async function activeChildren(client: PoolClient, schema: string, runId: string): Promise<string[]> {
  const { rows } = await client.query<{ id: string }>(
    `SELECT id FROM ${schema}.runs WHERE parent_id = $1 AND status NOT IN ('completed', 'failed', 'cancelled')`,
    [runId],
  );
  return rows.map((r) => r.id);
}
