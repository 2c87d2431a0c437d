import { Client, type Workflow } from "@reprise/sdk";
import { createStore, type Store } from "@reprise/store";
import pg from "pg";
import { Scheduler, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll } from "vitest";
import { useTestSchema, type TestSchema } from "../../../../test-support/db.js";

/**
 * A test schema with a migrated store and a client on it; call once at the top of a file.
 * `pool` is the store's own pool, for tests that count the statements it runs.
 */
export function useScheduling(): { db: TestSchema; store: Store; client: Client; pool: pg.Pool } {
  const db = useTestSchema();
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  pool.on("error", () => undefined);
  const store = createStore({ pool, schema: db.schema });
  const client = new Client({ store });
  beforeAll(async () => {
    await store.migrate();
  });
  afterAll(async () => {
    await client.close();
    await store.close();
    await pool.end();
  });
  return { db, store, client, pool };
}

/** A scheduler driven by hand (`tick({ now })`), for a controllable clock. */
export function scheduler(store: Store, workflows: Workflow<any, any>[], id?: string): Scheduler {
  return new Scheduler({ store, workflows, logger: silentLogger, ...(id ? { id } : {}) });
}

/** Run ids of a schedule's slots, oldest first. */
export async function slotRuns(db: TestSchema, scheduleId: string): Promise<string[]> {
  const rows = await db.sql<{ id: string }>(`SELECT id FROM "${db.schema}".runs WHERE id LIKE $1 ORDER BY id`, [`sched:${scheduleId}:%`]);
  return rows.map((r) => r.id);
}

/** The slot times (ISO) of a schedule's runs, oldest first. */
export async function slotTimes(db: TestSchema, scheduleId: string): Promise<string[]> {
  return (await slotRuns(db, scheduleId)).map((id) => id.slice(`sched:${scheduleId}:`.length));
}

export const at = (iso: string) => new Date(iso);
