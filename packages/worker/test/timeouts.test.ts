import { Client, StepFailedError, StepTimeoutError, WorkflowFailedError, WorkflowTimeoutError, workflow, type FailureInfo, type HistoryEvent, type StepAttemptFailedPayload } from "@reprise/sdk";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";
import { attemptsOf, payloadsOf, shapeOf } from "../../../test-support/history.js";
import { sleep, waitFor } from "../../../test-support/wait.js";

const db = useTestSchema();
const client = new Client(db.connection);

/** A timer may fire this much late on a loaded machine (never early). */
const LATE_MS = 400;

/** Resolves with `value` after `ms` whatever happens to the signal; records the abort reason. */
function ignoreAbort<T>(signal: AbortSignal, ms: number, value: T, reasons: unknown[]): Promise<T> {
  signal.addEventListener("abort", () => reasons.push(signal.reason), { once: true });
  return new Promise((resolve) => setTimeout(() => resolve(value), ms));
}

/** Rejects with the abort reason when the signal aborts; records it. */
function untilAborted(signal: AbortSignal, reasons: unknown[]): Promise<never> {
  return new Promise((_, reject) =>
    signal.addEventListener(
      "abort",
      () => {
        reasons.push(signal.reason);
        reject(signal.reason as Error);
      },
      { once: true },
    ),
  );
}

const stepReasons: unknown[] = [];
const slowThenFast = workflow({ name: "slow-then-fast" }, async (ctx) =>
  ctx.step(
    "slow",
    ({ attempt, signal }) => (attempt === 1 ? ignoreAbort(signal, 600, "late result of attempt 1", stepReasons) : `attempt ${attempt}`),
    { timeout: "150ms", retry: { maxAttempts: 3, initialDelay: "10ms", jitter: 0 } },
  ),
);

const alwaysSlow = workflow({ name: "always-slow" }, async (ctx) =>
  ctx.step("hangs", ({ signal }) => untilAborted(signal, stepReasons), { timeout: "100ms", retry: { maxAttempts: 2, initialDelay: "10ms" } }),
);

const runHooks: FailureInfo[] = [];
const runReasons: unknown[] = [];
const onFailure = (f: FailureInfo) => void runHooks.push(f);

const busy = workflow({ name: "busy-past-deadline", timeout: "500ms", onFailure }, async (ctx) => {
  await ctx.step("quick", () => 1);
  return ctx.step("endless", ({ signal }) => untilAborted(signal, runReasons));
});

const sleeper = workflow({ name: "sleeps-past-deadline", timeout: "1500ms", onFailure }, async (ctx) => {
  await ctx.step("before", () => 1);
  await ctx.sleep("1h");
  return ctx.step("after", () => 2);
});

const waiter = workflow({ name: "waits-past-deadline", timeout: "1500ms", onFailure }, async (ctx) => {
  await ctx.step("before", () => 1);
  return ctx.waitForSignal<string>("approval");
});

const retrier = workflow({ name: "retries-past-deadline", timeout: "1500ms", onFailure }, async (ctx) =>
  ctx.step(
    "flaky",
    () => {
      throw new Error("down for maintenance");
    },
    { retry: { delays: ["1h"], jitter: 0 } },
  ),
);

let worker: Worker;
beforeAll(async () => {
  worker = new Worker({
    ...db.connection,
    workflows: [slowThenFast, alwaysSlow, busy, sleeper, waiter, retrier],
    pollInterval: "50ms",
    logger: silentLogger,
  });
  await worker.start();
});
afterAll(async () => {
  await worker.stop();
  await client.close();
});

const at = (history: readonly HistoryEvent[], kind: string) => history.find((e) => e.kind === kind)!.createdAt.getTime();

test("a step attempt that runs past its timeout has its signal aborted with StepTimeoutError, is retried, and its late result is discarded", async () => {
  stepReasons.length = 0;
  const handle = await client.start(slowThenFast, undefined);
  expect(await handle.result({ timeout: "20s" })).toBe("attempt 2");
  expect(stepReasons).toHaveLength(1);
  expect(stepReasons[0]).toBeInstanceOf(StepTimeoutError);
  const history = await handle.history();
  const [failed] = payloadsOf<StepAttemptFailedPayload>(history, "StepAttemptFailed");
  expect(failed).toMatchObject({ attempt: 1, error: { name: "StepTimeoutError", message: 'step "slow" timed out after 150ms' } });
  expect(failed!.durationMs).toBeGreaterThanOrEqual(149);
  expect(failed!.durationMs).toBeLessThan(150 + LATE_MS);
  // Attempt 1 returns after 600 ms; by then the step is recorded with attempt 2's result, and stays so.
  await sleep(700);
  const after = await handle.history();
  expect(shapeOf(after)).toEqual(["RunStarted", "StepAttemptFailed:slow", "StepCompleted:slow", "RunCompleted"]);
  expect(after.find((e) => e.kind === "StepCompleted")!.payload).toMatchObject({ result: "attempt 2", attempt: 2 });
});

test("a step whose every attempt times out fails with StepFailedError caused by StepTimeoutError", async () => {
  stepReasons.length = 0;
  const handle = await client.start(alwaysSlow, undefined);
  const error = await handle.result({ timeout: "20s" }).catch((e: unknown) => e);
  const cause = (error as WorkflowFailedError).cause as StepFailedError;
  expect(cause).toBeInstanceOf(StepFailedError);
  expect(cause).toMatchObject({ stepName: "hangs", attempts: 2 });
  expect(cause.cause).toMatchObject({ name: "StepTimeoutError", message: 'step "hangs" timed out after 100ms' });
  expect(stepReasons.map((r) => (r as Error).name)).toEqual(["StepTimeoutError", "StepTimeoutError"]);
  expect(attemptsOf(await handle.history(), "hangs").map((a) => a.outcome)).toEqual(["failed", "gave-up"]);
});

/** Waits for the run to fail and checks that it failed with WorkflowTimeoutError when its deadline passed. */
async function expectTimedOut(handle: { id: string; result(o: { timeout: string }): Promise<unknown>; history(): Promise<HistoryEvent[]> }, timeoutMs: number) {
  const error = await handle.result({ timeout: "20s" }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const cause = (error as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(WorkflowTimeoutError);
  expect(cause.message).toBe(`run ${handle.id} timed out: it did not finish within ${timeoutMs}ms of its start`);
  const history = await handle.history();
  const took = at(history, "RunFailed") - at(history, "RunStarted");
  expect(took).toBeGreaterThanOrEqual(timeoutMs - 15);
  expect(took).toBeLessThan(timeoutMs + LATE_MS);
  expect(runHooks.filter((h) => h.runId === handle.id)).toEqual([
    expect.objectContaining({ error: expect.objectContaining({ name: "WorkflowTimeoutError" }), attempt: 1 }),
  ]);
  return history;
}

test("the workflow timeout fails a running run and aborts its in-flight step", async () => {
  runReasons.length = 0;
  const handle = await client.start(busy, undefined);
  const history = await expectTimedOut(handle, 500);
  expect(runReasons).toHaveLength(1);
  expect(runReasons[0]).toBeInstanceOf(WorkflowTimeoutError);
  expect(shapeOf(history)).toEqual(["RunStarted", "StepCompleted:quick", "RunFailed", "HookCompleted"]);
});

test("the workflow timeout fails a sleeping run while it sleeps", async () => {
  const handle = await client.start(sleeper, undefined);
  await waitFor(async () => (await handle.status()).status === "sleeping", { what: "the run to sleep" });
  const history = await expectTimedOut(handle, 1500);
  expect(shapeOf(history)).toEqual(["RunStarted", "StepCompleted:before", "TimerStarted:sleep", "RunFailed", "HookCompleted"]);
});

test("the workflow timeout fails a run waiting for a signal", async () => {
  const handle = await client.start(waiter, undefined);
  await waitFor(async () => (await handle.status()).status === "waiting", { what: "the run to wait for its signal" });
  const history = await expectTimedOut(handle, 1500);
  // The parked wait is recorded (so a later ctx.patched() before it keeps this run's branch).
  expect(shapeOf(history)).toEqual(["RunStarted", "StepCompleted:before", "SignalWaitStarted:approval", "RunFailed", "HookCompleted"]);
});

test("the workflow timeout cuts a long retry delay short", async () => {
  const handle = await client.start(retrier, undefined);
  await waitFor(async () => (await handle.status()).status === "sleeping", { what: "the run to wait out its retry delay" });
  const history = await expectTimedOut(handle, 1500);
  expect(shapeOf(history)).toEqual(["RunStarted", "StepAttemptFailed:flaky", "RunFailed", "HookCompleted"]);
});
