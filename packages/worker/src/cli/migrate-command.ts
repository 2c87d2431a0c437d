import { createStore } from "@reprise/store";
import type { Command } from "commander";
import { action, type ActionInput } from "./command-action.js";
import { resolveConnection } from "./connection.js";

/**
 * `reprise migrate [--app-role ROLE]`: applies the store's migrations; with `--app-role`,
 * grants that role what workers and clients need, and nothing that could change the log.
 */
export function migrateCommand(command: Command): void {
  command
    .description("applies the store's migrations")
    .option("--app-role <role>", "grant this role what workers and clients need, and no way to change the event log")
    .action(action(migrate));
}

async function migrate({ values }: ActionInput<{ "app-role"?: string }>): Promise<void> {
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
