import { Kysely, PostgresDialect, PostgresDriver, type Driver, type PostgresDialectConfig, type PostgresPoolClient, type PostgresQueryResult } from "kysely";
import type pg from "pg";
import { StoreError, StoreErrorCode } from "./errors.js";

/** A node-postgres query result, as `tx.query` returns it. */
export interface TransactionQueryResult<R> {
  rows: R[];
  /** Rows the statement returned or changed (null for statements that report none). */
  rowCount: number | null;
  /** `INSERT`, `SELECT`, `UPDATE`, … */
  command: string;
  fields: { name: string; dataTypeID: number }[];
}

/**
 * The transaction a `ctx.transaction` function writes in: Reprise's own database, on the
 * connection that also records the step's completion, so that both commit together or not
 * at all. Valid only until the function returns.
 */
export interface StepTransaction {
  /**
   * One statement with `$1…` parameters, inside the step's transaction. Throw to roll back;
   * the transaction is Reprise's to begin and end, so BEGIN, COMMIT and ROLLBACK are refused
   * (savepoints are fine).
   *
   * ```ts
   * await tx.query("INSERT INTO orders (id, total) VALUES ($1, $2)", [id, total]);
   * ```
   */
  query<R extends object = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<TransactionQueryResult<R>>;
  /**
   * A Kysely bound to the step's transaction (`DB` describes your tables). Its own
   * `transaction()` is refused: it already runs in one.
   *
   * ```ts
   * await tx.kysely<MyDatabase>().insertInto("orders").values({ id, total }).execute();
   * ```
   */
  kysely<DB>(): Kysely<DB>;
}

/** A {@link StepTransaction} over a connection inside BEGIN, and the switch that ends it. */
export interface OpenStepTransaction {
  readonly context: StepTransaction;
  /** Refuses every later statement (the connection goes back to the pool after this). */
  close(): void;
}

// Statements that would end or nest the step's transaction: a COMMIT here would commit the
// step's writes without its completion, which is exactly what ctx.transaction exists to
// prevent. `ROLLBACK TO [SAVEPOINT]` is allowed. A guard against mistakes, not a parser.
const TRANSACTION_CONTROL = /^\s*(begin|start\s+transaction|commit|end|abort|prepare\s+transaction|rollback(?!\s+to\b))\b/i;

/**
 * Wraps a checked-out connection that is inside BEGIN. Statements go over the extended
 * protocol (`queryMode: "extended"`), which takes one statement per call: `INSERT …; COMMIT`
 * in one string is refused by Postgres itself.
 */
export function openStepTransaction(client: pg.PoolClient): OpenStepTransaction {
  let closed = false;
  let kysely: Kysely<unknown> | undefined;
  const query = async <R extends object>(text: string, values?: readonly unknown[]): Promise<TransactionQueryResult<R>> => {
    if (closed) throw new StoreError(StoreErrorCode.InvalidArgument, "this transaction is over: its ctx.transaction function has returned");
    if (typeof text !== "string") throw new StoreError(StoreErrorCode.InvalidArgument, `tx.query needs SQL text, got ${typeof text}`);
    if (TRANSACTION_CONTROL.test(text)) {
      throw new StoreError(
        StoreErrorCode.InvalidArgument,
        `tx.query cannot run ${JSON.stringify(text.trim().split(/\s+/, 1)[0])}: ctx.transaction begins and ends the transaction itself (throw to roll back; savepoints are fine)`,
      );
    }
    const config = { text, values: values ? [...values] : [], queryMode: "extended" };
    return (await client.query(config as pg.QueryConfig)) as unknown as TransactionQueryResult<R>;
  };
  const context: StepTransaction = {
    query,
    kysely<DB>(): Kysely<DB> {
      kysely ??= new Kysely<unknown>({ dialect: new InTransactionDialect({ pool: singleConnection(query) }) });
      return kysely as unknown as Kysely<DB>;
    },
  };
  return {
    context,
    close: () => {
      closed = true;
    },
  };
}

/** Kysely's pool, reduced to the one connection of the step's transaction (checked in and out for free). */
function singleConnection(query: (text: string, values?: readonly unknown[]) => Promise<TransactionQueryResult<object>>): PostgresDialectConfig["pool"] {
  const client = {
    query: (sql: string, parameters: readonly unknown[]) => query(sql, parameters) as unknown as Promise<PostgresQueryResult<object>>,
    release: () => undefined,
  } as PostgresPoolClient;
  return { connect: async () => client, end: async () => undefined };
}

const refuse = (what: string) =>
  Promise.reject(new StoreError(StoreErrorCode.InvalidArgument, `tx.kysely() cannot ${what}: it runs inside the transaction of ctx.transaction (throw to roll back)`));

/** Kysely's Postgres driver, minus its own transactions. */
class InTransactionDriver extends PostgresDriver {
  override beginTransaction(): Promise<void> {
    return refuse("begin a transaction");
  }
  override commitTransaction(): Promise<void> {
    return refuse("commit");
  }
  override rollbackTransaction(): Promise<void> {
    return refuse("roll back");
  }
}

class InTransactionDialect extends PostgresDialect {
  readonly #config: PostgresDialectConfig;
  constructor(config: PostgresDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new InTransactionDriver(this.#config);
  }
}
