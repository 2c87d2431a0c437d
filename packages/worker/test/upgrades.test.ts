import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, workflow } from "@reprise/sdk";
import { createStore, loadMigrations, migrateSchema, StoreError, StoreErrorCode, type Migration } from "@reprise/store";
import { Worker, silentLogger } from "@reprise/worker";
import pg from "pg";
import { afterAll, expect, test } from "vitest";
import { z } from "zod";
import { useTestSchema } from "../../../test-support/db.js";

// Version N+1 is today's migrations plus a 0099 written to a folder of its own, so the
// marker is read from a file the way a release's migrations are.
const folders: string[] = [];
async function nextVersion(file: string, sql: string): Promise<Migration[]> {
  const dir = mkdtempSync(join(tmpdir(), "reprise-migrations-"));
  folders.push(dir);
  writeFileSync(join(dir, file), sql);
  return [...(await loadMigrations()), ...(await loadMigrations(dir))];
}
const additive = "-- Reprise 0099: a column version N does not read.\nALTER TABLE :schema.runs ADD COLUMN IF NOT EXISTS n_plus_one text;\n";
const breaking = "-- reprise: breaking\n-- Reprise 0099: version N still writes the old name.\nALTER TABLE :schema.runs RENAME COLUMN fingerprint TO code_fingerprint;\n";

const beside = useTestSchema();
const refused = useTestSchema();
const recorded = useTestSchema();
const pool = new pg.Pool({ connectionString: beside.url, max: 2 });
afterAll(async () => {
  await pool.end();
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

const greet = workflow({ name: "greet", input: z.object({ who: z.string() }) }, async (ctx, { who }) => {
  return ctx.step("compose", () => `hello ${who}`);
});

test("a worker of version N runs beside N+1 after an additive migration", async () => {
  const migrations = await nextVersion("0099_n_plus_one.sql", additive);
  expect(await migrateSchema(pool, beside.schema, { migrations })).toEqual(migrations.map((m) => m.id));

  const store = createStore({ connectionString: beside.url, schema: beside.schema });
  try {
    expect(await store.migrate()).toEqual([]);
  } finally {
    await store.close();
  }
  const client = new Client(beside.connection);
  const worker = new Worker({ ...beside.connection, workflows: [greet], logger: silentLogger, pollInterval: "100ms" });
  await worker.start();
  try {
    const handle = await client.start(greet, { who: "ada" });
    expect(await handle.result({ timeout: "10s" })).toBe("hello ada");
  } finally {
    await worker.stop();
    await client.close();
  }
  const ids = await beside.sql<{ id: number }>(`SELECT id FROM "${beside.schema}".migrations ORDER BY id`);
  expect(ids.map((r) => r.id)).toEqual(migrations.map((m) => m.id));
});

test("a newer breaking migration is refused", async () => {
  await migrateSchema(pool, refused.schema, { migrations: await nextVersion("0099_rename_fingerprint.sql", breaking) });

  const store = createStore({ connectionString: refused.url, schema: refused.schema });
  try {
    const error = await store.migrate().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe(StoreErrorCode.SchemaTooNew);
    expect((error as StoreError).message).toMatch(/breaking migration 99 \(rename_fingerprint\).*upgrade this process/);
  } finally {
    await store.close();
  }
});

test("whether each migration was breaking is recorded, also in a migrations table an older version created", async () => {
  const store = createStore({ connectionString: recorded.url, schema: recorded.schema });
  try {
    await store.migrate();
  } finally {
    await store.close();
  }
  // The table as versions before the breaking marker created it.
  await recorded.sql(`ALTER TABLE "${recorded.schema}".migrations DROP COLUMN breaking`);

  const migrations = await nextVersion("0099_rename_fingerprint.sql", breaking);
  expect(await migrateSchema(pool, recorded.schema, { migrations })).toEqual([99]);
  const rows = await recorded.sql<{ id: number; breaking: boolean }>(`SELECT id, breaking FROM "${recorded.schema}".migrations ORDER BY id`);
  expect(rows).toEqual(migrations.map((m) => ({ id: m.id, breaking: m.id === 99 })));
});
