import { fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { CancelledError, ChildFailedError, Client, WorkflowFailedError, workflow } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";
import { waitFor } from "../../../test-support/wait.js";
// @ts-expect-error a plain JS fixture, shared with the child process
import { childWorkflows } from "./fixtures/child-workflows.mjs";

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
const client = new Client({ store, migrate: false });

const reserve = workflow({ name: "reserve" }, async (ctx, input: { item: string }) => {
  if (input.item === "unobtainium") throw new TypeError(`no stock for ${input.item}`);
  return ctx.step("reserve", () => `reserved ${input.item}`);
});

const checkout = workflow({ name: "checkout" }, async (ctx, input: { items: string[] }) => {
  try {
    return { reserved: await Promise.all(input.items.map((item) => ctx.child(reserve, { item }))) };
  } catch (error) {
    if (!(error instanceof ChildFailedError)) throw error;
    return {
      failed: { name: error.name, childId: error.childId, workflow: error.workflowName, cause: { name: error.cause.name, message: error.cause.message } },
    };
  }
});

const careless = workflow({ name: "careless" }, async (ctx) => ctx.child(reserve, { item: "unobtainium" }));

let worker: Worker;
beforeAll(async () => {
  await store.migrate();
  worker = new Worker({ store, workflows: [reserve, checkout, careless], pollInterval: "100ms", logger: silentLogger, migrate: false });
  await worker.start();
});
afterAll(async () => {
  await worker.stop();
  await store.close();
});

const childrenOf = (parentId: string) =>
  db.sql<{ id: string; workflow: string; status: string }>(`SELECT id, workflow, status FROM "${db.schema}".runs WHERE parent_id = $1 ORDER BY id`, [parentId]);

test("children run to completion and return their results to the parent; RunInfo.parentId links them", async () => {
  const handle = await client.start(checkout, { items: ["apples", "pears", "plums"] }, { id: "checkout-ok" });
  expect(await handle.result({ timeout: "15s" })).toEqual({ reserved: ["reserved apples", "reserved pears", "reserved plums"] });
  const children = await childrenOf("checkout-ok");
  // One child per position, with ids derived from the parent's id and the position.
  expect(children.map((c) => c.id)).toEqual(["checkout-ok-0", "checkout-ok-1", "checkout-ok-2"]);
  for (const child of children) {
    const info = await client.status(child.id);
    expect(info).toMatchObject({ workflowName: "reserve", status: "completed", parentId: "checkout-ok" });
  }
  expect((await handle.status()).parentId).toBeUndefined();
  const kinds = (await handle.history()).map((e) => e.kind);
  expect(kinds.filter((k) => k === "ChildStarted")).toHaveLength(3);
  expect(kinds.filter((k) => k === "ChildCompleted")).toHaveLength(3);
});

test("a child's failure is thrown in the parent as ChildFailedError, with the child's error as its cause", async () => {
  const handle = await client.start(checkout, { items: ["apples", "unobtainium"] }, { id: "checkout-bad" });
  expect(await handle.result({ timeout: "15s" })).toEqual({
    failed: {
      name: "ChildFailedError",
      childId: "checkout-bad-1",
      workflow: "reserve",
      cause: { name: "TypeError", message: "no stock for unobtainium" },
    },
  });
  expect(await client.status("checkout-bad-1")).toMatchObject({ status: "failed", parentId: "checkout-bad", error: { name: "TypeError" } });

  // Not caught, it fails the parent: the run's error is the ChildFailedError, caused by the child's.
  const uncaught = await client.run(careless, undefined, { id: "careless-1", timeout: "15s" }).catch((e: unknown) => e);
  expect(uncaught).toBeInstanceOf(WorkflowFailedError);
  const cause = (uncaught as WorkflowFailedError).cause as ChildFailedError;
  expect(cause).toBeInstanceOf(ChildFailedError);
  expect(cause.childId).toBe("careless-1-0");
  expect(cause.cause).toMatchObject({ name: "TypeError", message: "no stock for unobtainium" });
});

test("a worker killed between creating a child and recording it does not start a second child", async () => {
  await db.sql(`CREATE TABLE "${db.schema}".executions (run_id text)`);
  const { order, provision } = childWorkflows(db.pool, db.schema);
  await client.start(order, { item: "router" }, { id: "order-crash" });

  const doomed = fork(fileURLToPath(new URL("./fixtures/child-crash-worker.mjs", import.meta.url)), {
    env: { ...process.env, DATABASE_URL: db.url, REPRISE_SCHEMA: db.schema },
    stdio: ["ignore", "ignore", "ignore", "ipc"],
  });
  const [message] = await once(doomed, "message");
  expect(message).toBe("child-created");
  doomed.kill("SIGKILL");
  await once(doomed, "exit");

  // The child exists; the parent's log does not know it.
  expect(await childrenOf("order-crash")).toEqual([{ id: "order-crash-1", workflow: "provision", status: "queued" }]);
  expect((await client.history("order-crash")).map((e) => e.kind)).toEqual(["RunStarted", "StepCompleted"]);

  const survivor = new Worker({ store, workflows: [order, provision], leaseDuration: "1s", pollInterval: "100ms", logger: silentLogger, migrate: false });
  await survivor.start();
  try {
    expect(await client.handle("order-crash").result({ timeout: "20s" })).toBe("provisioned ROUTER");
  } finally {
    await survivor.stop();
  }
  expect(await childrenOf("order-crash")).toEqual([{ id: "order-crash-1", workflow: "provision", status: "completed" }]);
  expect(await db.sql(`SELECT run_id FROM "${db.schema}".executions`)).toEqual([{ run_id: "order-crash-1" }]);
  const started = (await client.history("order-crash")).filter((e) => e.kind === "ChildStarted");
  expect(started.map((e) => e.payload)).toEqual([{ childId: "order-crash-1", workflow: "provision" }]);
});

test("cancelling a parent cancels its unfinished children and theirs, whether a worker holds them or they sleep", async () => {
  const aborted: string[] = [];
  const hold = (ctx: { runId: string }) => (stepCtx: { signal: AbortSignal }) =>
    new Promise<never>((_, reject) =>
      stepCtx.signal.addEventListener("abort", () => {
        aborted.push(ctx.runId);
        reject(stepCtx.signal.reason as Error);
      }),
    );
  const sleepy = workflow({ name: "sleepy" }, async (ctx) => ctx.sleep("1h"));
  const busy = workflow({ name: "busy" }, async (ctx) => ctx.step("work", hold(ctx)));
  const middle = workflow({ name: "middle" }, async (ctx) => ctx.child(sleepy, undefined));
  const parent = workflow({ name: "tree" }, async (ctx) =>
    Promise.all([ctx.child(busy, undefined), ctx.child(middle, undefined), ctx.step("own-work", hold(ctx))]),
  );
  const w = new Worker({ store, workflows: [sleepy, busy, middle, parent], pollInterval: "100ms", suspendAfter: "200ms", logger: silentLogger, migrate: false });
  await w.start();
  try {
    const handle = await client.start(parent, undefined, { id: "tree" });
    const expected = { tree: "running", "tree-0": "running", "tree-1": "waiting", "tree-1-0": "sleeping" };
    const statuses = async () =>
      Object.fromEntries(
        (await db.sql<{ id: string; status: string }>(`SELECT id, status FROM "${db.schema}".runs WHERE id LIKE 'tree%' ORDER BY id`)).map((r) => [r.id, r.status]),
      );
    await waitFor(async () => JSON.stringify(await statuses()) === JSON.stringify(expected), { what: "the tree of runs to be busy, waiting and sleeping" });

    await client.cancel(handle.id, "order withdrawn");
    await waitFor(async () => Object.values(await statuses()).every((s) => s === "cancelled"), { what: "every run of the tree to be cancelled" });
    const error = await handle.result({ timeout: "5s" }).catch((e: unknown) => e);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledError);
    // The steps in flight saw their signal aborted: in the parent and in the child a worker held.
    await waitFor(() => aborted.length === 2, { what: "both running steps to be aborted" });
    expect(aborted.sort()).toEqual(["tree", "tree-0"]);
    for (const id of ["tree", "tree-0", "tree-1", "tree-1-0"]) {
      expect((await client.history(id)).at(-1)!.kind, id).toBe("RunCancelled");
    }
  } finally {
    await w.stop();
  }
});
