import { Client, NonRetryableError, WorkflowFailedError, workflow } from "@reprise/sdk";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";

// What a step throws, and what a workflow names its calls, end up in the log. A NUL or a
// lone surrogate there used to make Postgres refuse the run's last write: the run stayed
// leased, and every lease the step that must run once ran again.

const db = useTestSchema();
const client = new Client(db.connection);
const calls = new Map<string, number>();
const count = (key: string) => calls.set(key, (calls.get(key) ?? 0) + 1);

const declined = workflow({ name: "declined-nul" }, async (ctx) =>
  ctx.step("charge", () => {
    count("charge");
    throw new NonRetryableError("declined \u0000 by the bank");
  }),
);
const nulName = workflow({ name: "nul-name" }, async (ctx) => ctx.step("charge\u0000", () => count("nul-name")));
const surrogateName = workflow({ name: "surrogate-name" }, async (ctx) => ctx.step("charge \ud800", () => count("surrogate-name")));
const flaky = workflow({ name: "flaky-nul", retry: { maxAttempts: 3, initialDelay: "10ms" } }, async (ctx) =>
  ctx.step("fetch", ({ attempt }) => {
    count("fetch");
    if (attempt === 1) throw new Error("connection reset \u0000 by peer \udc00");
    return "fetched";
  }),
);

let worker: Worker;
beforeAll(async () => {
  worker = new Worker({ ...db.connection, workflows: [declined, nulName, surrogateName, flaky], pollInterval: "50ms", leaseDuration: "1s", logger: silentLogger });
  await worker.start();
});
afterAll(async () => {
  await worker.stop();
  await client.close();
});

/** The run's end, and that no lease later it is still ended the same way (no re-run). */
async function settled(runId: string): Promise<unknown> {
  const error = await client.result(runId, { timeout: "10s" }).catch((e: unknown) => e);
  await new Promise((r) => setTimeout(r, 1_500));
  return error;
}

test("a non-retryable error whose message holds a NUL fails the run once; the step never runs again", async () => {
  const handle = await client.start(declined, undefined);
  const error = await settled(handle.id);
  expect(error).toBeInstanceOf(WorkflowFailedError);
  expect((await handle.status()).status).toBe("failed");
  expect((await handle.status()).error).toMatchObject({ name: "StepFailedError", cause: { name: "NonRetryableError", message: "declined \uFFFD by the bank" } });
  expect(calls.get("charge")).toBe(1);
});

test("a step name with a NUL or a lone surrogate fails the run with a TypeError before the step runs", async () => {
  for (const wf of [nulName, surrogateName]) {
    const handle = await client.start(wf, undefined);
    const error = await settled(handle.id);
    expect((error as WorkflowFailedError).cause).toMatchObject({ name: "TypeError", message: expect.stringContaining("cannot be stored") });
    expect(calls.get(wf.name)).toBeUndefined();
  }
});

test("a transient error whose message holds a NUL is retried like any other", async () => {
  const handle = await client.start(flaky, undefined);
  expect(await handle.result({ timeout: "10s" })).toBe("fetched");
  expect(calls.get("fetch")).toBe(2);
  const failed = (await handle.history()).find((e) => e.kind === "StepAttemptFailed");
  expect(failed?.payload).toMatchObject({ error: { message: "connection reset \uFFFD by peer \uFFFD" } });
});
