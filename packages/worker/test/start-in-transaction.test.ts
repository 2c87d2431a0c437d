import { Client, ValidationError, workflow } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { Worker, silentLogger } from "@reprise/worker";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, expect, test } from "vitest";
import { z } from "zod";
import { useTestSchema } from "../../../test-support/db.js";
import { waitFor } from "../../../test-support/wait.js";

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
const client = new Client({ store, migrate: false });
const pool = new pg.Pool({ connectionString: db.url, max: 3 });
const kysely = new Kysely<{ orders: { id: string } }>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: db.url, max: 2 }) }) });
const fulfil = workflow({ name: "fulfil", input: z.object({ orderId: z.string() }) }, async (ctx, { orderId }) => ctx.step("ship", () => `shipped ${orderId}`));
const other = workflow({ name: "other" }, async () => "other");

/** Notifications on the store's channel, in the order Postgres delivered them. */
const heard: string[] = [];
const listener = new pg.Client({ connectionString: db.url });
beforeAll(async () => {
  await store.migrate();
  await db.sql(`CREATE TABLE "${db.schema}".orders (id text PRIMARY KEY)`);
  await listener.connect();
  listener.on("notification", (n) => heard.push(n.payload ?? ""));
  await listener.query(`LISTEN "${store.channel}"`);
});
afterAll(async () => {
  await listener.end();
  await kysely.destroy();
  await pool.end();
  await store.close();
});

const runExists = async (id: string) =>
  (await db.sql(`SELECT 1 FROM "${db.schema}".runs WHERE id = $1 UNION ALL SELECT 1 FROM "${db.schema}".events WHERE run_id = $1`, [id])).length > 0;

/**
 * What was heard since the last call, up to a marker NOTIFY sent now: Postgres delivers
 * notifications in commit order, so whatever a commit before the marker sent is in there.
 */
let seen = 0;
async function heardUntilMarker(marker: string): Promise<string[]> {
  await db.sql("SELECT pg_notify($1, $2)", [store.channel, marker]);
  await waitFor(() => heard.includes(marker), { what: `the ${marker} notification` });
  const since = heard.slice(seen, heard.indexOf(marker));
  seen = heard.indexOf(marker) + 1;
  return since;
}

async function runToEnd(id: string): Promise<unknown> {
  const worker = new Worker({ store, workflows: [fulfil], logger: silentLogger, migrate: false, pollInterval: "50ms" });
  await worker.start();
  try {
    return await client.result(id, { timeout: "20s" });
  } finally {
    await worker.stop();
  }
}

test("a run started in a node-postgres transaction exists only once it commits, and its wake-up comes with the commit", async () => {
  const tx = await pool.connect();
  try {
    await tx.query("BEGIN");
    await tx.query(`INSERT INTO "${db.schema}".orders (id) VALUES ('o-1')`);
    await client.start(fulfil, { orderId: "o-1" }, { id: "pg-rolled-back", transaction: tx });
    await tx.query("ROLLBACK");
    expect(await runExists("pg-rolled-back")).toBe(false);
    expect(await heardUntilMarker("marker-1")).toEqual([]);

    await tx.query("BEGIN");
    await tx.query(`INSERT INTO "${db.schema}".orders (id) VALUES ('o-2')`);
    const handle = await client.start(fulfil, { orderId: "o-2" }, { id: "pg-committed", transaction: tx });
    expect(handle.id).toBe("pg-committed");
    // Invisible to everyone else, and no worker was woken, until the caller commits.
    expect(await runExists("pg-committed")).toBe(false);
    expect(await heardUntilMarker("marker-2")).toEqual([]);
    await tx.query("COMMIT");
  } finally {
    tx.release();
  }
  expect(await heardUntilMarker("marker-3")).toEqual(["q:default"]);
  expect(await runToEnd("pg-committed")).toBe("shipped o-2");
});

test("a run started in a Kysely transaction exists only if that transaction commits", async () => {
  await expect(
    kysely.transaction().execute(async (trx) => {
      await trx.withSchema(db.schema).insertInto("orders").values({ id: "o-3" }).execute();
      await client.start(fulfil, { orderId: "o-3" }, { id: "kysely-rolled-back", transaction: trx });
      throw new Error("the order is not valid after all");
    }),
  ).rejects.toThrow("not valid");
  expect(await runExists("kysely-rolled-back")).toBe(false);
  expect(await heardUntilMarker("marker-4")).toEqual([]);

  await kysely.transaction().execute(async (trx) => {
    await trx.withSchema(db.schema).insertInto("orders").values({ id: "o-4" }).execute();
    await client.start(fulfil, { orderId: "o-4" }, { id: "kysely-committed", transaction: trx });
  });
  expect(await heardUntilMarker("marker-5")).toEqual(["q:default"]);
  expect(await runToEnd("kysely-committed")).toBe("shipped o-4");
});

test("inside a transaction, an existing id returns its run, and an id of another workflow is a ValidationError", async () => {
  await client.start(other, undefined, { id: "taken-by-other" });
  const tx = await pool.connect();
  try {
    await tx.query("BEGIN");
    const first = await client.start(fulfil, { orderId: "o-5" }, { id: "started-twice", transaction: tx });
    // The same transaction sees the run it just created.
    const again = await client.start(fulfil, { orderId: "o-6" }, { id: "started-twice", transaction: tx });
    expect(again.id).toBe(first.id);
    await expect(client.start(fulfil, { orderId: "o-7" }, { id: "taken-by-other", transaction: tx })).rejects.toThrow(
      /run id "taken-by-other" is already used by a run of workflow "other"/,
    );
    await tx.query("COMMIT");
  } finally {
    tx.release();
  }
  expect((await client.status("started-twice")).input).toEqual({ orderId: "o-5" });
});

test("what is not a transaction is refused with a ValidationError, and nothing is stored", async () => {
  const notTransactions: [unknown, RegExp][] = [
    [pool, /a pool is not a transaction/],
    [kysely, /a Kysely instance is not a transaction/],
    [{}, /must be a node-postgres client inside BEGIN or a Kysely transaction/],
  ];
  for (const [transaction, message] of notTransactions) {
    const error = await client.start(fulfil, { orderId: "o-8" }, { id: "refused", transaction: transaction as never }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(message);
  }
  const tx = await pool.connect();
  try {
    await expect(client.run(fulfil, { orderId: "o-9" }, { id: "refused", transaction: tx })).rejects.toThrow(/client.run cannot take a transaction/);
  } finally {
    tx.release();
  }
  expect(await runExists("refused")).toBe(false);
});
