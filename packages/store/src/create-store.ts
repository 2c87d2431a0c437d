import { PgStore } from "./pg-store.js";
import type { MigrateOptions } from "./migrate.js";
import type { Store, StoreOptions } from "./store.js";

/**
 * Creates a store: a pool, a kysely instance and the hot-path queries for one schema.
 *
 * ```ts
 * const store = createStore({ connectionString: process.env.DATABASE_URL });
 * await store.migrate();
 * ```
 */
export function createStore(options: StoreOptions): Store {
  return new PgStore(options);
}

/**
 * Applies the store's migrations: to a store, or to the database and schema of the options
 * (`schema` defaults to "reprise"). Safe when processes race (an advisory lock).
 *
 * ```ts
 * await migrate({ connectionString: process.env.DATABASE_URL });
 * // the owner migrates; workers connect as reprise_app, which cannot change the log
 * await migrate({ connectionString: ownerUrl }, { applicationRole: "reprise_app" });
 * ```
 * @returns the ids of the migrations this call applied
 */
export async function migrate(target: Store | StoreOptions, options: Pick<MigrateOptions, "applicationRole"> = {}): Promise<number[]> {
  if (isStore(target)) return target.migrate(options);
  const store = createStore({ ...target, poolSize: 1 });
  try {
    return await store.migrate(options);
  } finally {
    await store.close();
  }
}

function isStore(target: Store | StoreOptions): target is Store {
  return typeof (target as Partial<Store>).migrate === "function";
}
