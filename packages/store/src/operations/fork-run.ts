import type { PoolClient } from "pg";

/** What `forkRun` did. */
export type ForkResult =
  | { outcome: "not-found" }
  | { outcome: "no-such-step"; fromStep: number | string }
  | { outcome: "forked"; id: string; fromPosition: number; created: boolean };

interface Row {
  seq: number;
  kind: string;
  position: number | null;
  name: string | null;
  payload: Record<string, unknown>;
  created_at: Date;
}

/**
 * Creates a run whose history is a copy of the source's before a step (by position, or by
 * the name of the first event with that name), then RunForked. Replay of the new run
 * answers every copied call from the log, and runs the rest with today's code. Positions
 * in `reopen` are left out even before the cut (a dead letter's redrive: that item runs
 * again, its siblings keep their results).
 *
 * What a manual retry reopened is not copied (a reopened position starts over), nor are
 * the source's ending, hooks, retries and cancellation.
 */
export async function forkRun(
  client: PoolClient,
  schema: string,
  channel: string,
  args: { sourceId: string; fromStep: number | string; newId: string; reopen?: readonly number[] },
): Promise<ForkResult> {
  const s = schema;
  const source = await client.query<{ workflow: string; queue: string; input: unknown; priority: number; timeout_ms: number | null; fingerprint: string | null }>(
    `SELECT workflow, queue, input, priority, timeout_ms, fingerprint FROM ${s}.runs WHERE id = $1`,
    [args.sourceId],
  );
  const run = source.rows[0];
  if (!run) return { outcome: "not-found" };
  const { rows: events } = await client.query<Row>(
    `SELECT seq, kind, position, name, payload, created_at FROM ${s}.events WHERE run_id = $1 ORDER BY seq`,
    [args.sourceId],
  );

  let cut: number | undefined;
  if (typeof args.fromStep === "number") cut = args.fromStep;
  else {
    for (const e of events) {
      if (e.position !== null && e.name === args.fromStep && (cut === undefined || e.position < cut)) cut = e.position;
    }
  }
  if (cut === undefined || !Number.isInteger(cut) || cut < 0) return { outcome: "no-such-step", fromStep: args.fromStep };

  const kept: Row[] = [];
  for (const e of events) {
    if (e.kind === "RunRetried") {
      const reopened = e.payload.position;
      if (typeof reopened === "number") {
        for (let i = kept.length - 1; i >= 0; i--) if (kept[i]!.position === reopened) kept.splice(i, 1);
      }
      continue;
    }
    const patchMarker = e.kind === "MarkerRecorded" && e.position === null;
    const reopened = e.position !== null && args.reopen?.includes(e.position);
    if ((e.position !== null && e.position < cut && !reopened) || patchMarker) kept.push(e);
  }

  const inserted = await client.query(
    `INSERT INTO ${s}.runs (id, workflow, queue, status, input, priority, available_at, timeout_ms, deadline_at, fingerprint, forked_from)
     VALUES ($1, $2, $3, 'queued', $4::jsonb, $5, now(), $6, now() + $6 * interval '1 millisecond', $7, $8)
     ON CONFLICT (id) DO NOTHING`,
    [args.newId, run.workflow, run.queue, run.input === null ? null : JSON.stringify(run.input), run.priority, run.timeout_ms, run.fingerprint, args.sourceId],
  );
  if ((inserted.rowCount ?? 0) === 0) return { outcome: "forked", id: args.newId, fromPosition: cut, created: false };

  const started = events.find((e) => e.kind === "RunStarted");
  const now = new Date();
  const copy = [
    { kind: "RunStarted", position: null, name: null, payload: started?.payload ?? { workflow: run.workflow, queue: run.queue }, created_at: now },
    ...kept,
    {
      kind: "RunForked",
      position: null,
      name: null,
      payload: { from: args.sourceId, fromPosition: cut, ...(args.reopen?.length ? { reopened: args.reopen } : {}) },
      created_at: now,
    },
  ].map((e, seq) => ({ ...e, seq }));
  // Copied failures are not new ones: the alert trigger (migration 0005) skips events
  // written while this is on, in this transaction only.
  await client.query("SELECT set_config('reprise.copying', 'on', true)");
  await client.query(
    `INSERT INTO ${s}.events (run_id, seq, kind, position, name, payload, created_at)
     SELECT $1, e.seq, e.kind, e.position, e.name, e.payload, e.created_at
     FROM json_to_recordset($2::json) AS e(seq int, kind text, position int, name text, payload jsonb, created_at timestamptz)`,
    [args.newId, JSON.stringify(copy)],
  );
  // Copied events (and the input) may refer to values stored out of line: they are the
  // source's, so the fork gets its own copy of them, server-side.
  await client.query(`INSERT INTO ${s}.payloads (run_id, id, bytes, data) SELECT $1, id, bytes, data FROM ${s}.payloads WHERE run_id = $2`, [
    args.newId,
    args.sourceId,
  ]);
  await client.query("SELECT set_config('reprise.copying', 'off', true)");
  await client.query("SELECT pg_notify($1, $2)", [channel, `q:${run.queue}`]);
  return { outcome: "forked", id: args.newId, fromPosition: cut, created: true };
}
