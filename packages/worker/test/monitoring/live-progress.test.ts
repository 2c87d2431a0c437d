import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Client, workflow } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { forkWorker } from "../../../../test-support/child-worker.js";
import { useTestSchema } from "../../../../test-support/db.js";
import { sleep, waitFor } from "../../../../test-support/wait.js";
// @ts-expect-error a plain JS fixture, shared with the worker process the test kills
import { hangingWorkflow } from "../fixtures/hanging-workflow.mjs";

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
const client = new Client({ store, migrate: false });
beforeAll(() => store.migrate());
afterAll(() => store.close());

const bin = fileURLToPath(new URL("../../bin/reprise.js", import.meta.url));
const cli = (...args: string[]) =>
  promisify(execFile)(process.execPath, [bin, ...args, "--database-url", db.url, "--schema", db.schema], { env: { ...process.env, NO_COLOR: "1" } });
const messages = async (runId: string) => (await store.logs(runId)).map((l) => l.message);

test("a step killed mid-attempt keeps the log lines it wrote, and runs show showed it in flight on its worker", async () => {
  await client.start(hangingWorkflow, undefined, { id: "hang-1" });
  const doomed = forkWorker(new URL("../fixtures/hanging-worker.mjs", import.meta.url), {
    DATABASE_URL: db.url,
    REPRISE_SCHEMA: db.schema,
    REPRISE_WORKER_ID: "doomed-worker",
  });
  try {
    // The step has not ended, so no commit of its own carried these: the progress batch did.
    await waitFor(async () => (await messages("hang-1")).length === 2, { timeoutMs: 15_000, what: `the hanging step's lines (${doomed.stderr()})` });
    const info = await waitFor(async () => (await client.status("hang-1")).currentStep && (await client.status("hang-1")), { what: "the step in flight" });
    expect(info.status).toBe("running");
    expect(info.currentStep).toMatchObject({ name: "call-slow-service", position: 1, attempt: 1, workerId: "doomed-worker" });

    const shown = (await cli("runs", "show", "hang-1")).stdout;
    expect(shown).toMatch(/in flight\s+step call-slow-service \(#1\) attempt 1 · running for \S+ \(since \S+\) · worker doomed-worker/);
    expect(shown).toMatch(/1\s+step\s+call-slow-service\s+running\s+1\s+\S+\s+\S+\s+in flight on doomed-worker/);
    expect(shown).toContain("calling the slow service");
  } finally {
    await doomed.kill();
  }

  const lines = await store.logs("hang-1");
  expect(lines.map((l) => [l.step, l.attempt, l.level, l.message, (l.fields as { pid?: number } | null)?.pid ?? null])).toEqual([
    ["call-slow-service", 1, "info", "calling the slow service", doomed.pid],
    ["call-slow-service", 1, "warn", "no answer yet, still waiting", null],
  ]);
  expect((await store.history("hang-1")).some((e) => e.position === 1)).toBe(false);

  // Its lease lapses (1 s): the snapshot stays, and says that its worker stopped renewing it.
  await waitFor(async () => ((await store.getRun("hang-1"))!.availableAt!.getTime() < (await store.now()).getTime()), { what: "the lease to lapse" });
  expect((await cli("runs", "show", "hang-1")).stdout).toContain("worker doomed-worker has not renewed its lease since it lapsed");

  // Another worker runs the step again; the killed attempt's lines are still there, before its own.
  const worker = new Worker({ store, workflows: [hangingWorkflow], logger: silentLogger, pollInterval: "100ms", migrate: false });
  await worker.start();
  try {
    expect(await client.result("hang-1", { timeout: "20s" })).toBe(42);
  } finally {
    await worker.stop();
  }
  const after = await store.logs("hang-1");
  expect(after.map((l) => (l.fields as { pid?: number } | null)?.pid).filter(Boolean)).toEqual([doomed.pid, process.pid]);
  expect((await client.status("hang-1")).currentStep).toBeUndefined();
});

test("a running step's lines are written while it runs, and its completion does not write them again", async () => {
  const chatty = workflow({ name: "chatty" }, async (ctx) => {
    await ctx.step("talk", async (step) => {
      step.log.info("first");
      // Still running: the line is already in the database.
      await waitFor(async () => (await messages(ctx.runId)).includes("first"), { timeoutMs: 10_000, what: "the first line, written while the step runs" });
      step.log.info("second");
    });
    ctx.log.info("done");
  });
  const worker = new Worker({ store, workflows: [chatty], logger: silentLogger, pollInterval: "100ms", progressInterval: "200ms", migrate: false });
  await worker.start();
  try {
    await client.run(chatty, undefined, { id: "chatty-1", timeout: "20s" });
  } finally {
    await worker.stop();
  }
  const lines = await store.logs("chatty-1");
  expect(lines.map((l) => [l.message, l.step, l.attempt])).toEqual([
    ["first", "talk", 1],
    ["second", "talk", 1],
    ["done", null, null],
  ]);
  expect(lines.map((l) => BigInt(l.id))).toEqual(lines.map((l) => BigInt(l.id)).sort((a, b) => (a < b ? -1 : 1)));
});

test("a worker that lost a run's lease writes none of its lines any more, and stops the step", async () => {
  let aborted = false;
  const talker = workflow({ name: "talker" }, async (ctx) =>
    ctx.step("talk", async ({ log, signal }) => {
      for (let i = 0; !signal.aborted && i < 200; i++) {
        log.info(`line ${i}`);
        await sleep(25);
      }
      aborted = signal.aborted;
    }),
  );
  // A long lease: nothing but the fenced writes can tell this worker that it lost the run.
  const worker = new Worker({ store, workflows: [talker], logger: silentLogger, pollInterval: "100ms", progressInterval: "100ms", leaseDuration: "60s", migrate: false });
  await worker.start();
  try {
    await client.start(talker, undefined, { id: "talker-1" });
    await waitFor(async () => (await messages("talker-1")).length >= 2, { what: "the first lines" });
    // Another worker takes the run over (as after a lapsed lease); its claim waits for any write in flight.
    await db.sql(`UPDATE "${db.schema}".runs SET available_at = now() - interval '1 second' WHERE id = 'talker-1'`);
    const [taken] = await store.claimRuns({ queue: "default", workflows: ["talker"], limit: 1, owner: "thief", leaseMs: 60_000 });
    expect(taken?.id).toBe("talker-1");
    const before = (await store.logs("talker-1")).length;
    await waitFor(() => aborted, { what: "the step to see its signal aborted" });
    await sleep(300);
    expect((await store.logs("talker-1")).length).toBe(before);
    expect(await worker.metricsRegistry.metrics()).toMatch(/reprise_leases_lost_total\{workflow="talker"\} 1/);
  } finally {
    await worker.stop();
  }
});
