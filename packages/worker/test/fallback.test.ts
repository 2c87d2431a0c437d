import { Client, StepFailedError, WorkflowTimeoutError, replay, workflow } from "@reprise/sdk";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";
import { shapeOf } from "../../../test-support/history.js";
import { waitFor } from "../../../test-support/wait.js";

const db = useTestSchema();
const client = new Client(db.connection);

let calls = 0;
let fresh = false;

/** Graceful degradation: when the live source fails for good, serve the cached copy. */
const prices = workflow({ name: "prices" }, async (ctx, input: { symbol: string }) => {
  let source: string;
  let quote: number;
  try {
    quote = await ctx.step(
      "extract-new",
      () => {
        calls++;
        if (!fresh) throw new Error("feed unavailable");
        return 101.5;
      },
      { retry: { maxAttempts: 2, initialDelay: "20ms" } },
    );
    source = "live";
  } catch (error) {
    if (!(error instanceof StepFailedError)) throw error;
    ctx.log.warn("live feed failed, using the cache", { attempts: error.attempts, cause: error.cause.message });
    quote = await ctx.step("load-cached", () => (calls++, 99.25));
    source = `cache (${error.cause.message} after ${error.attempts} attempts)`;
  }
  return ctx.step("publish", () => ({ symbol: input.symbol, quote, source }));
});

const timesOut = workflow({ name: "times-out", timeout: "300ms" }, async (ctx) => {
  await ctx.step("a", () => 1);
  await ctx.sleep("1h");
});

let worker: Worker;
beforeAll(async () => {
  worker = new Worker({ ...db.connection, workflows: [prices, timesOut], pollInterval: "50ms", logger: silentLogger });
  await worker.start();
});
afterAll(async () => {
  await worker.stop();
  await client.close();
});

test("a workflow that catches StepFailedError and falls back completes, and replaying its history gives the same output", async () => {
  fresh = false;
  const handle = await client.start(prices, { symbol: "ACME" });
  const output = await handle.result({ timeout: "20s" });
  expect(output).toEqual({ symbol: "ACME", quote: 99.25, source: "cache (feed unavailable after 2 attempts)" });
  const history = await handle.history();
  expect(shapeOf(history)).toEqual([
    "RunStarted",
    "StepAttemptFailed:extract-new",
    "StepFailed:extract-new",
    "StepCompleted:load-cached",
    "StepCompleted:publish",
    "RunCompleted",
  ]);

  const before = calls;
  const report = await replay(prices, history);
  expect(report).toMatchObject({ outcome: "completed", output });
  expect(report.events.map((e) => e.seq)).toEqual(history.map((e) => e.seq));
  expect(calls, "replay calls no step function").toBe(before);
  // And again, from the JSON an export would hold.
  expect(await replay(prices, JSON.parse(JSON.stringify(history)))).toMatchObject({ outcome: "completed", output });
});

test("replay of a run that was retried after a failure follows the retry", async () => {
  fresh = false;
  const strict = workflow({ name: "prices-strict" }, async (ctx) => ctx.step("extract-new", () => {
    if (!fresh) throw new Error("feed unavailable");
    return 101.5;
  }, { retry: { maxAttempts: 1 } }));
  const w = new Worker({ ...db.connection, workflows: [strict], pollInterval: "50ms", logger: silentLogger, migrate: false });
  await w.start();
  try {
    const handle = await client.start(strict, undefined);
    await expect(handle.result({ timeout: "20s" })).rejects.toThrow(/feed unavailable/);
    const failed = await replay(strict, await handle.history());
    expect(failed.outcome).toBe("failed");
    expect(failed.error).toBeInstanceOf(StepFailedError);
    fresh = true;
    await client.retry(handle.id);
    expect(await handle.result({ timeout: "20s" })).toBe(101.5);
    expect(await replay(strict, await handle.history())).toMatchObject({ outcome: "completed", output: 101.5 });
  } finally {
    await w.stop();
  }
});

test("replay of a run that timed out while it slept reports the WorkflowTimeoutError", async () => {
  const handle = await client.start(timesOut, undefined);
  await waitFor(async () => (await handle.status()).status === "failed", { what: "the run to time out" });
  const report = await replay(timesOut, await handle.history());
  expect(report.outcome).toBe("failed");
  expect(report.error).toBeInstanceOf(WorkflowTimeoutError);
});
