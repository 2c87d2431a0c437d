import { Client, NonDeterminismError, WorkflowFailedError, workflow, type Workflow } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";
import { waitFor } from "../../../test-support/wait.js";

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
const client = new Client({ store, migrate: false });
beforeAll(() => store.migrate());
afterAll(() => store.close());

/** Runs v1 until it waits for a signal, then lets v2 (the "deploy") resume it. */
async function deploy(v1: Workflow<any, any>, v2: Workflow<any, any>, id: string) {
  const w1 = new Worker({ ...db.connection, workflows: [v1], pollInterval: "50ms", logger: silentLogger, migrate: false });
  await w1.start();
  await client.start(v1, undefined, { id });
  await waitFor(async () => (await client.status(id)).status === "waiting", { what: "v1 to wait for its signal" });
  await w1.stop();
  const before = await client.history(id);
  const w2 = new Worker({ ...db.connection, workflows: [v2], pollInterval: "50ms", logger: silentLogger, migrate: false });
  await w2.start();
  try {
    await client.signal(id, "go");
    const error = await client
      .handle(id)
      .result({ timeout: "10s" })
      .then(() => undefined, (e: unknown) => e);
    return { before, after: await client.history(id), error };
  } finally {
    await w2.stop();
  }
}

test("renaming a step fails the run with NonDeterminismError naming both names, and appends nothing after the divergence", async () => {
  const v1 = workflow({ name: "rename" }, async (ctx) => {
    await ctx.step("fetch-orders", () => 1);
    await ctx.waitForSignal("go");
    return ctx.step("done", () => 2);
  });
  const v2 = workflow({ name: "rename" }, async (ctx) => {
    await ctx.step("fetch-all-orders", () => 1);
    await ctx.waitForSignal("go");
    return ctx.step("done", () => 2);
  });
  const { before, after, error } = await deploy(v1, v2, "rename-1");
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const cause = (error as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(NonDeterminismError);
  const divergence = cause as NonDeterminismError;
  expect(divergence.runId).toBe("rename-1");
  expect(divergence.position).toBe(0);
  expect(divergence.recorded).toEqual({ kind: "StepCompleted", name: "fetch-orders" });
  expect(divergence.actual).toEqual({ kind: "StepCompleted", name: "fetch-all-orders" });
  expect(divergence.message).toContain("ctx.patched");
  expect((await client.status("rename-1")).status).toBe("failed");
  // Only the failure itself was appended after the recorded events.
  expect(after.slice(0, before.length)).toEqual(before);
  expect(after.slice(before.length).map((e) => e.kind)).toEqual(["RunFailed"]);
});

test("reordering steps is a divergence at the first position that differs", async () => {
  const v1 = workflow({ name: "reorder" }, async (ctx) => {
    await ctx.step("a", () => 1);
    await ctx.step("b", () => 2);
    await ctx.waitForSignal("go");
    return "done";
  });
  const v2 = workflow({ name: "reorder" }, async (ctx) => {
    await ctx.step("b", () => 2);
    await ctx.step("a", () => 1);
    await ctx.waitForSignal("go");
    return "done";
  });
  const { error, before, after } = await deploy(v1, v2, "reorder-1");
  const divergence = (error as WorkflowFailedError).cause as NonDeterminismError;
  expect(divergence).toBeInstanceOf(NonDeterminismError);
  expect(divergence.position).toBe(0);
  expect(divergence.recorded?.name).toBe("a");
  expect(divergence.actual?.name).toBe("b");
  expect(after.slice(before.length).map((e) => e.kind)).toEqual(["RunFailed"]);
});

test("replacing a step with a sleep is a divergence of kind", async () => {
  const v1 = workflow({ name: "kind-change" }, async (ctx) => {
    await ctx.step("a", () => 1);
    await ctx.waitForSignal("go");
    return "done";
  });
  const v2 = workflow({ name: "kind-change" }, async (ctx) => {
    await ctx.sleep(1);
    await ctx.waitForSignal("go");
    return "done";
  });
  const { error } = await deploy(v1, v2, "kind-1");
  const divergence = (error as WorkflowFailedError).cause as NonDeterminismError;
  expect(divergence.recorded).toEqual({ kind: "StepCompleted", name: "a" });
  expect(divergence.actual).toEqual({ kind: "TimerStarted", name: "sleep" });
});
