import { readFile, readdir } from "node:fs/promises";
import type { Pool } from "pg";
import { StoreError, StoreErrorCode } from "./errors.js";
import { quoteSchema } from "./identifiers.js";

const MIGRATIONS_DIR = new URL("../migrations/", import.meta.url);

/** A numbered migration shipped with this version of the store. */
export interface Migration {
  id: number;
  name: string;
  sql: string;
}

let cached: Promise<Migration[]> | undefined;

/** The migrations of this version, in order (`0001_init.sql` → id 1). */
export function loadMigrations(): Promise<Migration[]> {
  cached ??= (async () => {
    const files = (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f)).sort();
    return Promise.all(
      files.map(async (file) => ({
        id: Number(file.slice(0, 4)),
        name: file.slice(5, -4),
        sql: await readFile(new URL(file, MIGRATIONS_DIR), "utf8"),
      })),
    );
  })();
  return cached;
}

/** A stable 64-bit advisory lock key per schema. */
function lockKey(schema: string): string {
  let h = 0n;
  for (const ch of `reprise-migrate:${schema}`) h = (h * 31n + BigInt(ch.codePointAt(0)!)) & 0x7fffffffffffffffn;
  return h.toString();
}

/**
 * Applies the missing migrations, each in its own transaction, under an advisory lock so
 * that processes starting together migrate once. Refuses a database migrated by a newer
 * version (its schema may have changed in ways this code does not know).
 *
 * @returns the ids applied by this call.
 */
export async function migrateSchema(pool: Pool, schema: string): Promise<number[]> {
  const s = quoteSchema(schema);
  const migrations = await loadMigrations();
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1::bigint)", [lockKey(schema)]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${s}.migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const { rows } = await client.query<{ id: number }>(`SELECT id FROM ${s}.migrations ORDER BY id`);
      const applied = new Set(rows.map((r) => r.id));
      const newest = rows.length ? rows[rows.length - 1]!.id : 0;
      const known = migrations.length ? migrations[migrations.length - 1]!.id : 0;
      if (newest > known) {
        throw new StoreError(
          StoreErrorCode.SchemaTooNew,
          `schema "${schema}" was migrated by a newer Reprise (migration ${newest}; this version knows up to ${known}); upgrade this process`,
        );
      }
      const done: number[] = [];
      for (const migration of migrations) {
        if (applied.has(migration.id)) continue;
        await client.query("BEGIN");
        try {
          await client.query(migration.sql.replaceAll(":schema", s));
          await client.query(`INSERT INTO ${s}.migrations (id, name) VALUES ($1, $2)`, [migration.id, migration.name]);
          await client.query("COMMIT");
        } catch (error) {
          await client.query("ROLLBACK").catch(() => undefined);
          throw error;
        }
        done.push(migration.id);
      }
      return done;
    } finally {
      await client.query("SELECT pg_advisory_unlock($1::bigint)", [lockKey(schema)]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}
