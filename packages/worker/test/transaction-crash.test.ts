import { Client } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { afterAll, expect, test } from "vitest";
import { forkWorker, type ChildWorker } from "../../../test-support/child-worker.js";
import { useTestSchema } from "../../../test-support/db.js";
import { sleep, waitFor } from "../../../test-support/wait.js";
// @ts-expect-error a plain JS fixture, shared with the worker processes
import { txCrashWorkflow } from "./fixtures/tx-workflow.mjs";

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
const workers = new Set<ChildWorker>();
afterAll(async () => {
  await Promise.all([...workers].map((w) => w.kill()));
  await store.close();
});

const RUNS = 200;
const WORKERS = 3;

test("a transaction step's row is written exactly once per run while worker processes are SIGKILLed at random points", { timeout: 120_000 }, async () => {
  await store.migrate();
  // No unique key on run_id: a row written twice would show.
  await db.sql(`CREATE TABLE "${db.schema}".tx_rows (run_id text NOT NULL, pid int NOT NULL)`);
  await db.sql(`CREATE TABLE "${db.schema}".tx_calls (run_id text NOT NULL)`);
  const wf = txCrashWorkflow(db.schema);
  const client = new Client({ store, migrate: false });
  await client.startMany(
    wf,
    Array.from({ length: RUNS }, (_, n) => ({ input: { n }, id: `tx-crash-${String(n).padStart(3, "0")}` })),
  );

  const started = new Map<ChildWorker, number>();
  const spawn = () => {
    const child = forkWorker(new URL("./fixtures/tx-worker.mjs", import.meta.url), { DATABASE_URL: db.url, REPRISE_SCHEMA: db.schema });
    workers.add(child);
    child.process.on("message", () => started.set(child, Date.now()));
    void child.exited.then(() => workers.delete(child));
  };
  for (let i = 0; i < WORKERS; i++) spawn();

  const completed = async () =>
    (await db.sql<{ n: number }>(`SELECT count(*)::int AS n FROM "${db.schema}".runs WHERE status = 'completed'`))[0]!.n;
  // Kill a worker that has been up a while, every 0.2–0.6 s, and start a new one in its
  // place, until every run completed (or 40 s passed; the survivors then finish).
  let kills = 0;
  const deadline = Date.now() + 40_000;
  while (Date.now() < deadline && (await completed()) < RUNS) {
    await sleep(200 + Math.random() * 400);
    const up = [...workers].filter((w) => (started.get(w) ?? Infinity) < Date.now() - 150);
    const victim = up[Math.floor(Math.random() * up.length)];
    if (!victim) continue;
    await victim.kill();
    kills++;
    spawn();
  }
  await waitFor(async () => (await completed()) === RUNS, { timeoutMs: 60_000, intervalMs: 100, what: "every run to complete" });

  const perRun = await db.sql<{ run_id: string; rows: number; pid: number }>(
    `SELECT r.id AS run_id, count(t.run_id)::int AS rows, min(t.pid) AS pid
     FROM "${db.schema}".runs r LEFT JOIN "${db.schema}".tx_rows t ON t.run_id = r.id GROUP BY r.id`,
  );
  expect(perRun).toHaveLength(RUNS);
  expect(perRun.filter((r) => r.rows !== 1)).toEqual([]);
  // The recorded result is the committed row's: both came from the same attempt.
  const outputs = await db.sql<{ id: string; output: { n: number; pid: number } }>(`SELECT id, output FROM "${db.schema}".runs`);
  const pidOf = new Map(perRun.map((r) => [r.run_id, r.pid]));
  expect(outputs.filter((o) => o.output.pid !== pidOf.get(o.id))).toEqual([]);
  const completions = await db.sql<{ n: number }>(
    `SELECT count(*)::int AS n FROM "${db.schema}".events WHERE kind = 'StepCompleted' AND name = 'insert-row'`,
  );
  expect(completions[0]!.n).toBe(RUNS);
  // The kills did land inside transactions: some functions ran more often than once.
  expect(kills).toBeGreaterThan(5);
  const calls = (await db.sql<{ n: number }>(`SELECT count(*)::int AS n FROM "${db.schema}".tx_calls`))[0]!.n;
  expect(calls).toBeGreaterThan(RUNS);
});
