import { Client, NonRetryableError, workflow } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";
import { waitFor } from "../../../test-support/wait.js";

// A run suspends when every branch waits on something only a later claim can answer. A
// branch abandoned by Promise.all/race keeps its wait registered, so the work other
// branches still do (a flush, a failure hook) must count as progress, or the run would
// suspend in the middle of it, with the abandoned wait's wake-up time.

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
const client = new Client({ store, migrate: false });

let hookCalls = 0;
const fallback = workflow({ name: "fallback-after-all" }, async (ctx) => {
  try {
    await Promise.all([
      ctx.step("charge", () => {
        throw new NonRetryableError("card declined");
      }),
      ctx.waitForSignal("shipped", { timeout: "1h" }),
    ]);
    return "shipped";
  } catch {
    return ctx.step("refund", () => "refunded");
  }
});
const raced = workflow({ name: "signal-or-sleep" }, async (ctx) => {
  const winner = await Promise.race([ctx.waitForSignal<string>("approve"), ctx.sleep("1h").then(() => "timeout")]);
  return ctx.step("after", () => `done:${winner}`);
});
const either = workflow({ name: "either-signal" }, async (ctx) => {
  const winner = await Promise.race([ctx.waitForSignal<string>("approve"), ctx.waitForSignal<string>("reject")]);
  return ctx.step("apply", () => `applied:${winner}`);
});
const hooked = workflow({ name: "hook-beside-a-wait" }, async (ctx) => {
  const [charged] = await Promise.all([
    ctx
      .step(
        "charge",
        () => {
          throw new NonRetryableError("declined");
        },
        { onFailure: async () => void (hookCalls++, await new Promise((r) => setTimeout(r, 300))) },
      )
      .catch(() => "fell back"),
    ctx.waitForSignal("go"),
  ]);
  return charged;
});

let worker: Worker;
beforeAll(async () => {
  await store.migrate();
  worker = new Worker({ store, workflows: [fallback, raced, either, hooked], pollInterval: "100ms", logger: silentLogger, migrate: false });
  await worker.start();
});
afterAll(async () => {
  await worker.stop();
  await store.close();
});

test("a workflow that falls back after a failed Promise.all goes on at once, not at the abandoned wait's timeout", async () => {
  const handle = await client.start(fallback, undefined);
  expect(await handle.result({ timeout: "10s" })).toBe("refunded");
});

for (const wf of [raced, either]) {
  test(`a signal that wins a race lets the run go on (${wf.name})`, async () => {
    const handle = await client.start(wf, undefined);
    await waitFor(async () => (await handle.status()).status === "waiting", { what: "the run to wait" });
    await client.signal(handle.id, "approve", "yes");
    expect(await handle.result({ timeout: "10s" })).toMatch(/:yes$/);
  });
}

test("a step's failure hook that runs while another branch waits runs once", async () => {
  const handle = await client.start(hooked, undefined);
  await waitFor(async () => (await handle.status()).status === "waiting", { what: "the run to wait" });
  await client.signal(handle.id, "go");
  expect(await handle.result({ timeout: "10s" })).toBe("fell back");
  expect(hookCalls).toBe(1);
  const hooks = (await handle.history()).filter((e) => e.kind === "HookCompleted");
  expect(hooks).toHaveLength(1);
});
