import { CompiledQuery, type QueryResult } from "kysely";
import { StoreError, StoreErrorCode } from "./errors.js";
import type { Queryable } from "./queryable.js";

/** A Kysely transaction (`db.transaction().execute(async (trx) => …)`), as far as the store uses it. */
export interface KyselyTransactionLike {
  readonly isTransaction: boolean;
  /** Runs a compiled query on the transaction's connection. */
  executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
}

/**
 * A transaction the caller holds on the store's database: a node-postgres client (a `Client`,
 * or a `PoolClient` from `pool.connect()`) after `BEGIN`, or a Kysely transaction. Whatever
 * the store writes through it exists only if the caller commits.
 */
export type CallerTransaction = Queryable | KyselyTransactionLike;

/**
 * The caller's transaction as something the queries can run on. Statements go unnamed: a
 * named prepared statement would stay behind on the caller's connection (and break behind a
 * pooler in transaction mode).
 *
 * @throws StoreError (InvalidArgument) for a pool or a Kysely instance that is no transaction
 */
export function callerQueryable(transaction: CallerTransaction): Queryable {
  const t = transaction as Partial<KyselyTransactionLike & Queryable & { idleCount: unknown }> | null;
  if (t && typeof t.executeQuery === "function") {
    if (t.isTransaction !== true) {
      throw new StoreError(StoreErrorCode.InvalidArgument, "transaction: a Kysely instance is not a transaction; pass the trx of db.transaction().execute(async (trx) => …)");
    }
    const kysely = t as KyselyTransactionLike;
    return {
      async query<R extends object>(config: { text: string; values?: unknown[] }) {
        const result = await kysely.executeQuery<R>(CompiledQuery.raw(config.text, config.values ?? []));
        return { rows: result.rows, rowCount: result.numAffectedRows === undefined ? result.rows.length : Number(result.numAffectedRows) };
      },
    };
  }
  if (t && typeof t.query === "function") {
    if ("idleCount" in t) {
      throw new StoreError(StoreErrorCode.InvalidArgument, "transaction: a pool is not a transaction; check a client out (await pool.connect()), BEGIN, and pass the client");
    }
    const client = t as Queryable;
    return { query: (config) => client.query({ text: config.text, ...(config.values ? { values: config.values } : {}) }) };
  }
  throw new StoreError(StoreErrorCode.InvalidArgument, "transaction must be a node-postgres client inside BEGIN or a Kysely transaction");
}
