import { createStore } from "@reprise/store";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
const s = `"${db.schema}"`;
beforeAll(() => store.migrate());
afterAll(() => store.close());

const ids = async () => (await db.sql<{ id: string }>(`SELECT id FROM ${s}.runs ORDER BY id`)).map((r) => r.id);
const prune = async (maxRuns: number) => Number((await db.sql<{ n: string }>(`SELECT ${s}.prune_runs(interval '30 days', $1) AS n`, [maxRuns]))[0]!.n);

test("prune_runs(older_than, max_runs) deletes at most max_runs finished runs per call, oldest first, with everything of theirs", async () => {
  const old = Array.from({ length: 25 }, (_, i) => `old-${String(i).padStart(2, "0")}`);
  await store.startRuns([...old, "recent", "old-sleeping"].map((id) => ({ id, workflow: "w", queue: "default" })));
  // old-i was created 65 - i days ago and ended 5 days later: old-00 is the oldest.
  await db.sql(
    `UPDATE ${s}.runs SET status = 'completed', available_at = NULL,
       created_at = now() - (65 - substr(id, 5)::int) * interval '1 day', updated_at = now() - (60 - substr(id, 5)::int) * interval '1 day'
     WHERE id LIKE 'old-__'`,
  );
  await db.sql(`UPDATE ${s}.runs SET status = 'completed', available_at = NULL WHERE id = 'recent'`);
  await db.sql(`UPDATE ${s}.runs SET status = 'sleeping', created_at = now() - interval '90 days', updated_at = now() - interval '90 days' WHERE id = 'old-sleeping'`);
  await db.sql(`INSERT INTO ${s}.signals (run_id, name) SELECT id, 'go' FROM ${s}.runs`);
  await db.sql(`INSERT INTO ${s}.logs (run_id, at, level, message) SELECT id, now(), 'info', 'hi' FROM ${s}.runs`);
  await db.sql(`INSERT INTO ${s}.heartbeats (run_id, position) SELECT id, 0 FROM ${s}.runs`);

  expect(await prune(10)).toBe(10);
  expect((await ids()).filter((id) => id.startsWith("old-0")).length).toBe(0); // old-00 … old-09 went first
  expect(await prune(10)).toBe(10);
  expect(await prune(10)).toBe(5);
  expect(await prune(10)).toBe(0);
  expect(await ids()).toEqual(["old-sleeping", "recent"]);
  for (const table of ["events", "signals", "logs", "heartbeats"]) {
    const left = await db.sql<{ run_id: string }>(`SELECT DISTINCT run_id FROM ${s}.${table} ORDER BY run_id`);
    expect(left.map((r) => r.run_id), table).toEqual(["old-sleeping", "recent"]);
  }
  await expect(prune(0)).rejects.toThrow(/max_runs must be at least 1/);
  await expect(db.sql(`DELETE FROM ${s}.events WHERE run_id = 'recent'`)).rejects.toThrow(/append-only/);
});
