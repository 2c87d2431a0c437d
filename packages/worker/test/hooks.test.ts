import { Client, NonRetryableError, StepFailedError, WorkflowFailedError, workflow, type FailureInfo, type HookCompletedPayload, type Workflow } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { Worker, silentLogger, type WorkerLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { forkWorker } from "../../../test-support/child-worker.js";
import { useTestSchema } from "../../../test-support/db.js";
import { payloadsOf, shapeOf } from "../../../test-support/history.js";
import { sleep, waitFor } from "../../../test-support/wait.js";
// @ts-expect-error a plain JS fixture, shared with the child process
import { createSideTables, hookedWorkflow } from "./fixtures/failure-workflows.mjs";

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
const client = new Client({ store, migrate: false });
beforeAll(async () => {
  await store.migrate();
  await createSideTables(db.pool, db.schema);
});
afterAll(() => store.close());

/** A logger that keeps what the worker reports, and the runs' log lines. */
function capturingLogger(): WorkerLogger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  return {
    lines,
    debug: () => undefined,
    info: () => undefined,
    warn: keep("warn"),
    error: keep("error"),
    run: (entry) => void lines.push(`${entry.level} ${entry.message}`),
  };
}

async function withWorker<T>(workflows: Workflow<any, any>[], fn: (logger: ReturnType<typeof capturingLogger>) => Promise<T>, options = {}): Promise<T> {
  const logger = capturingLogger();
  const worker = new Worker({ store, workflows, leaseDuration: "1s", pollInterval: "50ms", logger, migrate: false, ...options });
  await worker.start();
  try {
    return await fn(logger);
  } finally {
    await worker.stop();
  }
}

const hookCalls = async (runId: string) =>
  db.sql<{ hook: string; pid: number; info: FailureInfo }>(`SELECT hook, pid, info FROM "${db.schema}".hook_calls WHERE run_id = $1 ORDER BY at`, [runId]);

test("a failed run's onFailure is called once, and the run shows 'failed' only after it ran", async () => {
  const calls: FailureInfo[] = [];
  const statusDuringHook: string[] = [];
  const wf = workflow(
    {
      name: "alerting",
      onFailure: async (failure) => {
        statusDuringHook.push((await client.status(failure.runId)).status);
        await sleep(200);
        calls.push(failure);
      },
    },
    async (ctx, input: { order: string }) => {
      await ctx.step("reserve", () => `reserved ${input.order}`);
      await ctx.step("pay", () => "paid");
      return ctx.step("ship", () => {
        throw new NonRetryableError("no such address");
      });
    },
  );
  await withWorker([wf], async (logger) => {
    const handle = await client.start(wf, { order: "o-1" });
    const error = await handle.result({ timeout: "20s" }).catch((e: unknown) => e);
    // The result is only known once the hook ran: whoever sees the failure knows the alert went out.
    expect(calls).toHaveLength(1);
    expect(statusDuringHook).toEqual(["running"]);
    expect(logger.lines, "recording that the hook ran must not look like a lost lease").toEqual([]);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(StepFailedError);
    expect(calls[0]).toEqual({
      runId: handle.id,
      workflowName: "alerting",
      attempt: 1,
      error: expect.objectContaining({ name: "StepFailedError", cause: expect.objectContaining({ name: "NonRetryableError", message: "no such address" }) }),
      input: { order: "o-1" },
    });
    // A second worker and some time change nothing: the hook ran once.
    await withWorker([wf], () => sleep(1500));
    expect(calls).toHaveLength(1);
    const history = await handle.history();
    expect(shapeOf(history).slice(-2)).toEqual(["RunFailed", "HookCompleted"]);
    expect(payloadsOf<HookCompletedPayload>(history, "HookCompleted")).toEqual([{ hook: "run", ok: true }]);
  });
});

test("a step's onFailure is called once when the step fails for good, not once per attempt", async () => {
  const stepCalls: FailureInfo[] = [];
  const runCalls: FailureInfo[] = [];
  let attempts = 0;
  const wf = workflow({ name: "step-hook", onFailure: (f) => void runCalls.push(f) }, async (ctx, input: { city: string }) => {
    try {
      return await ctx.step(
        "fetch-weather",
        () => {
          attempts++;
          throw new Error("503 from weather API");
        },
        { retry: { maxAttempts: 3, initialDelay: "20ms" }, onFailure: (f) => void stepCalls.push(f) },
      );
    } catch (error) {
      if (!(error instanceof StepFailedError)) throw error;
      return ctx.step("cached-weather", () => `cached weather for ${input.city}`);
    }
  });
  await withWorker([wf], async () => {
    const handle = await client.start(wf, { city: "Oslo" });
    expect(await handle.result({ timeout: "20s" })).toBe("cached weather for Oslo");
    expect(attempts).toBe(3);
    expect(stepCalls).toEqual([
      {
        runId: handle.id,
        workflowName: "step-hook",
        stepName: "fetch-weather",
        attempt: 3,
        error: expect.objectContaining({ name: "Error", message: "503 from weather API" }),
        input: { city: "Oslo" },
      },
    ]);
    // The run did not fail: its own hook is not called.
    expect(runCalls).toEqual([]);
    expect(payloadsOf<HookCompletedPayload>(await handle.history(), "HookCompleted")).toEqual([{ hook: "step:0", ok: true }]);
  });
});

test("a hook that throws is logged and changes neither the run's outcome nor its error", async () => {
  const wf = workflow(
    {
      name: "throwing-hooks",
      onFailure: () => {
        throw new Error("the pager is down");
      },
    },
    async (ctx) =>
      ctx.step(
        "upload",
        () => {
          throw new NonRetryableError("bucket does not exist");
        },
        {
          onFailure: async () => {
            throw new Error("slack webhook returned 500");
          },
        },
      ),
  );
  await withWorker([wf], async (logger) => {
    const handle = await client.start(wf, undefined);
    const error = await handle.result({ timeout: "20s" }).catch((e: unknown) => e);
    expect((error as WorkflowFailedError).cause).toMatchObject({ name: "StepFailedError", stepName: "upload" });
    expect((await handle.status()).error).toMatchObject({ name: "StepFailedError", cause: { message: "bucket does not exist" } });
    expect(logger.lines.some((l) => l.startsWith("error") && l.includes("slack webhook returned 500"))).toBe(true);
    expect(logger.lines.some((l) => l.startsWith("error") && l.includes("the pager is down"))).toBe(true);
    expect(payloadsOf<HookCompletedPayload>(await handle.history(), "HookCompleted")).toEqual([
      { hook: "step:0", ok: false, error: expect.objectContaining({ message: "slack webhook returned 500" }) },
      { hook: "run", ok: false, error: expect.objectContaining({ message: "the pager is down" }) },
    ]);
  });
});

test("the worker's hookTimeout bounds step hooks as well as the run's hook", async () => {
  const started = Date.now();
  const hang = () => new Promise<void>(() => {});
  const wf = workflow({ name: "hanging-hooks", onFailure: hang }, async (ctx) =>
    ctx.step(
      "upload",
      () => {
        throw new NonRetryableError("bucket does not exist");
      },
      { onFailure: hang },
    ),
  );
  await withWorker(
    [wf],
    async (logger) => {
      const handle = await client.start(wf, undefined);
      const error = await handle.result({ timeout: "20s" }).catch((e: unknown) => e);
      expect((error as WorkflowFailedError).cause).toMatchObject({ name: "StepFailedError", stepName: "upload" });
      // Two hooks given up after 300 ms each, not after the 60 s a step hook used to get.
      expect(Date.now() - started).toBeLessThan(15_000);
      const timedOut = { ok: false, error: expect.objectContaining({ message: "the onFailure hook did not finish within 300ms" }) };
      expect(payloadsOf<HookCompletedPayload>(await handle.history(), "HookCompleted")).toEqual([
        { hook: "step:0", ...timedOut },
        { hook: "run", ...timedOut },
      ]);
      expect(logger.lines.filter((l) => l.startsWith("error") && l.includes("did not finish within 300ms"))).toHaveLength(2);
    },
    { hookTimeout: "300ms" },
  );
});

test("each failure of a run calls onFailure once: a manual retry that fails again calls it again", async () => {
  const calls: number[] = [];
  const wf = workflow({ name: "fails-twice", onFailure: (f) => void calls.push(f.attempt) }, async (ctx) => {
    await ctx.step("ok", () => 1);
    return ctx.step("broken", () => {
      throw new NonRetryableError("still broken");
    });
  });
  await withWorker([wf], async () => {
    const handle = await client.start(wf, undefined);
    await expect(handle.result({ timeout: "20s" })).rejects.toBeInstanceOf(WorkflowFailedError);
    await client.retry(handle.id);
    await expect(handle.result({ timeout: "20s" })).rejects.toBeInstanceOf(WorkflowFailedError);
    expect(calls).toEqual([1, 2]);
    expect(payloadsOf<HookCompletedPayload>(await handle.history(), "HookCompleted")).toHaveLength(2);
  });
});

test("a worker that dies after RunFailed was recorded but before its hook was: the next worker runs the hook, once", async () => {
  const wf = workflow({ name: "ghost-failure", onFailure: (f) => void calls.push(f) }, async (ctx) => ctx.step("never", () => "not reached"));
  const calls: FailureInfo[] = [];
  const handle = await client.start(wf, { customer: "c-9" }, { id: "ghost-failure-1" });
  // A worker claims the run and records its failure, then dies: its lease lapses.
  const [claimed] = await store.claimRuns({ queue: "default", workflows: [wf.name], limit: 1, owner: "dead-worker", leaseMs: 60_000 });
  const error = { name: "Error", message: "disk full" };
  const held = await store.commitRuns({
    owner: "dead-worker",
    leases: [{ id: handle.id, epoch: claimed!.epoch }],
    events: [{ runId: handle.id, seq: 1, kind: "RunFailed", position: null, name: null, payload: JSON.stringify({ error }) }],
    moves: [],
    logs: [],
  });
  expect([...held]).toEqual([handle.id]);
  expect((await handle.status()).status).toBe("running");
  await db.sql(`UPDATE "${db.schema}".runs SET available_at = now() - interval '1 second' WHERE id = $1`, [handle.id]);

  await withWorker([wf], async () => {
    await expect(handle.result({ timeout: "20s" })).rejects.toMatchObject({ cause: { message: "disk full" } });
    await sleep(500);
  });
  expect(calls).toEqual([{ runId: handle.id, workflowName: wf.name, attempt: 1, error: expect.objectContaining(error), input: { customer: "c-9" } }]);
  expect(shapeOf(await handle.history())).toEqual(["RunStarted", "RunFailed", "HookCompleted"]);
});

const fixture = new URL("./fixtures/failure-worker.mjs", import.meta.url);

test.each([
  ["its step's hook", "step-hook", "crash-in-step-hook"],
  ["its workflow's hook", "run-hook", "crash-in-run-hook"],
])("a worker process killed right after a failure was recorded, before %s did anything: each hook runs exactly once", async (_what, killIn, id) => {
  const wf = hookedWorkflow(db.pool, db.schema);
  const handle = await client.start(wf, { customer: "c-1" }, { id });
  const child = forkWorker(fixture, { DATABASE_URL: db.url, REPRISE_SCHEMA: db.schema, SCENARIO: "hooked", KILL_IN: killIn });
  // The hook in that process kills it: the failure is durable, the hook's work is not done.
  expect(await child.exited, child.stderr()).toBe("SIGKILL");
  const history = shapeOf(await handle.history());
  expect(history).toContain("StepFailed:charge");
  if (killIn === "run-hook") expect(history.slice(-1)).toEqual(["RunFailed"]);
  expect((await handle.status()).status, "the run shows failed only once its hook ran").toBe("running");

  await withWorker([wf], async () => {
    const error = await handle.result({ timeout: "20s" }).catch((e: unknown) => e);
    expect((error as WorkflowFailedError).cause).toMatchObject({ name: "StepFailedError", stepName: "charge", attempts: 1 });
    await sleep(500);
  });

  const calls = await hookCalls(id);
  expect(calls.map((c) => c.hook).sort()).toEqual(["run", "step"]);
  const step = calls.find((c) => c.hook === "step")!;
  expect(step.info).toMatchObject({ runId: id, workflowName: "hooked", stepName: "charge", attempt: 1, input: { customer: "c-1" } });
  expect(step.info.error).toMatchObject({ name: "NonRetryableError", message: "card declined for c-1" });
  // The hook the dead process was about to run was run by the next worker; the other where it belonged.
  expect(calls.find((c) => c.hook === (killIn === "step-hook" ? "step" : "run"))!.pid).toBe(process.pid);
  if (killIn === "run-hook") expect(step.pid).toBe(child.pid);
  const hooks = payloadsOf<HookCompletedPayload>(await handle.history(), "HookCompleted");
  expect(hooks.map((h) => h.hook)).toEqual(["step:1", "run"]);
  // The step that failed was not run again by the next worker, and the completed one neither.
  const attempts = await db.sql<{ step: string; pid: number }>(`SELECT step, pid FROM "${db.schema}".attempts WHERE run_id = $1`, [id]);
  expect(attempts).toEqual([
    { step: "prepare", pid: child.pid },
    { step: "charge", pid: child.pid },
  ]);
});
