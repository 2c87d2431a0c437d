import { workflow } from "@reprise/sdk";
import { expect, test } from "vitest";
import { at, scheduler, useScheduling } from "./support.js";

const { db, store, pool } = useScheduling();
const job = workflow({ name: "fleet-job" }, async () => undefined);

/** Counts the statements the store's pool runs while `fn` runs. */
async function countQueries<T>(fn: () => Promise<T>): Promise<{ result: T; queries: number; ms: number }> {
  let queries = 0;
  const original = pool.query.bind(pool);
  pool.query = ((...args: unknown[]) => {
    queries++;
    return (original as (...a: unknown[]) => unknown)(...args);
  }) as typeof pool.query;
  const started = performance.now();
  try {
    return { result: await fn(), queries, ms: performance.now() - started };
  } finally {
    pool.query = original;
  }
}

test("one tick over 1,000 due schedules costs three statements", async () => {
  // Half hourly intervals, half hourly cron expressions in New York (croner's arithmetic).
  await db.sql(
    `INSERT INTO "${db.schema}".schedules (id, workflow, cron, every_ms, timezone, catchup_window_ms, overlap)
     SELECT 'fleet-' || i, 'fleet-job',
            CASE WHEN i % 2 = 0 THEN '0 * * * *' END, CASE WHEN i % 2 = 1 THEN 3600000 END,
            CASE WHEN i % 2 = 0 THEN 'America/New_York' ELSE 'UTC' END, 86400000, 'skip'
     FROM generate_series(1, 1000) i`,
  );
  const s = scheduler(store, [job]);
  const init = await countQueries(() => s.tick({ now: at("2026-09-01T09:59:59Z") }));
  expect(init.result.claimed).toBe(1000);
  expect(init.queries).toBe(2); // claim, advance (no run to start yet)

  const idle = await countQueries(() => s.tick({ now: at("2026-09-01T09:59:59.500Z") }));
  expect(idle.result.claimed).toBe(0);
  expect(idle.queries).toBe(1);

  const due = await countQueries(() => s.tick({ now: at("2026-09-01T10:00:00.500Z") }));
  expect(due.result.claimed).toBe(1000);
  expect(due.result.started).toHaveLength(1000);
  expect(due.queries).toBe(3); // claim, start 1,000 runs, advance 1,000 cursors and record 1,000 slots
  console.log(
    `[tick-cost] 1,000 due schedules: ${due.queries} statements, ${due.ms.toFixed(0)} ms; ` +
      `first tick (1,000 new): ${init.queries} statements, ${init.ms.toFixed(0)} ms; idle tick: ${idle.queries} statement, ${idle.ms.toFixed(1)} ms`,
  );
  const [{ n }] = (await db.sql<{ n: number }>(`SELECT count(*)::int AS n FROM "${db.schema}".runs`)) as [{ n: number }];
  expect(n).toBe(1000);
});
