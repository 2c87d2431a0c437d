import { Client, type Workflow } from "@reprise/sdk";
import { createStore, type Store } from "@reprise/store";
import { Scheduler, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll } from "vitest";
import { useTestSchema, type TestSchema } from "../../../../test-support/db.js";

/** A test schema with a migrated store and a client on it; call once at the top of a file. */
export function useScheduling(): { db: TestSchema; store: Store; client: Client } {
  const db = useTestSchema();
  const store = createStore({ connectionString: db.url, schema: db.schema, poolSize: 4 });
  const client = new Client({ store });
  beforeAll(async () => {
    await store.migrate();
  });
  afterAll(async () => {
    await client.close();
    await store.close();
  });
  return { db, store, client };
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
