import type { PoolClient } from "pg";

/** What `retryRun` did. */
export type RetryResult = { outcome: "not-found" } | { outcome: "invalid"; status: string } | { outcome: "retried" };

/**
 * Reopens a failed or cancelled run in the caller's transaction: appends RunRetried naming
 * the terminal event it reopens and the position whose failure ended the run (which replay
 * then runs again with a fresh attempt count), and queues the run. When that position was a
 * child run, the child is retried too, in the same transaction, so the parent cannot see
 * the old failure again.
 */
export async function retryRun(client: PoolClient, schema: string, channel: string, runId: string): Promise<RetryResult> {
  const s = schema;
  const { rows } = await client.query<{ status: string; queue: string; parent_id: string | null }>(
    `SELECT status, queue, parent_id FROM ${s}.runs WHERE id = $1 FOR UPDATE`,
    [runId],
  );
  const run = rows[0];
  if (!run) return { outcome: "not-found" };
  if (run.status !== "failed" && run.status !== "cancelled") return { outcome: "invalid", status: run.status };

  const terminal = await client.query<{ seq: number; position: number | null }>(
    `SELECT seq, (payload->>'position')::int AS position FROM ${s}.events
     WHERE run_id = $1 AND kind IN ('RunFailed', 'RunCancelled') ORDER BY seq DESC LIMIT 1`,
    [runId],
  );
  const reopens = terminal.rows[0];
  const payload: Record<string, unknown> = { reopens: reopens?.seq ?? -1, previousStatus: run.status };
  if (reopens?.position !== null && reopens?.position !== undefined) payload.position = reopens.position;

  if (reopens?.position !== null && reopens?.position !== undefined) {
    const child = await client.query<{ child_id: string }>(
      `SELECT payload->>'childId' AS child_id FROM ${s}.events
       WHERE run_id = $1 AND position = $2 AND kind = 'ChildStarted' ORDER BY seq DESC LIMIT 1`,
      [runId, reopens.position],
    );
    const childId = child.rows[0]?.child_id;
    if (childId) await retryRun(client, s, channel, childId);
  }

  await client.query(
    `INSERT INTO ${s}.events (run_id, seq, kind, payload)
     SELECT $1, coalesce(max(seq), -1) + 1, 'RunRetried', $2::jsonb FROM ${s}.events WHERE run_id = $1`,
    [runId, JSON.stringify(payload)],
  );
  await client.query(
    `UPDATE ${s}.runs SET status = 'queued', available_at = now(), output = NULL, error = NULL,
       attempt = attempt + 1, cancel_requested = NULL, lease_owner = NULL, lease_epoch = lease_epoch + 1,
       deadline_at = CASE WHEN timeout_ms IS NULL THEN NULL ELSE now() + timeout_ms * interval '1 millisecond' END,
       updated_at = now()
     WHERE id = $1`,
    [runId],
  );
  await client.query("SELECT pg_notify($1, $2)", [channel, `q:${run.queue}`]);
  return { outcome: "retried" };
}

