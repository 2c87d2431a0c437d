import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, inject } from "vitest";

/** A schema of its own for one test file, dropped when the file ends. */
export interface TestSchema {
  url: string;
  schema: string;
  /** `{ connectionString, schema }`, to spread into Worker and Client options. */
  connection: { connectionString: string; schema: string };
  /** A pool on the test database, for a test's own tables and side effects (ended after the file). */
  pool: pg.Pool;
  /** Runs SQL against the test database (tables are in `schema`). */
  sql<R extends Record<string, unknown> = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]>;
}

/**
 * Call once at the top of a test file.
 *
 * ```ts
 * const db = useTestSchema();
 * const worker = new Worker({ ...db.connection, workflows: [wf] });
 * ```
 */
export function useTestSchema(): TestSchema {
  const url = inject("databaseUrl");
  const schema = `t_${randomBytes(5).toString("hex")}`;
  const pool = new pg.Pool({ connectionString: url, max: 3 });
  pool.on("error", () => undefined);
  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await pool.end();
  });
  return {
    url,
    schema,
    connection: { connectionString: url, schema },
    pool,
    async sql(text, values) {
      const { rows } = await pool.query(text, values);
      return rows;
    },
  };
}
