import pg from "pg";
import { CancelledError, Client, WorkflowFailedError, workflow } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";
import { shapeOf } from "../../../test-support/history.js";
import { sleep, waitFor } from "../../../test-support/wait.js";

const db = useTestSchema();
const client = new Client(db.connection);

const seen = { stepStarted: 0, stepReason: undefined as unknown, ctxReason: undefined as unknown, after: 0, bodies: new Map<string, number>() };

const longTask = workflow({ name: "long-task" }, async (ctx) => {
  ctx.signal.addEventListener("abort", () => (seen.ctxReason = ctx.signal.reason));
  await ctx.step("work", ({ signal }) => {
    seen.stepStarted++;
    return new Promise((_, reject) =>
      signal.addEventListener("abort", () => {
        seen.stepReason = signal.reason;
        reject(signal.reason as Error);
      }),
    );
  });
  return ctx.step("after", () => seen.after++);
});

/** Counts how often its body runs (each claim replays it once). */
const napper = workflow({ name: "napper" }, async (ctx) => {
  seen.bodies.set(ctx.runId, (seen.bodies.get(ctx.runId) ?? 0) + 1);
  await ctx.step("before", () => 1);
  await ctx.sleep("1h");
  return ctx.step("after", () => seen.after++);
});

const child = workflow({ name: "cancel-child" }, async (ctx) => {
  await ctx.sleep("1h");
  return "woke";
});
const parent = workflow({ name: "cancel-parent" }, async (ctx) => ctx.child(child, undefined, { id: `${ctx.runId}-child` }));

let worker: Worker;
beforeAll(async () => {
  worker = new Worker({ ...db.connection, workflows: [longTask, napper, parent, child], pollInterval: "50ms", logger: silentLogger });
  await worker.start();
});
afterAll(async () => {
  await worker.stop();
  await client.close();
});

async function expectCancelled(runId: string, reason: string) {
  const error = await client.result(runId, { timeout: "10s" }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const cause = (error as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(CancelledError);
  expect(cause.message).toBe(`the run was cancelled: ${reason}`);
  const info = await client.status(runId);
  expect(info.status).toBe("cancelled");
  expect(info.error).toMatchObject({ name: "CancelledError", code: "CANCELLED" });
}

test("cancel reaches a running step's signal at once, and the run ends cancelled", async () => {
  const handle = await client.start(longTask, undefined);
  await waitFor(() => seen.stepStarted === 1, { what: "the step to start" });
  const sent = Date.now();
  await handle.cancel("user asked");
  await waitFor(() => seen.stepReason !== undefined, { what: "the step's signal to be aborted" });
  // NOTIFY delivers it well before the next lease renewal (10 s with the default 30 s lease).
  expect(Date.now() - sent).toBeLessThan(2000);
  expect(seen.stepReason).toBeInstanceOf(CancelledError);
  expect(seen.ctxReason).toBe(seen.stepReason);
  await expectCancelled(handle.id, "user asked");
  expect(seen.after).toBe(0);
  expect(shapeOf(await handle.history())).toEqual(["RunStarted", "CancelRequested", "RunCancelled"]);
  expect((await handle.history()).at(-1)!.payload).toEqual({ reason: "user asked" });
});

test("without LISTEN, cancellation still reaches the step within a heartbeat", async () => {
  // A store on a pool of our own has no connection string, so its worker cannot LISTEN.
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  const store = createStore({ pool, schema: db.schema });
  const deaf = workflow({ name: "deaf" }, async (ctx) =>
    ctx.step("work", ({ signal }) => new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason as Error)))),
  );
  const w = new Worker({ store, workflows: [deaf], leaseDuration: "3s", heartbeatInterval: "300ms", pollInterval: "50ms", logger: silentLogger, migrate: false });
  await w.start();
  try {
    const handle = await client.start(deaf, undefined);
    await waitFor(async () => (await handle.status()).status === "running", { what: "the run to be claimed" });
    await sleep(100);
    const sent = Date.now();
    await handle.cancel("no notify");
    await expectCancelled(handle.id, "no notify");
    expect(Date.now() - sent).toBeLessThan(300 + 700);
  } finally {
    await w.stop();
    await store.close();
    await pool.end();
  }
});

test("a queued run is cancelled without being claimed", async () => {
  const handle = await client.start(longTask, undefined, { delay: "1h" });
  await handle.cancel("not needed any more");
  // Cancelled in the database directly: no worker had to take it.
  expect((await handle.status()).status).toBe("cancelled");
  await expectCancelled(handle.id, "not needed any more");
  const [row] = await db.sql<{ lease_owner: string | null; available_at: Date | null }>(
    `SELECT lease_owner, available_at FROM "${db.schema}".runs WHERE id = $1`,
    [handle.id],
  );
  expect(row).toEqual({ lease_owner: null, available_at: null });
  expect(shapeOf(await handle.history())).toEqual(["RunStarted", "CancelRequested", "RunCancelled"]);
});

test("a sleeping run is cancelled without being claimed", async () => {
  const handle = await client.start(napper, undefined);
  await waitFor(async () => (await handle.status()).status === "sleeping", { what: "the run to sleep" });
  await handle.cancel("sleeping too long");
  expect((await handle.status()).status).toBe("cancelled");
  await expectCancelled(handle.id, "sleeping too long");
  await sleep(300);
  // Its body ran once (before it slept), never again: no worker claimed it to cancel it.
  expect(seen.bodies.get(handle.id)).toBe(1);
  expect(shapeOf(await handle.history())).toEqual(["RunStarted", "StepCompleted:before", "TimerStarted:sleep", "CancelRequested", "RunCancelled"]);
  // Cancelling again changes nothing.
  await handle.cancel("twice");
  expect(shapeOf(await handle.history())).toHaveLength(5);
});

test("cancelling a parent cancels its unfinished child", async () => {
  const handle = await client.start(parent, undefined);
  const childId = `${handle.id}-child`;
  await waitFor(async () => (await client.status(childId).catch(() => undefined))?.status === "sleeping", { what: "the child to sleep" });
  await waitFor(async () => (await handle.status()).status === "waiting", { what: "the parent to wait for its child" });
  await handle.cancel("parent cancelled");
  await expectCancelled(handle.id, "parent cancelled");
  await expectCancelled(childId, "parent cancelled");
});
