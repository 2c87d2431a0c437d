import { CircuitOpenError, Client, StepFailedError, circuitBreaker, workflow } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";
import { sleep } from "../../../test-support/wait.js";

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
const client = new Client({ store, migrate: false });
beforeAll(() => store.migrate());
afterAll(() => store.close());

test("a breaker opens after failureThreshold consecutive failures, shared by every worker, and fails calls fast", async () => {
  const payments = circuitBreaker({ name: "payments-api", failureThreshold: 3, resetAfter: "600ms" });
  let calls = 0;
  let healthy = false;
  const charge = workflow({ name: "charge" }, async (ctx) => {
    try {
      return await ctx.step(
        "charge",
        () => {
          calls++;
          if (!healthy) throw new Error("503 from payments");
          return "charged";
        },
        { breaker: payments, retry: { maxAttempts: 1 } },
      );
    } catch (error) {
      if (error instanceof StepFailedError) return `failed: ${error.cause.name}`;
      throw error;
    }
  });
  const workers = [1, 2].map(() => new Worker({ ...db.connection, workflows: [charge], concurrency: 1, pollInterval: "30ms", logger: silentLogger, migrate: false }));
  await Promise.all(workers.map((w) => w.start()));
  try {
    // Three failures, one after the other, open it.
    for (let i = 0; i < 3; i++) expect(await client.run(charge, undefined, { timeout: "10s" })).toBe("failed: Error");
    expect(calls).toBe(3);
    expect((await store.breakers()).find((b) => b.name === "payments-api")).toMatchObject({ state: "open", failures: 3 });
    // Open: calls fail fast, without the function being called, on either worker.
    const fast = await Promise.all([1, 2, 3, 4].map(() => client.run(charge, undefined, { timeout: "10s" })));
    expect(fast).toEqual(Array(4).fill("failed: CircuitOpenError"));
    expect(calls).toBe(3);
    // After resetAfter, one trial goes through; it fails, so the breaker opens again.
    await sleep(700);
    expect(await client.run(charge, undefined, { timeout: "10s" })).toBe("failed: Error");
    expect(calls).toBe(4);
    expect(await client.run(charge, undefined, { timeout: "10s" })).toBe("failed: CircuitOpenError");
    // Next trial succeeds: closed again, and calls go through.
    await sleep(700);
    healthy = true;
    expect(await client.run(charge, undefined, { timeout: "10s" })).toBe("charged");
    expect((await store.breakers()).find((b) => b.name === "payments-api")).toMatchObject({ state: "closed", failures: 0 });
    expect(await client.run(charge, undefined, { timeout: "10s" })).toBe("charged");
    expect(calls).toBe(6);
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
});

test("a step refused by an open breaker is retried after the remaining cool-down", async () => {
  const flaky = circuitBreaker({ name: "flaky-api", failureThreshold: 1, resetAfter: "300ms" });
  let calls = 0;
  const wf = workflow({ name: "wait-for-breaker" }, async (ctx) => {
    await ctx.step("trip", () => {
      throw new Error("down");
    }, { breaker: flaky, retry: { maxAttempts: 1 } }).catch(() => undefined);
    return ctx.step("call", () => ++calls, { breaker: flaky, retry: { maxAttempts: 3, initialDelay: "10s" } });
  });
  const worker = new Worker({ ...db.connection, workflows: [wf], pollInterval: "30ms", logger: silentLogger, migrate: false });
  await worker.start();
  try {
    const handle = await client.start(wf, undefined);
    expect(await handle.result({ timeout: "10s" })).toBe(1);
    const failed = (await handle.history()).filter((e) => e.kind === "StepAttemptFailed");
    expect(failed).toHaveLength(1);
    const payload = failed[0]!.payload as { error: { name: string }; delayMs: number };
    expect(payload.error.name).toBe(new CircuitOpenError("x", 1).name);
    // The delay is the breaker's remaining cool-down, not the policy's 10 s.
    expect(payload.delayMs).toBeLessThanOrEqual(300);
  } finally {
    await worker.stop();
  }
});
