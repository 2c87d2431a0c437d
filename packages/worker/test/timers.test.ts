import { Client, workflow, type HistoryEvent, type StepCompletedPayload, type TimerStartedPayload } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { Worker, silentLogger, type WorkerOptions } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";
import { sleep, waitFor } from "../../../test-support/wait.js";

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
const client = new Client({ store, migrate: false });
beforeAll(() => store.migrate());
afterAll(() => store.close());

/** The database's clock, as a step result: a timestamp no worker's clock can skew. */
const dbNow = async () => (await store.now()).toISOString();
const bodies: string[] = [];

const nap = workflow({ name: "nap" }, async (ctx, input: { ms: number }) => {
  const before = await ctx.step("before", () => (bodies.push(`${ctx.runId}:before`), dbNow()));
  await ctx.sleep(input.ms);
  const after = await ctx.step("after", () => (bodies.push(`${ctx.runId}:after`), dbNow()));
  return { before, after };
});

const newWorker = (options: Partial<WorkerOptions> = {}) =>
  new Worker({ ...db.connection, workflows: [nap], pollInterval: "100ms", logger: silentLogger, migrate: false, ...options });

/** The recorded facts about the run's sleep and the step after it. */
function timing(history: HistoryEvent[]) {
  const started = history.find((e) => e.kind === "TimerStarted")!;
  const fired = history.find((e) => e.kind === "TimerFired")!;
  const after = history.find((e) => e.kind === "StepCompleted" && e.name === "after")!;
  const afterPayload = after.payload as StepCompletedPayload;
  return {
    /** When the sleep was recorded (database clock, at its commit). */
    sleptAt: started.createdAt.getTime(),
    wakeAt: Date.parse((started.payload as TimerStartedPayload).wakeAt),
    firedAt: fired.createdAt.getTime(),
    /** When the step after the sleep began (the worker's view of the database clock). */
    afterStartedAt: Date.parse(afterPayload.startedAt),
    /** What that step read from the database's own clock. */
    afterDbNow: Date.parse(afterPayload.result as string),
  };
}

test("a 2 s sleep survives stopping every worker and starting a new one, firing neither early nor never", async () => {
  // The sleep is longer than suspendAfter, so the run is parked in Postgres, not in memory.
  const first = newWorker({ suspendAfter: "500ms" });
  await first.start();
  const handle = await client.start(nap, { ms: 2_000 }, { id: "nap-restart" });
  await waitFor(async () => (await handle.status()).status === "sleeping", { what: "the run to show status sleeping" });
  await first.stop();

  // No worker runs at all now: the run is still there, still sleeping, held by nobody.
  const [row] = await db.sql<{ status: string; lease_owner: string | null; available_at: Date }>(
    `SELECT status, lease_owner, available_at FROM "${db.schema}".runs WHERE id = 'nap-restart'`,
  );
  expect(row!.status).toBe("sleeping");
  expect(row!.lease_owner).toBeNull();
  const recordedWake = Date.parse(((await handle.history()).find((e) => e.kind === "TimerStarted")!.payload as TimerStartedPayload).wakeAt);
  expect(row!.available_at.getTime()).toBe(recordedWake);
  expect((await handle.status()).status).toBe("sleeping");
  await sleep(300);

  // A new worker starts before the run is due: it must wait for the wake-up time.
  const second = newWorker();
  await second.start();
  try {
    await handle.result({ timeout: "20s" });
  } finally {
    await second.stop();
  }

  const history = await handle.history();
  expect(history.map((e) => `${e.kind}${e.name ? `:${e.name}` : ""}`)).toEqual([
    "RunStarted",
    "StepCompleted:before",
    "TimerStarted:sleep",
    "TimerFired:sleep",
    "StepCompleted:after",
    "RunCompleted",
  ]);
  const t = timing(history);
  // The wake-up time is 2 s after the sleep began (its commit came a little after it began).
  expect(t.wakeAt - t.sleptAt).toBeLessThanOrEqual(2_000);
  expect(t.wakeAt - t.sleptAt).toBeGreaterThan(1_500);
  // Not early: the step after the sleep started 2 s after the sleep was recorded, by the
  // engine's timestamps and by the database's own clock (a few ms of clock-estimate slack).
  expect(t.afterStartedAt - t.sleptAt).toBeGreaterThanOrEqual(2_000 - 50);
  expect(t.afterDbNow).toBeGreaterThanOrEqual(t.wakeAt);
  expect(t.firedAt).toBeGreaterThanOrEqual(t.wakeAt);
  // Not lost, nor much late: the new worker polls every 100 ms.
  expect(t.afterDbNow - t.wakeAt).toBeLessThan(1_500);
  // The step before the sleep ran once, although two workers executed the run.
  expect(bodies.filter((b) => b === "nap-restart:before")).toHaveLength(1);
});

for (const stop of ["graceful", "forced"] as const) {
  test(`a short sleep held in memory keeps its wake-up time across a ${stop} worker stop`, async () => {
    const id = `nap-${stop}`;
    // 1.5 s is under the default suspendAfter (2 s): the first worker keeps the run in memory,
    // but its wake-up time is durable before the wait begins.
    const first = newWorker();
    await first.start();
    const handle = await client.start(nap, { ms: 1_500 }, { id });
    await waitFor(async () => (await handle.history()).some((e) => e.kind === "TimerStarted"), {
      timeoutMs: 1_000,
      what: "the sleep's wake-up time to be recorded while the run sleeps",
    });
    expect((await handle.status()).status).toBe("running");
    expect(first.inFlight).toBe(1);
    // Graceful: the sleeping run is handed back. Forced: it is dropped as in a crash, and
    // nothing the worker had not yet written survives.
    await first.stop(stop === "forced" ? { force: true } : {});
    expect((await handle.status()).status).not.toBe("completed");

    const second = newWorker();
    await second.start();
    try {
      await handle.result({ timeout: "20s" });
    } finally {
      await second.stop();
    }
    const history = await handle.history();
    expect(history.filter((e) => e.kind === "TimerStarted"), "the sleep did not start over").toHaveLength(1);
    const t = timing(history);
    expect(t.afterStartedAt - t.sleptAt).toBeGreaterThanOrEqual(1_500 - 50);
    expect(t.afterDbNow).toBeGreaterThanOrEqual(t.wakeAt);
    expect(t.afterDbNow - t.wakeAt).toBeLessThan(1_500);
    expect(bodies.filter((b) => b === `${id}:before`)).toHaveLength(1);
  });
}

test("sleepUntil a time already past does not wait, and a sleep on a worker that stays up fires once", async () => {
  const until = workflow({ name: "until" }, async (ctx) => {
    await ctx.sleepUntil(new Date(Date.now() - 60_000));
    await ctx.sleep("1s");
    return ctx.step("done", () => "done");
  });
  const worker = new Worker({ ...db.connection, workflows: [until], suspendAfter: "100ms", pollInterval: "100ms", logger: silentLogger, migrate: false });
  await worker.start();
  try {
    const handle = await client.start(until, undefined);
    expect(await handle.result({ timeout: "10s" })).toBe("done");
    const kinds = (await handle.history()).map((e) => e.kind);
    expect(kinds.filter((k) => k === "TimerStarted")).toHaveLength(2);
    expect(kinds.filter((k) => k === "TimerFired")).toHaveLength(2);
  } finally {
    await worker.stop();
  }
});
