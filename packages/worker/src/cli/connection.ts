import { DEV_STATE_FILE, devDatabaseUrl } from "@reprise/sdk/engine";
import { createStore, type Store } from "@reprise/store";
import { UsageError } from "./cli-error.js";

export { DEV_STATE_FILE };

export interface ConnectionFlags {
  "database-url"?: string | undefined;
  schema?: string | undefined;
}

/**
 * The database a command talks to: `--database-url`, else `DATABASE_URL`, else the
 * embedded database of a `reprise dev` started in this directory.
 */
export function resolveConnection(flags: ConnectionFlags): { connectionString: string; schema: string | undefined } {
  const schema = flags.schema ?? process.env.REPRISE_SCHEMA;
  const url = flags["database-url"] ?? process.env.DATABASE_URL;
  if (url) return { connectionString: url, schema };
  const devUrl = devDatabaseUrl();
  if (devUrl) return { connectionString: devUrl, schema };
  throw new UsageError("no database: set DATABASE_URL, pass --database-url, or run `reprise dev` in this directory first");
}

/** A store for a CLI command (its connection is checked before use). */
export async function openStore(flags: ConnectionFlags): Promise<Store> {
  const { connectionString, schema } = resolveConnection(flags);
  const store = createStore({ connectionString, ...(schema ? { schema } : {}), poolSize: 4 });
  try {
    await store.migrate();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  return store;
}
