import { Client, workflow } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
afterAll(() => store.close());

test("two workers racing on 200 runs: every run completes once and no step is recorded twice", async () => {
  const executions = new Map<string, number>();
  const count = (key: string) => executions.set(key, (executions.get(key) ?? 0) + 1);
  const wf = workflow({ name: "race" }, async (ctx, input: { n: number }) => {
    const a = await ctx.step("a", () => (count(`${ctx.runId}:a`), input.n));
    const b = await ctx.step("b", async () => (count(`${ctx.runId}:b`), a * 2));
    return ctx.step("c", () => (count(`${ctx.runId}:c`), b + 1));
  });
  await store.migrate();
  const workers = [1, 2].map(
    () =>
      new Worker({ ...db.connection, workflows: [wf], concurrency: 10, pollInterval: "50ms", logger: silentLogger, migrate: false }),
  );
  const client = new Client({ store, migrate: false });
  const handles = await Promise.all(Array.from({ length: 200 }, (_, n) => client.start(wf, { n }, { id: `race-${n}` })));
  await Promise.all(workers.map((w) => w.start()));
  try {
    const results = await Promise.all(handles.map((h) => h.result({ timeout: "60s" })));
    expect(results).toEqual(Array.from({ length: 200 }, (_, n) => n * 2 + 1));
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
  const completions = await db.sql<{ n: number }>(
    `SELECT count(*)::int AS n FROM "${db.schema}".events WHERE kind = 'RunCompleted' GROUP BY run_id HAVING count(*) > 1`,
  );
  expect(completions).toEqual([]);
  const steps = await db.sql<{ run_id: string; position: number }>(
    `SELECT run_id, position FROM "${db.schema}".events WHERE kind = 'StepCompleted' GROUP BY run_id, position HAVING count(*) > 1`,
  );
  expect(steps).toEqual([]);
  const total = await db.sql<{ n: number }>(`SELECT count(*)::int AS n FROM "${db.schema}".events WHERE kind = 'StepCompleted'`);
  expect(total[0]!.n).toBe(600);
  // Without crashes nothing is ever executed twice either.
  expect([...executions.values()].every((n) => n === 1)).toBe(true);
  expect(executions.size).toBe(600);
  const leased = await db.sql<{ n: number }>(`SELECT count(*)::int AS n FROM "${db.schema}".runs WHERE lease_owner IS NOT NULL`);
  expect(leased[0]!.n, "every lease is given back").toBe(0);
});
