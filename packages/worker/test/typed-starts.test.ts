import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { Client, UnknownWorkflowError, ValidationError, defineWorkflow, workflow } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";
import { checkout, refund } from "./fixtures/typed/checkout.js";

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
const client = new Client({ store, migrate: false });

// The worker's side: the implementation of the shared definition, typed by it.
const checkoutWorkflow = workflow(checkout, { retry: { maxAttempts: 2 } }, async (ctx, { orderId }) => {
  const total = await ctx.step("price", () => 42);
  return { orderId, total };
});

let worker: Worker;
beforeAll(async () => {
  await store.migrate();
  worker = new Worker({ store, workflows: [checkoutWorkflow], pollInterval: "50ms", logger: silentLogger, migrate: false });
  await worker.start();
});
afterAll(async () => {
  await worker.stop();
  await store.close();
});

test("a service that imports only the definition starts and awaits the workflow, typed; a name no worker declared is an error unless allowed", async () => {
  const service = fileURLToPath(new URL("./fixtures/typed/service.ts", import.meta.url));
  // A process of its own (asynchronously: this one runs the worker meanwhile).
  const result = await promisify(execFile)(process.execPath, ["--import", "tsx", service], {
    env: { ...process.env, DATABASE_URL: db.url, REPRISE_SCHEMA: db.schema },
    encoding: "utf8",
    timeout: 40_000,
  });
  expect(result.stderr).toBe("");
  const seen = JSON.parse(result.stdout.trim()) as { receipt: unknown; unknown: string; queued: string };
  expect(seen.receipt).toEqual({ orderId: "A-1", total: 42 });
  expect(seen.unknown).toMatch(/^unknown workflow "typed-refund": no worker has declared it .* pass \{ allowUndeclared: true \}/);
  expect(seen.queued).toBe("typed-refund-A-1");
});

test("a run of a definition queued before any worker declared it is run by the first worker that implements it", async () => {
  expect((await client.status("typed-refund-A-1")).status).toBe("queued");
  const refunder = new Worker({
    store,
    workflows: [refund.implement(async (ctx, { orderId }) => ({ refunded: await ctx.step("refund", () => orderId === "A-1") }))],
    pollInterval: "50ms",
    logger: silentLogger,
    migrate: false,
  });
  await refunder.start();
  try {
    expect(await client.handle("typed-refund-A-1").result({ timeout: "10s" })).toEqual({ refunded: true });
    // Declared now: a start by the definition needs no opt-in any more.
    expect(await client.run(refund, { orderId: "B-2" }, { timeout: "10s" })).toEqual({ refunded: false });
  } finally {
    await refunder.stop();
  }
});

test("the definition's schema checks the input before anything is stored; the implementation may not redefine the contract", async () => {
  await expect(client.start(checkout, { orderId: "" })).rejects.toThrow(ValidationError);
  const stranger = defineWorkflow<{ n: number }, number>({ name: "typed-never-declared" });
  await expect(client.start(stranger, { n: 1 })).rejects.toThrow(UnknownWorkflowError);
  expect((await client.listRuns({ workflow: "typed-never-declared" })).length).toBe(0);
  expect(() => workflow(checkout, { queue: "elsewhere" } as never, async () => ({ orderId: "x", total: 0 }))).toThrow(/"queue" belongs to its definition/);
});

test("a parent starts a child by its definition and gets its typed result", async () => {
  const parent = workflow({ name: "typed-parent" }, async (ctx) => {
    const receipt = await ctx.child(checkout, { orderId: "C-3" });
    return receipt.total * 2;
  });
  const parents = new Worker({ store, workflows: [parent], pollInterval: "50ms", logger: silentLogger, migrate: false });
  await parents.start();
  try {
    expect(await client.run(parent, undefined, { timeout: "10s" })).toBe(84);
  } finally {
    await parents.stop();
  }
});
