import { createStore } from "@reprise/store";
import { resolveConnection } from "./connection.js";
import { parseFlags } from "./flags.js";

/**
 * `reprise migrate [--app-role ROLE]`: applies the store's migrations; with `--app-role`,
 * grants that role what workers and clients need, and nothing that could change the log.
 */
export async function migrateCommand(args: string[]): Promise<void> {
  const { values } = parseFlags(args, { "app-role": { type: "string" } });
  const { connectionString, schema } = resolveConnection(values);
  const store = createStore({ connectionString, ...(schema ? { schema } : {}), poolSize: 1 });
  try {
    const role = values["app-role"];
    const applied = await store.migrate(role === undefined ? {} : { applicationRole: role });
    console.log(applied.length ? `applied migration(s) ${applied.join(", ")} to schema "${store.schema}"` : `schema "${store.schema}" is up to date`);
    if (role !== undefined) console.log(`role "${role}" may run workers and clients on schema "${store.schema}"; it cannot change or delete the event log`);
  } finally {
    await store.close();
  }
}
