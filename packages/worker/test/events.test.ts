import { Client, ValidationError, workflow } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { Worker, silentLogger } from "@reprise/worker";
import { main } from "@reprise/worker/cli";
import { z } from "zod";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";
import { waitFor } from "../../../test-support/wait.js";
import { runCli, type CliResult } from "../../../test-support/cli.js";

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
const client = new Client({ store, migrate: false });
const s = `"${db.schema}"`;

const Order = z.object({ orderId: z.string(), amount: z.number().int().positive() });
const charged: string[] = [];
const noted: unknown[] = [];

/** Validates its payload: a payload without an amount is refused. */
const chargeOrder = workflow({ name: "charge-order", on: "order.created", input: Order }, async (ctx, order) => {
  await ctx.step("charge", () => void charged.push(order.orderId));
  return `charged ${order.amount} for ${order.orderId}`;
});
/** Takes any payload, and is started by two events. */
const noteOrder = workflow({ name: "note-order", on: ["order.created", "order.refunded"] }, async (ctx, payload: unknown) => {
  await ctx.step("note", () => void noted.push(payload));
  return payload;
});
// Long enough that the run id of one of its events is a hash (the SQL derives the same).
const longName = `audit-${"x".repeat(180)}`;
const audit = workflow({ name: longName, on: "order.created" }, async () => "audited");

let worker: Worker;
beforeAll(async () => {
  await store.migrate();
  worker = new Worker({ ...db.connection, workflows: [chargeOrder, noteOrder, audit], pollInterval: "50ms", logger: silentLogger });
  await worker.start();
});
afterAll(async () => {
  await worker.stop();
  await store.close();
});

const runCount = async () => (await db.sql<{ n: number }>(`SELECT count(*)::int AS n FROM ${s}.runs`))[0]!.n;

const cli = (...args: string[]): Promise<CliResult> => runCli(main, [...args, "--database-url", db.url, "--schema", db.schema]);

test("an event starts each workflow declared for it, once per event id however often it is emitted", async () => {
  const first = await client.emit("order.created", { orderId: "A-1", amount: 25 }, { id: "evt-A-1" });
  expect(first.duplicate).toBe(false);
  expect(first.invalid).toEqual([]);
  const ids = first.runs.map((r) => r.id).sort();
  expect(ids).toHaveLength(3);
  expect(ids).toContain("evt:evt-A-1:charge-order");
  expect(ids).toContain("evt:evt-A-1:note-order");
  const results = await Promise.all(first.runs.map((r) => r.result({ timeout: "10s" })));
  expect(results).toContain("charged 25 for A-1");
  expect(results).toContainEqual({ orderId: "A-1", amount: 25 });

  const runs = await runCount();
  const again = await client.emit("order.created", { orderId: "A-1", amount: 999 }, { id: "evt-A-1" });
  expect(again.duplicate).toBe(true);
  expect(again.runs.map((r) => r.id).sort()).toEqual(ids);
  expect(await runCount()).toBe(runs);
  expect(charged.filter((id) => id === "A-1")).toEqual(["A-1"]);
  // The event is the first emission: its payload, and each run's input.
  expect((await client.status("evt:evt-A-1:charge-order")).input).toEqual({ orderId: "A-1", amount: 25 });
  expect((await client.status("evt:evt-A-1:note-order")).input).toEqual({ orderId: "A-1", amount: 25 });
});

test("a payload one workflow's schema refuses starts nothing for it and is reported; the others start", async () => {
  const result = await client.emit("order.created", { orderId: "B-1" }, { id: "evt-B-1" });
  expect(result.invalid).toHaveLength(1);
  expect(result.invalid[0]!.workflowName).toBe("charge-order");
  expect(result.invalid[0]!.error).toBeInstanceOf(ValidationError);
  expect(result.invalid[0]!.error.message).toMatch(/invalid input of workflow "charge-order": amount/);
  expect(result.runs.map((r) => r.id).sort()).toEqual([`evt:evt-B-1:${longName}`, "evt:evt-B-1:note-order"].sort());
  await Promise.all(result.runs.map((r) => r.result({ timeout: "10s" })));
  expect(charged).not.toContain("B-1");
  await expect(client.status("evt:evt-B-1:charge-order")).rejects.toThrow(/no run with id/);

  const [event] = await client.events.list({ name: "order.created", limit: 1 });
  expect(event!.id).toBe("evt-B-1");
  expect(event!.payload).toEqual({ orderId: "B-1" });
  const refused = event!.runs.find((r) => r.workflowName === "charge-order")!;
  expect(refused.runId).toBeUndefined();
  expect(refused.error).toMatchObject({ name: "ValidationError" });
  expect(event!.runs.find((r) => r.workflowName === "note-order")).toMatchObject({ runId: "evt:evt-B-1:note-order", status: "completed" });
});

test("an INSERT into a table of your own starts the workflow through emit() in a trigger; a rolled-back INSERT starts nothing", async () => {
  await db.sql(`CREATE TABLE ${s}.shop_orders (id text PRIMARY KEY, amount int NOT NULL)`);
  await db.sql(`CREATE FUNCTION ${s}.shop_order_created() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM ${s}.emit('order.created', jsonb_build_object('orderId', NEW.id, 'amount', NEW.amount), 'shop-order-' || NEW.id);
      RETURN NEW;
    END $$`);
  await db.sql(`CREATE TRIGGER shop_order_created AFTER INSERT ON ${s}.shop_orders FOR EACH ROW EXECUTE FUNCTION ${s}.shop_order_created()`);

  await db.sql(`INSERT INTO ${s}.shop_orders VALUES ('C-1', 40)`);
  expect(await client.handle("evt:shop-order-C-1:charge-order").result({ timeout: "10s" })).toBe("charged 40 for C-1");
  expect((await client.status("evt:shop-order-C-1:charge-order")).input).toEqual({ orderId: "C-1", amount: 40 });

  const before = await runCount();
  const conn = await db.pool.connect();
  try {
    await conn.query("BEGIN");
    await conn.query(`INSERT INTO ${s}.shop_orders VALUES ('C-2', 50)`);
    await conn.query("ROLLBACK");
  } finally {
    conn.release();
  }
  // Another order after it, committed: once its run is done, the rolled-back one would have been claimed too.
  await db.sql(`INSERT INTO ${s}.shop_orders VALUES ('C-3', 60)`);
  await client.handle("evt:shop-order-C-3:charge-order").result({ timeout: "10s" });
  expect(await runCount()).toBe(before + 3);
  expect(await client.events.get("shop-order-C-2")).toBeUndefined();
  await expect(client.status("evt:shop-order-C-2:charge-order")).rejects.toThrow(/no run with id/);
  expect(charged).not.toContain("C-2");

  const [sqlEvent] = await client.events.list({ name: "order.created", limit: 1 });
  expect(sqlEvent).toMatchObject({ id: "shop-order-C-3", source: "sql" });
});

test("a payload emitted from SQL that a workflow's schema refuses fails that run with the ValidationError before any step", async () => {
  const [row] = await db.sql<{ id: string }>(`SELECT ${s}.emit('order.created', '{"orderId": "D-1", "amount": "lots"}'::jsonb, 'sql-D-1') AS id`);
  expect(row!.id).toBe("sql-D-1");
  const failed = await waitFor(async () => {
    const info = await client.status("evt:sql-D-1:charge-order");
    return info.status === "failed" ? info : undefined;
  });
  expect(failed.error).toMatchObject({ name: "ValidationError", message: expect.stringMatching(/invalid input of workflow "charge-order": amount/) });
  expect((await client.history("evt:sql-D-1:charge-order")).map((e) => e.kind)).toEqual(["RunStarted", "RunFailed"]);
  expect(charged).not.toContain("D-1");
  // The workflow without a schema took the payload as it is.
  expect(await client.handle("evt:sql-D-1:note-order").result({ timeout: "10s" })).toEqual({ orderId: "D-1", amount: "lots" });
  const event = (await client.events.get("sql-D-1"))!;
  expect(event.runs.find((r) => r.workflowName === "charge-order")).toMatchObject({ status: "failed" });
});

test("emit() in SQL and client.emit derive the same run for an event id, even when the id is hashed", async () => {
  const eventId = `E-${"7".repeat(120)}`;
  await db.sql(`SELECT ${s}.emit('order.created', '{"orderId": "E-1", "amount": 5}', $1)`, [eventId]);
  const fromSql = (await client.events.get(eventId))!.runs.map((r) => r.runId).sort();
  const again = await client.emit("order.created", { orderId: "E-1", amount: 5 }, { id: eventId });
  expect(again.duplicate).toBe(true);
  expect(again.runs.map((r) => r.id).sort()).toEqual(fromSql);
  const hashed = fromSql.find((id) => !id!.includes(":note-order") && !id!.includes(":charge-order"))!;
  expect(hashed).toMatch(/^evt:[0-9a-f]{64}$/);
  expect(await client.handle(hashed).result({ timeout: "10s" })).toBe("audited");
});

test("bad events are refused with a clear error and store nothing", async () => {
  const before = await runCount();
  await expect(client.emit("no spaces allowed", {})).rejects.toThrow(ValidationError);
  await expect(client.emit("order.created", {}, { id: "bad id" })).rejects.toThrow(/event id "bad id" is invalid/);
  await expect(client.emit("order.created", { at: 1n })).rejects.toThrow(/not JSON-serialisable: a BigInt/);
  await expect(client.emit("order.refunded", { orderId: "A-1" }, { id: "evt-A-1" })).rejects.toThrow(/already emitted as event "order.created"/);
  await expect(db.sql(`SELECT ${s}.emit('bad name!', '{}', 'x')`)).rejects.toThrow(/event name 'bad name!' is invalid/);
  await expect(db.sql(`SELECT ${s}.emit('order.created', '{}', 'bad id')`)).rejects.toThrow(/event id 'bad id' is invalid/);
  expect(await runCount()).toBe(before);
  expect(() => workflow({ name: "bad-trigger", on: "has space" }, async () => undefined)).toThrow(/event name "has space" is invalid/);
});

test("an event no workflow listens to is kept, with nothing started", async () => {
  const result = await client.emit("invoice.paid", { invoice: 7 }, { id: "evt-inv-7" });
  expect(result).toMatchObject({ eventId: "evt-inv-7", runs: [], invalid: [], duplicate: false });
  expect(await client.events.get("evt-inv-7")).toMatchObject({ name: "invoice.paid", payload: { invoice: 7 }, runs: [] });
});

test("reprise emit starts the runs and reprise events list shows them; bad input exits non-zero with one line", async () => {
  const emitted = await cli("emit", "order.refunded", '{"orderId":"F-1"}', "--id", "evt-F-1");
  expect(emitted.err).toBe("");
  expect(emitted.code).toBe(0);
  expect(emitted.out).toBe("event evt-F-1\n  started evt:evt-F-1:note-order");
  await client.handle("evt:evt-F-1:note-order").result({ timeout: "10s" });

  const listed = await cli("events", "list", "--name", "order.refunded");
  expect(listed.code).toBe(0);
  const [header, line] = listed.out.split("\n");
  expect(header).toMatch(/^id\s+name\s+emitted\s+from\s+payload\s+runs$/);
  expect(line).toMatch(/^evt-F-1\s+order\.refunded\s+\S+\s+client\s+\{"orderId":"F-1"\}\s+evt:evt-F-1:note-order completed$/);
  const json = JSON.parse((await cli("events", "list", "--name", "order.refunded", "--json")).out) as { id: string; runs: { runId: string }[] }[];
  expect(json[0]).toMatchObject({ id: "evt-F-1", runs: [{ runId: "evt:evt-F-1:note-order", status: "completed" }] });

  const refused = await cli("emit", "order.created", '{"orderId":"G-1"}', "--id", "evt-G-1");
  expect(refused.code).toBe(1);
  expect(refused.out).toContain('refused charge-order: invalid input of workflow "charge-order": amount');
  expect(refused.err).toBe("reprise: 1 workflow(s) refused the payload of event evt-G-1");

  for (const [args, code, message] of [
    [["emit"], 2, /usage: reprise emit <name>/],
    [["emit", "order.created", "{not json"], 2, /the payload is not valid JSON/],
    [["emit", "bad name", "{}"], 1, /event name "bad name" is invalid/],
    [["events", "frobnicate"], 2, /usage: reprise events/],
  ] as const) {
    const result = await cli(...args);
    expect(result.code, args.join(" ")).toBe(code);
    expect(result.err.split("\n"), args.join(" ")).toHaveLength(1);
    expect(result.err).toMatch(message);
  }
});
