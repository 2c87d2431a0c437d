import { createStore } from "@reprise/store";
import { resolveConnection } from "./connection.js";
import { parseFlags } from "./flags.js";

/** `reprise migrate`: applies the store's migrations. */
export async function migrateCommand(args: string[]): Promise<void> {
  const { values } = parseFlags(args, {});
  const { connectionString, schema } = resolveConnection(values);
  const store = createStore({ connectionString, ...(schema ? { schema } : {}), poolSize: 1 });
  try {
    const applied = await store.migrate();
    console.log(applied.length ? `applied migration(s) ${applied.join(", ")} to schema "${store.schema}"` : `schema "${store.schema}" is up to date`);
  } finally {
    await store.close();
  }
}
