import { randomBytes } from "node:crypto";
import { Client, workflow } from "@reprise/sdk";
import { migrate } from "@reprise/store";
import { Worker, silentLogger } from "@reprise/worker";
import pg from "pg";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";

// The log is the source of truth: an application that can DELETE must still not be able to
// erase it. The owner migrates and grants an application role; workers and clients run as
// that role, which can read and append the log, and prune finished runs through
// prune_runs(), but not change, delete, truncate or unguard a line of it.

const db = useTestSchema();
const role = `reprise_app_${randomBytes(4).toString("hex")}`;
const appUrl = (() => {
  const url = new URL(db.url);
  url.username = role;
  url.password = "app-secret";
  return url.toString();
})();
const app = new pg.Pool({ connectionString: appUrl, max: 2 });
app.on("error", () => undefined);

const napper = workflow({ name: "napper" }, async (ctx) => {
  await ctx.step("charge", () => "charged");
  await ctx.sleep("1h");
  return "done";
});
const quick = workflow({ name: "quick" }, async (ctx) => ctx.step("one", () => 1));

beforeAll(async () => {
  await db.sql(`CREATE ROLE ${role} LOGIN PASSWORD 'app-secret'`);
  await migrate({ connectionString: db.url, schema: db.schema }, { applicationRole: role });
});
afterAll(async () => {
  await app.end();
  await db.sql(`DROP OWNED BY ${role}`).catch(() => undefined);
  await db.sql(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
});

/** The SQLSTATE `sql` fails with as the application role, or "ok". */
async function asApp(sql: string): Promise<string> {
  const client = await app.connect();
  try {
    await client.query("BEGIN");
    await client.query(sql);
    await client.query("COMMIT");
    return "ok";
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    return String((error as { code?: string }).code);
  } finally {
    client.release();
  }
}

test("workers and clients run as the application role, which cannot erase, change or unguard the log", async () => {
  const connection = { connectionString: appUrl, schema: db.schema };
  const client = new Client(connection);
  const worker = new Worker({ ...connection, workflows: [napper, quick], pollInterval: "50ms", logger: silentLogger });
  await worker.start();
  try {
    const sleeping = await client.start(napper, undefined);
    const done = await client.start(quick, undefined);
    expect(await done.result({ timeout: "10s" })).toBe(1);
    await expect.poll(async () => (await sleeping.status()).status, { timeout: 10_000 }).toBe("sleeping");

    const s = `"${db.schema}"`;
    // 42501: insufficient privilege — whatever the session claims about pruning.
    expect(await asApp(`SET LOCAL reprise.pruning = 'on'; DELETE FROM ${s}.events WHERE run_id = '${sleeping.id}'`)).toBe("42501");
    expect(await asApp(`UPDATE ${s}.events SET payload = '{}' WHERE run_id = '${sleeping.id}'`)).toBe("42501");
    expect(await asApp(`TRUNCATE ${s}.events`)).toBe("42501");
    expect(await asApp(`ALTER TABLE ${s}.events DISABLE TRIGGER events_append_only`)).toBe("42501");
    expect(await asApp(`DELETE FROM ${s}.migrations`)).toBe("42501");

    // Retention still works for the application, and only on finished runs.
    await db.sql(`UPDATE ${s}.runs SET updated_at = now() - interval '2 days'`);
    const pruned = await app.query<{ n: string }>(`SELECT ${s}.prune_runs(interval '1 day') AS n`);
    expect(Number(pruned.rows[0]!.n)).toBe(1);
    const left = await db.sql<{ run_id: string; kind: string }>(`SELECT run_id, kind FROM ${s}.events ORDER BY run_id, seq`);
    expect(new Set(left.map((e) => e.run_id))).toEqual(new Set([sleeping.id]));
    expect(left.map((e) => e.kind)).toContain("StepCompleted");
  } finally {
    await worker.stop();
    await client.close();
  }
});

test("a session that sets reprise.pruning cannot delete from the log, even with DELETE granted", async () => {
  await db.sql(`GRANT DELETE ON "${db.schema}".events TO ${role}`);
  try {
    expect(await asApp(`SET LOCAL reprise.pruning = 'on'; DELETE FROM "${db.schema}".events`)).toBe("42501");
  } finally {
    await db.sql(`REVOKE DELETE ON "${db.schema}".events FROM ${role}`);
  }
});

test("granting a role that does not exist says so in one line", async () => {
  await expect(migrate({ connectionString: db.url, schema: db.schema }, { applicationRole: "no_such_role_here" })).rejects.toThrow(
    /no role named "no_such_role_here"/,
  );
});
