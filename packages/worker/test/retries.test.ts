import { CircuitOpenError, Client, NonRetryableError, RetryableError, StepFailedError, ValidationError, WorkflowFailedError, workflow, type RetryPolicy } from "@reprise/sdk";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { z } from "zod";
import { useTestSchema } from "../../../test-support/db.js";
import { attemptsOf, type RecordedAttempt } from "../../../test-support/history.js";
import { waitFor } from "../../../test-support/wait.js";

const db = useTestSchema();
const client = new Client(db.connection);

/** Scheduling slack: a retry may start this much later than due on a loaded machine (never earlier). */
const LATE_MS = 250;
/** The database clock as estimated by a worker moves by a few ms between estimates. */
const CLOCK_MS = 15;

type Failure = "plain" | "non-retryable" | "retryable-false" | "validation" | "retry-after" | "circuit-open";

interface FlakyInput {
  /** Attempts 1..failures throw; the next one returns its attempt number. */
  failures: number;
  error?: Failure;
  retry?: RetryPolicy;
  retryAfter?: string;
}

const calls = new Map<string, number>();

function failure(kind: Failure, attempt: number, retryAfter = "1ms"): Error {
  switch (kind) {
    case "plain":
      return new Error(`attempt ${attempt} failed`);
    case "non-retryable":
      return new NonRetryableError(`HTTP 404 on attempt ${attempt}`);
    case "retryable-false":
      return Object.assign(new Error(`bad record on attempt ${attempt}`), { retryable: false });
    case "validation":
      return new ValidationError(`bad payload on attempt ${attempt}`);
    case "retry-after":
      return new RetryableError(`HTTP 429 on attempt ${attempt}`, { retryAfter });
    case "circuit-open":
      return new CircuitOpenError("payments-api", 300);
  }
}

/** One step that fails a given number of times; the workflow reports how it went instead of failing. */
const flaky = workflow({ name: "flaky" }, async (ctx, input: FlakyInput) => {
  try {
    const attempt = await ctx.step(
      "flaky",
      ({ attempt }) => {
        calls.set(ctx.runId, (calls.get(ctx.runId) ?? 0) + 1);
        if (attempt <= input.failures) throw failure(input.error ?? "plain", attempt, input.retryAfter);
        return attempt;
      },
      input.retry ? { retry: input.retry } : {},
    );
    return { ok: true as const, attempt };
  } catch (error) {
    if (!(error instanceof StepFailedError)) throw error;
    return { ok: false as const, attempts: error.attempts, cause: error.cause.name };
  }
});

/** The workflow's default policy, partly overridden by the step. */
const defaulted = workflow(
  { name: "defaulted", retry: { maxAttempts: 2, initialDelay: "50ms", jitter: 0, factor: 2 } },
  async (ctx) =>
    ctx.step(
      "overridden",
      ({ attempt }) => {
        if (attempt < 4) throw new Error(`attempt ${attempt} failed`);
        return attempt;
      },
      { retry: { maxAttempts: 4, factor: 3 } },
    ),
);

const seen: { attempt: number; message: string }[] = [];
const classified = workflow({ name: "classified" }, async (ctx, input: { nonRetryable?: boolean }) =>
  ctx.step(
    "classified",
    ({ attempt }) => {
      if (input.nonRetryable) throw new NonRetryableError("permanent");
      throw new Error(attempt === 1 ? "ECONNRESET" : "invalid API key");
    },
    {
      retry: { maxAttempts: 5, initialDelay: "10ms" },
      retryIf: (error, attempt) => {
        seen.push({ attempt, message: (error as Error).message });
        return input.nonRetryable ? true : (error as Error).message === "ECONNRESET";
      },
    },
  ),
);

const validated = workflow({ name: "validated" }, async (ctx) =>
  ctx.step("returns-a-string", () => "not a number" as unknown as number, { output: z.number(), retry: { maxAttempts: 5, initialDelay: "10ms" } }),
);

let worker: Worker;
beforeAll(async () => {
  worker = new Worker({ ...db.connection, workflows: [flaky, defaulted, classified, validated], pollInterval: "50ms", logger: silentLogger });
  await worker.start();
});
afterAll(async () => {
  await worker.stop();
  await client.close();
});

/** Runs `flaky` and returns its result and the recorded attempts of its step. */
async function runFlaky(input: FlakyInput) {
  const handle = await client.start(flaky, input);
  const result = await handle.result({ timeout: "30s" });
  return { id: handle.id, result, attempts: attemptsOf(await handle.history(), "flaky") };
}

/** Checks that attempt n+1 started when attempt n's retry came due: not before, and not much after. */
function expectRetriesOnTime(attempts: readonly RecordedAttempt[]): void {
  for (let i = 0; i + 1 < attempts.length; i++) {
    const failed = attempts[i]!;
    const next = attempts[i + 1]!;
    expect(next.startedAt, `attempt ${next.attempt} must not start before its retry time`).toBeGreaterThanOrEqual(failed.retryAt! - CLOCK_MS);
    expect(next.startedAt, `attempt ${next.attempt} started late`).toBeLessThanOrEqual(failed.retryAt! + LATE_MS);
    const gap = next.startedAt - failed.startedAt;
    expect(gap).toBeGreaterThanOrEqual(failed.delayMs! - CLOCK_MS);
    expect(gap).toBeLessThanOrEqual(failed.delayMs! + LATE_MS);
  }
}

test("exponential backoff: with initialDelay 100ms, factor 2 and no jitter the retries wait 100, 200 and 400 ms", async () => {
  const { result, attempts } = await runFlaky({
    failures: 3,
    retry: { maxAttempts: 4, initialDelay: "100ms", backoff: "exponential", factor: 2, jitter: 0 },
  });
  expect(result).toEqual({ ok: true, attempt: 4 });
  expect(attempts.map((a) => [a.attempt, a.outcome, a.delayMs])).toEqual([
    [1, "failed", 100],
    [2, "failed", 200],
    [3, "failed", 400],
    [4, "completed", undefined],
  ]);
  expectRetriesOnTime(attempts);
  // The waits really grow: each gap is longer than the one before.
  const gaps = attempts.slice(1).map((a, i) => a.startedAt - attempts[i]!.startedAt);
  expect(gaps[1]!).toBeGreaterThan(gaps[0]!);
  expect(gaps[2]!).toBeGreaterThan(gaps[1]!);
});

test("maxDelay caps the computed delay", async () => {
  const { attempts } = await runFlaky({ failures: 3, retry: { maxAttempts: 4, initialDelay: "100ms", factor: 10, maxDelay: "250ms", jitter: 0 } });
  expect(attempts.map((a) => a.delayMs)).toEqual([100, 250, 250, undefined]);
  expectRetriesOnTime(attempts);
});

test("an explicit delays list wins over the backoff, its last delay repeating", async () => {
  const { attempts } = await runFlaky({
    failures: 3,
    retry: { maxAttempts: 4, initialDelay: "1s", factor: 5, delays: ["50ms", 150], jitter: 0 },
  });
  expect(attempts.map((a) => a.delayMs)).toEqual([50, 150, 150, undefined]);
  expectRetriesOnTime(attempts);
});

test("a delays list alone allows one try more than it has delays", async () => {
  const { result, attempts } = await runFlaky({ failures: 10, retry: { delays: ["20ms", "40ms"], jitter: 0 } });
  expect(result).toEqual({ ok: false, attempts: 3, cause: "Error" });
  expect(attempts.map((a) => [a.outcome, a.delayMs])).toEqual([
    ["failed", 20],
    ["failed", 40],
    ["gave-up", undefined],
  ]);
});

test("fixed backoff waits the same each time and linear backoff grows by initialDelay", async () => {
  const fixed = await runFlaky({ failures: 3, retry: { maxAttempts: 4, initialDelay: "60ms", backoff: "fixed", jitter: 0 } });
  expect(fixed.attempts.map((a) => a.delayMs)).toEqual([60, 60, 60, undefined]);
  expectRetriesOnTime(fixed.attempts);
  const linear = await runFlaky({ failures: 3, retry: { maxAttempts: 4, initialDelay: "60ms", backoff: "linear", jitter: 0 } });
  expect(linear.attempts.map((a) => a.delayMs)).toEqual([60, 120, 180, undefined]);
  expectRetriesOnTime(linear.attempts);
});

test("jitter adds up to its fraction of the delay, and the default is 20%", async () => {
  const jittered = await runFlaky({ failures: 3, retry: { maxAttempts: 4, initialDelay: "100ms", factor: 2, jitter: 0.5 } });
  const base = [100, 200, 400];
  jittered.attempts.slice(0, 3).forEach((a, i) => {
    expect(a.delayMs!).toBeGreaterThanOrEqual(base[i]!);
    expect(a.delayMs!).toBeLessThanOrEqual(base[i]! * 1.5);
  });
  expectRetriesOnTime(jittered.attempts);
  const byDefault = await runFlaky({ failures: 1, retry: { initialDelay: "100ms" } });
  expect(byDefault.attempts[0]!.delayMs!).toBeGreaterThanOrEqual(100);
  expect(byDefault.attempts[0]!.delayMs!).toBeLessThanOrEqual(120);
});

test("exhausted retries throw StepFailedError into the workflow with the attempts and the original error", async () => {
  const { id, result, attempts } = await runFlaky({ failures: 99, retry: { maxAttempts: 3, initialDelay: "10ms" } });
  expect(result).toEqual({ ok: false, attempts: 3, cause: "Error" });
  expect(attempts.map((a) => a.outcome)).toEqual(["failed", "failed", "gave-up"]);
  expect(calls.get(id)).toBe(3);
});

test("a step's retry policy overrides the workflow's default field by field", async () => {
  const handle = await client.start(defaulted, undefined);
  expect(await handle.result({ timeout: "30s" })).toBe(4);
  const attempts = attemptsOf(await handle.history(), "overridden");
  // maxAttempts and factor from the step; initialDelay and jitter from the workflow.
  expect(attempts.map((a) => a.delayMs)).toEqual([50, 150, 450, undefined]);
  expectRetriesOnTime(attempts);
});

test("a NonRetryableError fails the step after one attempt, and uncaught it fails the run with StepFailedError", async () => {
  const failing = workflow({ name: "not-found" }, async (ctx) =>
    ctx.step(
      "fetch",
      () => {
        calls.set(ctx.runId, (calls.get(ctx.runId) ?? 0) + 1);
        throw new NonRetryableError("HTTP 404");
      },
      { retry: { maxAttempts: 5, initialDelay: "10ms" } },
    ),
  );
  const w = new Worker({ ...db.connection, workflows: [failing], pollInterval: "50ms", logger: silentLogger, migrate: false });
  await w.start();
  try {
    const handle = await client.start(failing, undefined);
    const error = await handle.result({ timeout: "30s" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(StepFailedError);
    expect(cause).toMatchObject({ stepName: "fetch", attempts: 1 });
    expect((cause as StepFailedError).cause).toMatchObject({ name: "NonRetryableError", message: "HTTP 404" });
    expect(calls.get(handle.id)).toBe(1);
    expect(attemptsOf(await handle.history(), "fetch").map((a) => a.outcome)).toEqual(["gave-up"]);
    expect((await handle.status()).error).toMatchObject({ name: "StepFailedError", cause: { name: "NonRetryableError", message: "HTTP 404" } });
  } finally {
    await w.stop();
  }
});

test("an error with retryable === false and a ValidationError are not retried", async () => {
  for (const error of ["retryable-false", "validation"] as const) {
    const { id, result, attempts } = await runFlaky({ failures: 5, error, retry: { maxAttempts: 5, initialDelay: "10ms" } });
    expect(result).toEqual({ ok: false, attempts: 1, cause: error === "validation" ? "ValidationError" : "Error" });
    expect(attempts.map((a) => a.outcome)).toEqual(["gave-up"]);
    expect(calls.get(id)).toBe(1);
  }
});

test("a step result that fails its output schema is not retried", async () => {
  const handle = await client.start(validated, undefined);
  const error = await handle.result({ timeout: "30s" }).catch((e: unknown) => e);
  const cause = (error as WorkflowFailedError).cause as StepFailedError;
  expect(cause).toMatchObject({ name: "StepFailedError", attempts: 1 });
  expect(cause.cause).toMatchObject({ name: "ValidationError" });
  expect(cause.cause.message).toMatch(/output of step "returns-a-string"/);
  expect(attemptsOf(await handle.history(), "returns-a-string").map((a) => a.outcome)).toEqual(["gave-up"]);
});

test("retryIf decides which errors are retried and is told the attempt", async () => {
  seen.length = 0;
  const handle = await client.start(classified, {});
  const error = await handle.result({ timeout: "30s" }).catch((e: unknown) => e);
  expect((error as WorkflowFailedError).cause).toMatchObject({ name: "StepFailedError", attempts: 2 });
  expect(seen).toEqual([
    { attempt: 1, message: "ECONNRESET" },
    { attempt: 2, message: "invalid API key" },
  ]);
  expect(attemptsOf(await handle.history(), "classified").map((a) => a.outcome)).toEqual(["failed", "gave-up"]);
});

test("a NonRetryableError is not retried even when retryIf would retry it", async () => {
  seen.length = 0;
  const handle = await client.start(classified, { nonRetryable: true });
  const error = await handle.result({ timeout: "30s" }).catch((e: unknown) => e);
  expect((error as WorkflowFailedError).cause).toMatchObject({ name: "StepFailedError", attempts: 1 });
  expect(seen).toEqual([]);
});

test("RetryableError's retryAfter overrides the policy's delay", async () => {
  const { result, attempts } = await runFlaky({
    failures: 2,
    error: "retry-after",
    retryAfter: "300ms",
    retry: { maxAttempts: 3, initialDelay: "10ms", jitter: 0.5 },
  });
  expect(result).toEqual({ ok: true, attempt: 3 });
  expect(attempts.map((a) => a.delayMs)).toEqual([300, 300, undefined]);
  expectRetriesOnTime(attempts);
});

test("CircuitOpenError's remaining cool-down overrides the policy's delay", async () => {
  const { result, attempts } = await runFlaky({ failures: 1, error: "circuit-open", retry: { maxAttempts: 2, initialDelay: "10ms", jitter: 0 } });
  expect(result).toEqual({ ok: true, attempt: 2 });
  expect(attempts.map((a) => a.delayMs)).toEqual([300, undefined]);
  expectRetriesOnTime(attempts);
});

test("a retry delay longer than suspendAfter suspends the run, frees the slot, and any worker resumes it when due", async () => {
  const longWait = workflow({ name: "long-retry-wait" }, async (ctx) =>
    ctx.step(
      "flaky",
      ({ attempt }) => {
        if (attempt === 1) throw new Error("try again later");
        return attempt;
      },
      { retry: { delays: ["1500ms"], jitter: 0 } },
    ),
  );
  const first = new Worker({ ...db.connection, workflows: [longWait], pollInterval: "50ms", suspendAfter: "500ms", logger: silentLogger, migrate: false });
  await first.start();
  const handle = await client.start(longWait, undefined);
  let second: Worker | undefined;
  try {
    await waitFor(async () => (await handle.status()).status === "sleeping", { what: "the run to sleep through its retry delay" });
    const [row] = await db.sql<{ lease_owner: string | null }>(`SELECT lease_owner FROM "${db.schema}".runs WHERE id = $1`, [handle.id]);
    expect(row!.lease_owner).toBeNull();
    expect(first.inFlight).toBe(0);
    // The worker that suspended it goes away; another one performs the retry.
    await first.stop();
    second = new Worker({ ...db.connection, workflows: [longWait], pollInterval: "50ms", logger: silentLogger, migrate: false });
    await second.start();
    expect(await handle.result({ timeout: "30s" })).toBe(2);
  } finally {
    await first.stop();
    await second?.stop();
  }
  const attempts = attemptsOf(await handle.history(), "flaky");
  expect(attempts.map((a) => [a.attempt, a.outcome, a.delayMs])).toEqual([
    [1, "failed", 1500],
    [2, "completed", undefined],
  ]);
  // Woken by polling (50ms) and replayed: allow for that on top of the scheduling slack.
  expect(attempts[1]!.startedAt).toBeGreaterThanOrEqual(attempts[0]!.retryAt! - CLOCK_MS);
  expect(attempts[1]!.startedAt).toBeLessThanOrEqual(attempts[0]!.retryAt! + LATE_MS + 250);
});
