import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { StoreError, StoreErrorCode } from "./errors.js";
import { quoteSchema } from "./identifiers.js";

const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations/", import.meta.url));

// A migration whose first line is exactly this comment is breaking: code that does not
// know it cannot run against a schema it changed (a dropped or renamed column, a new
// NOT NULL without a default, an event shape old code would misread). Every other
// migration is additive, and processes of the previous version keep running beside it
// during a rolling deploy. The marker is part of the file, so it too is never edited
// once released.
const BREAKING_MARKER = /^--\s*reprise:\s*breaking\s*$/;

/**
 * A numbered migration shipped with this version of the store: `migrations/0001_init.sql`
 * is id 1, name `init`. A file whose first line is `-- reprise: breaking` is breaking: a
 * process that does not know it refuses to run once it is applied.
 */
export interface Migration {
  id: number;
  name: string;
  sql: string;
  /** The file starts with `-- reprise: breaking`: older code cannot run against its schema. */
  breaking: boolean;
}

let cached: Promise<Migration[]> | undefined;

/**
 * The migrations of this version, in order; or those of `directory` (tooling and tests
 * that stand in for another version).
 *
 * ```ts
 * const ids = (await loadMigrations()).map((m) => m.id); // [1, 2, 3, 4]
 * ```
 *
 * @param directory a folder of `NNNN_name.sql` files. @default the store's `migrations/`
 */
export function loadMigrations(directory?: string | URL): Promise<Migration[]> {
  if (directory !== undefined) return readMigrations(typeof directory === "string" ? directory : fileURLToPath(directory));
  cached ??= readMigrations(MIGRATIONS_DIR);
  return cached;
}

async function readMigrations(directory: string): Promise<Migration[]> {
  const files = (await readdir(directory)).filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f)).sort();
  return Promise.all(
    files.map(async (file) => {
      const sql = await readFile(join(directory, file), "utf8");
      const firstLine = sql.split("\n", 1)[0]!.trim();
      return { id: Number(file.slice(0, 4)), name: file.slice(5, -4), sql, breaking: BREAKING_MARKER.test(firstLine) };
    }),
  );
}

/** A stable 64-bit advisory lock key per schema. */
function lockKey(schema: string): string {
  let h = 0n;
  for (const ch of `reprise-migrate:${schema}`) h = (h * 31n + BigInt(ch.codePointAt(0)!)) & 0x7fffffffffffffffn;
  return h.toString();
}

/** Options of {@link migrateSchema} (and of `migrate()`, `store.migrate()`). */
export interface MigrateOptions {
  /**
   * The migrations to apply, for tooling and tests that stand in for another version.
   * @default loadMigrations()
   */
  migrations?: readonly Migration[];
  /**
   * A role the application (workers, clients) connects as, other than the migrating role
   * that owns the schema. It is granted what running needs and nothing on the log beyond
   * reading and appending: no UPDATE, DELETE or TRUNCATE on `events`, no writes to
   * `migrations`; retention goes through `prune_runs()`, which it may execute. Granted
   * again on every call, so tables of later migrations are covered. (See docs: roles.)
   */
  applicationRole?: string;
}

/**
 * Applies the missing migrations, each in its own transaction, under an advisory lock so
 * that processes starting together migrate once. A schema that is up to date is only read:
 * a role that may not change the schema (the application role) can start with `migrate`
 * on.
 *
 * A database migrated by a newer version is refused (`SchemaTooNew`) only when one of the
 * migrations this version does not know is breaking. After additive ones, this version
 * applies nothing it does not know and runs: that is what lets a rolling deploy keep the
 * previous version's workers going after the new version migrated.
 *
 * ```ts
 * await migrateSchema(pool, "reprise", { applicationRole: "reprise_app" });
 * ```
 *
 * @returns the ids applied by this call.
 */
export async function migrateSchema(pool: pg.Pool, schema: string, options: MigrateOptions = {}): Promise<number[]> {
  const s = quoteSchema(schema);
  const ours = [...(options.migrations ?? (await loadMigrations()))].sort((a, b) => a.id - b.id);
  const recorded = await readApplied(pool, s);
  if (recorded) {
    refuseNewerBreaking(schema, recorded, ours);
    const applied = new Set(recorded.map((r) => r.id));
    if (ours.every((m) => applied.has(m.id))) {
      if (options.applicationRole !== undefined) await grantApplicationRole(pool, s, options.applicationRole);
      return [];
    }
  }
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1::bigint)", [lockKey(schema)]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${s}.migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      // Tables created before migrations could be breaking lack the column; every migration
      // they recorded was additive, which is what the default says.
      await client.query(`ALTER TABLE ${s}.migrations ADD COLUMN IF NOT EXISTS breaking boolean NOT NULL DEFAULT false`);
      const { rows } = await client.query<AppliedRow>(`SELECT id, name, breaking FROM ${s}.migrations ORDER BY id`);
      refuseNewerBreaking(schema, rows, ours);
      const applied = new Set(rows.map((r) => r.id));
      const done: number[] = [];
      for (const migration of ours) {
        if (applied.has(migration.id)) continue;
        await client.query("BEGIN");
        try {
          await client.query(migration.sql.replaceAll(":schema", s));
          await client.query(`INSERT INTO ${s}.migrations (id, name, breaking) VALUES ($1, $2, $3)`, [migration.id, migration.name, migration.breaking]);
          await client.query("COMMIT");
        } catch (error) {
          await client.query("ROLLBACK").catch(() => undefined);
          throw error;
        }
        done.push(migration.id);
      }
      if (options.applicationRole !== undefined) await grantApplicationRole(client, s, options.applicationRole);
      return done;
    } finally {
      await client.query("SELECT pg_advisory_unlock($1::bigint)", [lockKey(schema)]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}

interface AppliedRow {
  id: number;
  name: string;
  breaking: boolean;
}

/** The migrations recorded in the schema, or undefined when it has no (current) migrations table yet. */
async function readApplied(pool: pg.Pool, s: string): Promise<AppliedRow[] | undefined> {
  try {
    const { rows } = await pool.query<AppliedRow>(`SELECT id, name, breaking FROM ${s}.migrations ORDER BY id`);
    return rows;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    // 3F000: no such schema; 42P01: no such table; 42703: a table from before `breaking`.
    if (code === "3F000" || code === "42P01" || code === "42703") return undefined;
    throw error;
  }
}

function refuseNewerBreaking(schema: string, rows: readonly AppliedRow[], ours: readonly Migration[]): void {
  const known = new Set(ours.map((m) => m.id));
  const breaking = rows.filter((r) => r.breaking && !known.has(r.id));
  if (breaking.length === 0) return;
  const names = breaking.map((r) => `${r.id} (${r.name})`).join(", ");
  const newest = ours.length ? ours[ours.length - 1]!.id : 0;
  throw new StoreError(
    StoreErrorCode.SchemaTooNew,
    `schema "${schema}" was migrated by a newer Reprise with breaking migration ${names}, which this version (migrations up to ${newest}) cannot run against; upgrade this process`,
  );
}

/**
 * Grants the application role what running needs, all at once: it reads and appends
 * the log but may not change or remove a line of it (the trigger on events refuses anyone
 * but the owner too, and only the owner can disable it).
 */
async function grantApplicationRole(db: pg.Pool | pg.PoolClient, s: string, role: string): Promise<void> {
  if (typeof role !== "string" || role.length === 0) throw new StoreError(StoreErrorCode.InvalidArgument, "applicationRole must be a role name");
  const r = pg.escapeIdentifier(role);
  const statements = [
    `GRANT USAGE ON SCHEMA ${s} TO ${r}`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${r}`,
    `REVOKE UPDATE, DELETE, TRUNCATE ON ${s}.events FROM ${r}`,
    // Values stored out of line are part of the log: written once, deleted with their run.
    `REVOKE UPDATE, DELETE, TRUNCATE ON ${s}.payloads FROM ${r}`,
    `REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ${s}.migrations FROM ${r}`,
    `GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${s} TO ${r}`,
    `GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ${s} TO ${r}`,
  ];
  try {
    // One simple query of several statements runs as one implicit transaction: all or none.
    await db.query(statements.join(";\n"));
  } catch (error) {
    if ((error as { code?: unknown }).code === "42704") {
      throw new StoreError(StoreErrorCode.InvalidArgument, `no role named ${JSON.stringify(role)}: create it first (CREATE ROLE ${r} LOGIN PASSWORD '…')`, { cause: error });
    }
    throw error;
  }
}
