import { isDeepStrictEqual } from "node:util";
import { replayHistories, type AnyWorkflow, type Client, type SignalConsumedPayload } from "@reprise/sdk";
import { expectedOutput, type ChaosInput } from "./workflows.mjs";

/** Runs SQL against the chaos database. */
export type Sql = <R extends Record<string, unknown>>(text: string, values?: unknown[]) => Promise<R[]>;

/** What the chaos suite measures, from the outside: the database's tables, never the worker's word. */
export interface Measurements {
  total: number;
  completed: number;
  /** Runs (top-level or children) not completed by the deadline, with their status. */
  lost: { id: string; status: string }[];
  /** Completed runs whose output is not what the workflow computes from its input. */
  wrongOutputs: { id: string; output: unknown; expected: unknown }[];
  /** Step executions recorded by the step functions. */
  executions: number;
  /** Step positions whose function ran more than once (allowed: a crash before the record). */
  reExecuted: number;
  /** An execution that began after the step's completion (or final failure) was committed: must be none. */
  afterCompletion: { runId: string; position: number; step: string; pid: number; invokedAt: Date; committedAt: Date }[];
  /** An execution of a phase after a later phase had begun, i.e. a recorded result that was lost. */
  afterLaterPhase: { runId: string; step: string; invokedAt: Date; laterPhaseAt: Date }[];
  /** The same run, position and kind recorded more than once. */
  duplicateEvents: { runId: string; position: number | null; kind: string; n: number }[];
  replayed: number;
  replayProblems: { runId: string; message: string }[];
  /** TimerFired committed before the timer's wakeAt. */
  timersEarly: { runId: string; position: number; firedAt: Date; wakeAt: Date }[];
  /** A signal id consumed by more than one wait. */
  signalsConsumedTwice: { signalId: string; n: number }[];
  /** A signal consumed by a wait whose deadline had passed when it was sent. */
  signalsAfterDeadline: { runId: string; sentAt: Date; deadline: Date }[];
  signalsConsumed: number;
  /** Child runs per ChildStarted: each position must have exactly one. */
  childPositions: number;
  childProblems: { runId: string; position: number | null; children: number }[];
  /** Where "committed at" comes from: commit timestamps when the server tracks them. */
  commitTime: "pg_xact_commit_timestamp" | "created_at (transaction start)";
}

/** What to measure: the store's schema, the execution table, the runs started and their inputs. */
export interface MeasureOptions {
  sql: Sql;
  client: Client;
  schema: string;
  table: string;
  workflows: readonly AnyWorkflow[];
  /** Top-level runs and their inputs; children are found through them. */
  runs: ReadonlyMap<string, ChaosInput>;
}

/** Reads every invariant's evidence. */
export async function measure(options: MeasureOptions): Promise<Measurements> {
  const { sql, table } = options;
  const s = `"${options.schema}"`;
  const ids = [...options.runs.keys()];
  const tracked = (await sql<{ on: string }>("SELECT current_setting('track_commit_timestamp') AS on"))[0]!.on === "on";
  const committed = tracked ? "pg_xact_commit_timestamp(xmin)" : "created_at";

  const runs = await sql<{ id: string; status: string; output: unknown; parent_id: string | null }>(
    `SELECT id, status, output, parent_id FROM ${s}.runs WHERE id = ANY($1) OR parent_id = ANY($1)`,
    [ids],
  );
  const lost = runs.filter((r) => r.status !== "completed").map((r) => ({ id: r.id, status: r.status }));

  const consumedBy = new Map<string, unknown>();
  for (const row of await sql<{ run_id: string; payload: SignalConsumedPayload }>(`SELECT run_id, payload FROM ${s}.events WHERE kind = 'SignalConsumed' AND run_id = ANY($1)`, [ids])) {
    consumedBy.set(row.run_id, row.payload.payload ?? null);
  }
  const wrongOutputs: Measurements["wrongOutputs"] = [];
  for (const run of runs) {
    const input = options.runs.get(run.id);
    if (!input || run.status !== "completed") continue;
    const expected = expectedOutput(input, consumedBy.get(run.id) ?? null);
    if (!isDeepStrictEqual(run.output, expected)) wrongOutputs.push({ id: run.id, output: run.output, expected });
  }

  const [counts] = await sql<{ executions: number; re_executed: number }>(
    `SELECT (SELECT count(*)::int FROM ${table}) AS executions,
            (SELECT count(*)::int FROM (SELECT 1 FROM ${table} GROUP BY run_id, position HAVING count(*) > 1) x) AS re_executed`,
  );

  const afterCompletion = (
    await sql<{ run_id: string; position: number; step: string; pid: number; invoked_at: Date; committed_at: Date }>(
      `WITH done AS (
         SELECT run_id, position, min(${committed}) AS committed_at FROM ${s}.events
         WHERE kind IN ('StepCompleted', 'StepFailed') GROUP BY run_id, position)
       SELECT x.run_id, x.position, x.step, x.pid, x.invoked_at, done.committed_at
       FROM ${table} x JOIN done USING (run_id, position)
       WHERE x.invoked_at > done.committed_at ORDER BY x.invoked_at`,
    )
  ).map((r) => ({ runId: r.run_id, position: r.position, step: r.step, pid: r.pid, invokedAt: r.invoked_at, committedAt: r.committed_at }));

  const afterLaterPhase = (
    await sql<{ run_id: string; step: string; invoked_at: Date; later: Date }>(
      `SELECT a.run_id, a.step, a.invoked_at, l.later FROM ${table} a
       JOIN LATERAL (SELECT min(b.invoked_at) AS later FROM ${table} b WHERE b.run_id = a.run_id AND b.phase > a.phase) l ON true
       WHERE a.invoked_at > l.later ORDER BY a.invoked_at`,
    )
  ).map((r) => ({ runId: r.run_id, step: r.step, invokedAt: r.invoked_at, laterPhaseAt: r.later }));

  const duplicateEvents = (
    await sql<{ run_id: string; position: number | null; kind: string; n: number }>(
      `SELECT run_id, position, kind, count(*)::int AS n FROM ${s}.events
       WHERE kind NOT IN ('StepAttemptFailed') AND (position IS NOT NULL OR kind IN ('RunStarted', 'RunCompleted', 'RunFailed', 'RunCancelled'))
       GROUP BY run_id, position, kind HAVING count(*) > 1`,
    )
  ).map((r) => ({ runId: r.run_id, position: r.position, kind: r.kind, n: r.n }));

  const timersEarly = (
    await sql<{ run_id: string; position: number; fired_at: Date; wake_at: Date }>(
      `SELECT f.run_id, f.position, f.created_at AS fired_at, (t.payload->>'wakeAt')::timestamptz AS wake_at
       FROM ${s}.events f JOIN ${s}.events t ON t.run_id = f.run_id AND t.position = f.position AND t.kind = 'TimerStarted'
       WHERE f.kind = 'TimerFired' AND f.created_at < (t.payload->>'wakeAt')::timestamptz`,
    )
  ).map((r) => ({ runId: r.run_id, position: r.position, firedAt: r.fired_at, wakeAt: r.wake_at }));

  const signalsConsumedTwice = (
    await sql<{ signal_id: string; n: number }>(
      `SELECT payload->>'signalId' AS signal_id, count(*)::int AS n FROM ${s}.events WHERE kind = 'SignalConsumed' GROUP BY 1 HAVING count(*) > 1`,
    )
  ).map((r) => ({ signalId: r.signal_id, n: r.n }));
  const signalsAfterDeadline = (
    await sql<{ run_id: string; sent_at: Date; deadline: Date }>(
      `SELECT c.run_id, (c.payload->>'sentAt')::timestamptz AS sent_at, (t.payload->>'wakeAt')::timestamptz AS deadline
       FROM ${s}.events c JOIN ${s}.events t ON t.run_id = c.run_id AND t.position = c.position AND t.kind = 'TimerStarted'
       WHERE c.kind = 'SignalConsumed' AND (c.payload->>'sentAt')::timestamptz > (t.payload->>'wakeAt')::timestamptz`,
    )
  ).map((r) => ({ runId: r.run_id, sentAt: r.sent_at, deadline: r.deadline }));

  const children = await sql<{ run_id: string; position: number | null; children: number }>(
    `SELECT e.run_id, e.position, (SELECT count(*)::int FROM ${s}.runs c WHERE c.id = e.payload->>'childId' AND c.parent_id = e.run_id) AS children
     FROM ${s}.events e WHERE e.kind = 'ChildStarted' AND e.run_id = ANY($1)
     UNION ALL
     -- a child no ChildStarted names: created twice, or for a position the log does not know
     SELECT c.parent_id, NULL, count(*)::int FROM ${s}.runs c
     WHERE c.parent_id = ANY($1) AND NOT EXISTS (SELECT 1 FROM ${s}.events e WHERE e.run_id = c.parent_id AND e.kind = 'ChildStarted' AND e.payload->>'childId' = c.id)
     GROUP BY c.parent_id`,
    [ids],
  );

  const histories = await Promise.all(runs.map(async (r) => ({ runId: r.id, events: await options.client.history(r.id) })));
  const results = await replayHistories(options.workflows, histories, { throwOnProblem: false });

  return {
    total: runs.length,
    completed: runs.length - lost.length,
    lost,
    wrongOutputs,
    executions: counts!.executions,
    reExecuted: counts!.re_executed,
    afterCompletion,
    afterLaterPhase,
    duplicateEvents,
    replayed: results.filter((r) => !r.problem).length,
    replayProblems: results.filter((r) => r.problem).map((r) => ({ runId: r.runId, message: r.problem!.message })),
    timersEarly,
    signalsConsumedTwice,
    signalsAfterDeadline,
    signalsConsumed: consumedBy.size,
    childPositions: children.filter((c) => c.position !== null).length,
    childProblems: children.filter((c) => c.children !== 1 || c.position === null).map((c) => ({ runId: c.run_id, position: c.position, children: c.children })),
    commitTime: tracked ? "pg_xact_commit_timestamp" : "created_at (transaction start)",
  };
}

/** The invariants that failed, one line each (empty: all hold). */
export function violations(m: Measurements, expectedRuns: number): string[] {
  const out: string[] = [];
  const list = (items: unknown[]) => JSON.stringify(items.slice(0, 5));
  if (m.total !== expectedRuns) out.push(`${m.total} runs found, ${expectedRuns} expected (top-level and children)`);
  if (m.lost.length) out.push(`${m.lost.length} runs not completed: ${list(m.lost)}`);
  if (m.wrongOutputs.length) out.push(`${m.wrongOutputs.length} runs completed with a wrong output: ${list(m.wrongOutputs)}`);
  if (m.afterCompletion.length) out.push(`${m.afterCompletion.length} step executions began after the step's completion was committed: ${list(m.afterCompletion)}`);
  if (m.afterLaterPhase.length) out.push(`${m.afterLaterPhase.length} step executions began after a later phase had (a lost record): ${list(m.afterLaterPhase)}`);
  if (m.duplicateEvents.length) out.push(`${m.duplicateEvents.length} events recorded twice: ${list(m.duplicateEvents)}`);
  if (m.replayProblems.length) out.push(`${m.replayProblems.length} histories do not replay clean: ${list(m.replayProblems)}`);
  if (m.timersEarly.length) out.push(`${m.timersEarly.length} timers fired early: ${list(m.timersEarly)}`);
  if (m.signalsConsumedTwice.length) out.push(`${m.signalsConsumedTwice.length} signals consumed more than once: ${list(m.signalsConsumedTwice)}`);
  if (m.signalsAfterDeadline.length) out.push(`${m.signalsAfterDeadline.length} signals consumed though sent after the wait's deadline: ${list(m.signalsAfterDeadline)}`);
  if (m.childProblems.length) out.push(`${m.childProblems.length} child positions without exactly one child: ${list(m.childProblems)}`);
  return out;
}
