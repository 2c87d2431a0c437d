// The members of `TransactionContext` (declared empty in workflow-types.ts) come from the
// store, which opens the transaction and binds Kysely to it: one declaration of what
// `tx.query` and `tx.kysely()` are. They are merged in here, outside the replay engine, which
// hands the context through without touching it and so never depends on the store's types.
import type { StepTransaction, TransactionQueryResult } from "@reprise/store";

declare module "./workflow-types.js" {
  interface TransactionContext extends StepTransaction {}
}

/** What `tx.query` resolves to: a node-postgres result. */
export type { TransactionQueryResult };
