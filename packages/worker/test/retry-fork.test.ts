import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Client, InvalidRunStateError, StepFailedError, ValidationError, WorkflowFailedError, workflow, type RunRetriedPayload, type StepCompletedPayload } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";
import { payloadsOf, shapeOf } from "../../../test-support/history.js";
import { waitFor } from "../../../test-support/wait.js";

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
const client = new Client({ store, migrate: false });

/** Side effects land in the database, so that they are counted across runs and retries. */
const executed = (runId: string, step: string) => db.sql(`INSERT INTO "${db.schema}".executions (run_id, step) VALUES ($1, $2)`, [runId, step]);
const executions = async (runId: string) =>
  Object.fromEntries(
    (
      await db.sql<{ step: string; n: number }>(`SELECT step, count(*)::int AS n FROM "${db.schema}".executions WHERE run_id = $1 GROUP BY step`, [runId])
    ).map((r) => [r.step, r.n]),
  );
const flag = async (name: string) => (await db.sql(`SELECT 1 FROM "${db.schema}".flags WHERE name = $1`, [name])).length > 0;
const raise = (name: string) => db.sql(`INSERT INTO "${db.schema}".flags (name) VALUES ($1) ON CONFLICT DO NOTHING`, [name]);

/** The seed scenario: an expensive step, then one that fails until a flag is raised. */
const pingService = workflow({ name: "ping-service" }, async (ctx, input: { url: string }) => {
  const payload = await ctx.step("create-payload", async () => {
    await executed(ctx.runId, "create-payload");
    return { url: input.url, body: "x".repeat(1000), builtAt: new Date().toISOString() };
  });
  return ctx.step(
    "ping",
    async ({ attempt }) => {
      await executed(ctx.runId, "ping");
      if (!(await flag(`up:${ctx.runId}`))) throw new Error(`connect ECONNREFUSED ${payload.url} (attempt ${attempt})`);
      return `pong from ${payload.url}, payload built at ${payload.builtAt}`;
    },
    { retry: { maxAttempts: 2, initialDelay: "20ms" } },
  );
});

/** Three counted steps; the last fails until its flag is raised. */
const pipeline = workflow({ name: "pipeline" }, async (ctx) => {
  const extracted = await ctx.step("extract", async () => (await executed(ctx.runId, "extract"), `extracted by ${ctx.runId}`));
  const transformed = await ctx.step("transform", async () => (await executed(ctx.runId, "transform"), `${extracted}, transformed by ${ctx.runId}`));
  return ctx.step(
    "load",
    async () => {
      await executed(ctx.runId, "load");
      if (await flag("load-broken")) throw new Error("warehouse is read-only");
      return `${transformed}, loaded by ${ctx.runId}`;
    },
    { retry: { maxAttempts: 1 } },
  );
});

/** Fails outside any step until its flag is raised. */
const checker = workflow({ name: "checker" }, async (ctx) => {
  const n = await ctx.step("count", async () => (await executed(ctx.runId, "count"), 41));
  if (!(await flag(`checked:${ctx.runId}`))) throw new Error("the count looks wrong");
  return n + 1;
});

/** A step that hangs until cancelled, the first time only. */
const interruptible = workflow({ name: "interruptible" }, async (ctx) => {
  await ctx.step("first", () => executed(ctx.runId, "first").then(() => 1));
  return ctx.step("slow", async ({ signal }) => {
    await executed(ctx.runId, "slow");
    if (!(await flag(`fast:${ctx.runId}`))) {
      await new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason as Error)));
    }
    return "done";
  });
});

/** A child that fails until its flag is raised, and a parent that waits for it. */
const fetchChild = workflow({ name: "fetch-child" }, async (ctx) =>
  ctx.step(
    "fetch",
    async () => {
      await executed(ctx.runId, "fetch");
      if (!(await flag("child-fixed"))) throw new Error("404 from the archive");
      return "archived page";
    },
    { retry: { maxAttempts: 1 } },
  ),
);
const fetchParent = workflow({ name: "fetch-parent" }, async (ctx) => {
  const before = await ctx.step("prepare", async () => (await executed(ctx.runId, "prepare"), "prepared"));
  const page = await ctx.child(fetchChild, undefined);
  return `${before}, ${page}`;
});

/** Its second step takes longer than the run's timeout until its flag is raised. */
const deadlined = workflow({ name: "deadlined", timeout: "400ms" }, async (ctx) => {
  await ctx.step("quick", async () => (await executed(ctx.runId, "quick"), 1));
  return ctx.step("slow", async ({ signal }) => {
    await executed(ctx.runId, "slow");
    if (!(await flag(`fast:${ctx.runId}`))) {
      await new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason as Error)));
    }
    return "in time";
  });
});

const sleepy = workflow({ name: "sleepy" }, async (ctx) => {
  await ctx.sleep("1h");
  return 1;
});

let worker: Worker;
beforeAll(async () => {
  await store.migrate();
  await db.sql(`CREATE TABLE "${db.schema}".executions (run_id text, step text); CREATE TABLE "${db.schema}".flags (name text PRIMARY KEY)`);
  worker = new Worker({ store, workflows: [pingService, pipeline, checker, interruptible, sleepy, fetchParent, fetchChild, deadlined], pollInterval: "50ms", logger: silentLogger, migrate: false });
  await worker.start();
});
afterAll(async () => {
  await worker.stop();
  await store.close();
});

test("the seed scenario: after the run failed at ping, retry completes it and create-payload ran exactly once", async () => {
  const handle = await client.start(pingService, { url: "https://api.example/health" }, { id: "seed-1" });
  const error = await handle.result({ timeout: "20s" }).catch((e: unknown) => e);
  const cause = (error as WorkflowFailedError).cause as StepFailedError;
  expect(cause).toBeInstanceOf(StepFailedError);
  expect(cause).toMatchObject({ stepName: "ping", attempts: 2 });
  expect(cause.cause.message).toBe("connect ECONNREFUSED https://api.example/health (attempt 2)");
  expect(await executions("seed-1")).toEqual({ "create-payload": 1, ping: 2 });

  await raise("up:seed-1");
  const retried = await client.retry<string>("seed-1");
  const output = await retried.result({ timeout: "20s" });

  const history = await handle.history();
  const payload = history.find((e) => e.name === "create-payload" && e.kind === "StepCompleted")!.payload as StepCompletedPayload;
  expect(output).toBe(`pong from https://api.example/health, payload built at ${(payload.result as { builtAt: string }).builtAt}`);
  expect(await executions("seed-1")).toEqual({ "create-payload": 1, ping: 3 });
  expect(shapeOf(history)).toEqual([
    "RunStarted",
    "StepCompleted:create-payload",
    "StepAttemptFailed:ping",
    "StepFailed:ping",
    "RunFailed",
    "RunRetried",
    "StepCompleted:ping",
    "RunCompleted",
  ]);
  // The failed step ran again with a fresh attempt count.
  expect(history.at(-2)!.payload).toMatchObject({ attempt: 1 });
  expect(payloadsOf<RunRetriedPayload>(history, "RunRetried")).toEqual([{ reopens: 4, position: 1, previousStatus: "failed" }]);
  expect(await handle.status()).toMatchObject({ status: "completed", attempt: 2 });
});

test("retrying a run that is not failed or cancelled is an InvalidRunStateError", async () => {
  await raise("checked:checked-ok");
  const completed = await client.start(checker, undefined, { id: "checked-ok" });
  await completed.result({ timeout: "20s" });
  const sleeping = await client.start(sleepy, undefined);
  await waitFor(async () => (await sleeping.status()).status === "sleeping", { what: "the run to sleep" });
  const queued = await client.start(sleepy, undefined, { delay: "1h" });
  for (const [handle, status] of [
    [completed, "completed"],
    [sleeping, "sleeping"],
    [queued, "queued"],
  ] as const) {
    const error = await client.retry(handle.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidRunStateError);
    expect(error).toMatchObject({ code: "INVALID_RUN_STATE", status, runId: handle.id });
    expect((error as Error).message).toBe(`cannot retry run ${handle.id}: it is ${status}; only failed or cancelled runs can be retried`);
  }
  expect(shapeOf(await sleeping.history())).not.toContain("RunRetried");
});

test("a run that failed outside any step is retried by replaying it: recorded steps are not run again", async () => {
  const handle = await client.start(checker, undefined, { id: "checker-1" });
  await expect(handle.result({ timeout: "20s" })).rejects.toMatchObject({ cause: { message: "the count looks wrong" } });
  await raise("checked:checker-1");
  await client.retry("checker-1");
  expect(await handle.result({ timeout: "20s" })).toBe(42);
  expect(await executions("checker-1")).toEqual({ count: 1 });
  expect(payloadsOf<RunRetriedPayload>(await handle.history(), "RunRetried")[0]).not.toHaveProperty("position");
});

test("a cancelled run can be retried: it goes on from where it was cancelled", async () => {
  const handle = await client.start(interruptible, undefined, { id: "interrupted-1" });
  await waitFor(async () => (await executions("interrupted-1")).slow === 1, { what: "the slow step to start" });
  await handle.cancel("wrong parameters");
  await expect(handle.result({ timeout: "20s" })).rejects.toBeInstanceOf(WorkflowFailedError);
  await raise("fast:interrupted-1");
  await client.retry("interrupted-1");
  expect(await handle.result({ timeout: "20s" })).toBe("done");
  expect(await executions("interrupted-1")).toEqual({ first: 1, slow: 2 });
  expect(payloadsOf<RunRetriedPayload>(await handle.history(), "RunRetried")[0]).toMatchObject({ previousStatus: "cancelled" });
});

test("retrying a run that failed because its child failed retries the child too", async () => {
  const handle = await client.start(fetchParent, undefined, { id: "parent-1" });
  const error = await handle.result({ timeout: "20s" }).catch((e: unknown) => e);
  expect((error as WorkflowFailedError).cause).toMatchObject({ name: "ChildFailedError", childId: "parent-1-1" });
  expect((await client.status("parent-1-1")).status).toBe("failed");
  await raise("child-fixed");
  await client.retry("parent-1");
  expect(await handle.result({ timeout: "20s" })).toBe("prepared, archived page");
  expect(await client.status("parent-1-1")).toMatchObject({ status: "completed", attempt: 2 });
  expect(await executions("parent-1")).toEqual({ prepare: 1 });
  expect(await executions("parent-1-1")).toEqual({ fetch: 2 });
});

test("a run that timed out can be retried, with a fresh deadline", async () => {
  const handle = await client.start(deadlined, undefined, { id: "deadlined-1" });
  await expect(handle.result({ timeout: "20s" })).rejects.toMatchObject({ cause: { name: "WorkflowTimeoutError" } });
  // Retried unchanged, it times out again: the deadline is counted from the retry.
  await client.retry("deadlined-1");
  await expect(handle.result({ timeout: "20s" })).rejects.toMatchObject({ cause: { name: "WorkflowTimeoutError" } });
  const failures = (await handle.history()).filter((e) => e.kind === "RunFailed" || e.kind === "RunRetried");
  expect(failures.map((e) => e.kind)).toEqual(["RunFailed", "RunRetried", "RunFailed"]);
  expect(failures[2]!.createdAt.getTime() - failures[1]!.createdAt.getTime()).toBeGreaterThanOrEqual(400 - 15);
  // Once the slow step is fast, a retry finishes in time; the step that completed never reran.
  await raise("fast:deadlined-1");
  await client.retry("deadlined-1");
  expect(await handle.result({ timeout: "20s" })).toBe("in time");
  expect(await executions("deadlined-1")).toEqual({ quick: 1, slow: 3 });
});

test("fork from a middle step re-executes only the steps from there on, and the new run records where it came from", async () => {
  const source = await client.start(pipeline, undefined, { id: "source-1" });
  expect(await source.result({ timeout: "20s" })).toBe("extracted by source-1, transformed by source-1, loaded by source-1");

  const fork = await client.fork<string>("source-1", { fromStep: "transform", id: "fork-1" });
  expect(fork.id).toBe("fork-1");
  // extract's result is the source's, copied; transform and load ran again, in the fork.
  expect(await fork.result({ timeout: "20s" })).toBe("extracted by source-1, transformed by fork-1, loaded by fork-1");
  expect(await executions("source-1")).toEqual({ extract: 1, transform: 1, load: 1 });
  expect(await executions("fork-1")).toEqual({ transform: 1, load: 1 });
  expect(await fork.status()).toMatchObject({ forkedFrom: "source-1", status: "completed" });
  expect(shapeOf(await fork.history())).toEqual([
    "RunStarted",
    "StepCompleted:extract",
    "RunForked",
    "StepCompleted:transform",
    "StepCompleted:load",
    "RunCompleted",
  ]);
  expect((await fork.history()).find((e) => e.kind === "RunForked")!.payload).toEqual({ from: "source-1", fromPosition: 1 });

  // By position: from the last step, only it runs again.
  const byPosition = await client.fork<string>("source-1", { fromStep: 2 });
  expect(await byPosition.result({ timeout: "20s" })).toBe(`extracted by source-1, transformed by source-1, loaded by ${byPosition.id}`);
  expect(await executions(byPosition.id)).toEqual({ load: 1 });

  await expect(client.fork("source-1", { fromStep: "no-such-step" })).rejects.toBeInstanceOf(ValidationError);
});

test("a failed run forked after a fix runs on with today's code from the failed step", async () => {
  await raise("load-broken");
  const source = await client.start(pipeline, undefined, { id: "source-2" });
  await expect(source.result({ timeout: "20s" })).rejects.toMatchObject({ cause: { name: "StepFailedError", stepName: "load" } });
  await db.sql(`DELETE FROM "${db.schema}".flags WHERE name = 'load-broken'`);
  const fork = await client.fork<string>("source-2", { fromStep: "load", id: "fork-2" });
  expect(await fork.result({ timeout: "20s" })).toBe("extracted by source-2, transformed by source-2, loaded by fork-2");
  expect(await executions("fork-2")).toEqual({ load: 1 });
  expect((await source.status()).status).toBe("failed");
});

const cli = fileURLToPath(new URL("../bin/reprise.js", import.meta.url));
const reprise = (...args: string[]) =>
  promisify(execFile)(process.execPath, [cli, ...args, "--database-url", db.url, "--schema", db.schema], { env: { ...process.env, NO_COLOR: "1" } });

test("reprise runs retry, fork and cancel do what the client does", async () => {
  const handle = await client.start(pingService, { url: "https://cli.example" }, { id: "seed-cli" });
  await expect(handle.result({ timeout: "20s" })).rejects.toBeInstanceOf(WorkflowFailedError);
  await raise("up:seed-cli");
  const retried = await reprise("runs", "retry", "seed-cli");
  expect(retried.stdout).toContain("run seed-cli queued again");
  await expect(handle.result({ timeout: "20s" })).resolves.toMatch(/^pong from https:\/\/cli.example/);
  expect(await executions("seed-cli")).toEqual({ "create-payload": 1, ping: 3 });
  // The timeline keeps every failed attempt, also the one that ended the run before the retry.
  const shown = (await reprise("runs", "show", "seed-cli")).stdout;
  expect(shown).toMatch(/attempt 1 failed after \d+(\.\d+)?m?s: Error: connect ECONNREFUSED https:\/\/cli\.example \(attempt 1\) · retried in /);
  expect(shown).toContain("attempt 2 failed: Error: connect ECONNREFUSED https://cli.example (attempt 2) · gave up; reopened by a retry");
  expect(shown).toContain("reopens position 1");

  const notFailed = await reprise("runs", "retry", "seed-cli").catch((e: { code: number; stderr: string }) => e);
  expect(notFailed).toMatchObject({ code: expect.any(Number) });
  expect((notFailed as { stderr: string }).stderr.trim()).toBe("reprise: cannot retry run seed-cli: it is completed; only failed or cancelled runs can be retried");

  await raise("up:seed-cli-fork");
  const forked = await reprise("runs", "fork", "seed-cli", "--from", "ping", "--id", "seed-cli-fork");
  expect(forked.stdout.trim()).toBe("seed-cli-fork");
  await expect(client.result("seed-cli-fork", { timeout: "20s" })).resolves.toMatch(/^pong/);
  expect(await executions("seed-cli-fork")).toEqual({ ping: 1 });

  const sleeping = await client.start(sleepy, undefined);
  await waitFor(async () => (await sleeping.status()).status === "sleeping", { what: "the run to sleep" });
  await reprise("runs", "cancel", sleeping.id, "--reason", "from the CLI");
  expect(await sleeping.status()).toMatchObject({ status: "cancelled", error: { message: "the run was cancelled: from the CLI" } });
});
