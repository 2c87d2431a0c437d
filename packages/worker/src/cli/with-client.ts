import { Client } from "@reprise/sdk";
import type { Store } from "@reprise/store";
import { openStore, type ConnectionFlags } from "./connection.js";

/** Opens the store, runs `fn` with a client on it, and closes both. */
export async function withClient<T>(flags: ConnectionFlags, fn: (client: Client, store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(flags);
  const client = new Client({ store, migrate: false });
  try {
    return await fn(client, store);
  } finally {
    await store.close();
  }
}
