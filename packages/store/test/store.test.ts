import { createStore, migrate } from "@reprise/store";
import { afterAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";

const db = useTestSchema();
const stores = [0, 1, 2].map(() => createStore({ connectionString: db.url, schema: db.schema }));
afterAll(() => Promise.all(stores.map((s) => s.close())));

test("processes migrating at once apply each migration exactly once", async () => {
  const applied = await Promise.all(stores.map((s) => s.migrate()));
  const all = applied.flat().sort((a, b) => a - b);
  const ids = (await db.sql<{ id: number }>(`SELECT id FROM "${db.schema}".migrations ORDER BY id`)).map((r) => r.id);
  expect(all).toEqual(ids);
  expect(new Set(all).size).toBe(all.length);
  expect(await stores[0]!.migrate()).toEqual([]);
});

test("the database rejects UPDATE, DELETE and TRUNCATE on events", async () => {
  const [store] = stores;
  await store!.startRuns([{ id: "r1", workflow: "w", queue: "default" }]);
  await expect(db.sql(`UPDATE "${db.schema}".events SET kind = 'X' WHERE run_id = 'r1'`)).rejects.toThrow(/append-only/);
  await expect(db.sql(`DELETE FROM "${db.schema}".events WHERE run_id = 'r1'`)).rejects.toThrow(/append-only/);
  await expect(db.sql(`TRUNCATE "${db.schema}".events`)).rejects.toThrow(/append-only/);
  expect(await store!.history("r1")).toHaveLength(1);
});

test("prune_runs is the one way to delete events, and only of finished runs", async () => {
  const [store] = stores;
  await store!.startRuns([{ id: "old-done", workflow: "w", queue: "default" }, { id: "old-open", workflow: "w", queue: "default" }]);
  await db.sql(`UPDATE "${db.schema}".runs SET status = 'completed', available_at = NULL, updated_at = now() - interval '40 days' WHERE id = 'old-done'`);
  await db.sql(`UPDATE "${db.schema}".runs SET updated_at = now() - interval '40 days' WHERE id = 'old-open'`);
  const [row] = await db.sql<{ pruned: string }>(`SELECT "${db.schema}".prune_runs(interval '30 days') AS pruned`);
  const pruned = row!.pruned;
  expect(Number(pruned)).toBe(1);
  expect(await store!.history("old-done")).toEqual([]);
  expect(await store!.history("old-open")).toHaveLength(1);
  await expect(db.sql(`DELETE FROM "${db.schema}".events WHERE run_id = 'old-open'`)).rejects.toThrow(/append-only/);
});

test("a schema migrated by a newer version's breaking migration is refused", async () => {
  const [store] = stores;
  await db.sql(`INSERT INTO "${db.schema}".migrations (id, name, breaking) VALUES (9999, 'from-the-future', true)`);
  await expect(store!.migrate()).rejects.toMatchObject({ code: "SCHEMA_TOO_NEW" });
  await db.sql(`DELETE FROM "${db.schema}".migrations WHERE id = 9999`);
});

test("an invalid schema name is refused before any SQL runs", () => {
  expect(() => createStore({ connectionString: db.url, schema: 'x"; DROP TABLE y; --' })).toThrow(/invalid schema name/);
});

test("migrate() applies the migrations to a database and schema given by options", async () => {
  const schema = `${db.schema}_m`;
  const applied = await migrate({ connectionString: db.url, schema });
  expect(applied.length).toBeGreaterThan(0);
  expect(await migrate({ connectionString: db.url, schema })).toEqual([]);
  await db.sql(`DROP SCHEMA "${schema}" CASCADE`);
});
