import { Client, InvalidRunStateError, RunNotFoundError, SignalTimeoutError, ValidationError, workflow, type TimerStartedPayload } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { Worker, silentLogger } from "@reprise/worker";
import { main } from "@reprise/worker/cli";
import { afterAll, beforeAll, expect, test, vi } from "vitest";
import { z } from "zod";
import { useTestSchema } from "../../../test-support/db.js";
import { sleep, waitFor } from "../../../test-support/wait.js";

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
const client = new Client({ store, migrate: false });
const cli = (...args: string[]) => main([...args, "--database-url", db.url, "--schema", db.schema]);

let openGate!: () => void;
const gate = new Promise<void>((resolve) => (openGate = resolve));

const late = workflow({ name: "late-waiter" }, async (ctx) => {
  await ctx.step("busy", () => gate);
  return ctx.waitForSignal<string>("go");
});

const approval = workflow(
  { name: "approval", signals: { approve: z.object({ by: z.string() }) } },
  async (ctx) => ctx.waitForSignal<{ by: string }>("approve"),
);

const fifo = workflow({ name: "fifo" }, async (ctx) => {
  const [a, b] = await Promise.all([ctx.waitForSignal<number>("item"), ctx.waitForSignal<number>("item")]);
  const other = await ctx.waitForSignal<string>("other");
  const c = await ctx.waitForSignal<number>("item");
  const d = await ctx.waitForSignal<number>("item");
  return { items: [a, b, c, d], other };
});

const patient = workflow({ name: "patient" }, async (ctx) => {
  try {
    return await ctx.waitForSignal<string>("reply", { timeout: "1s" });
  } catch (error) {
    if (error instanceof SignalTimeoutError) return `gave up waiting for ${error.signalName}`;
    throw error;
  }
});

const strict = workflow({ name: "strict" }, async (ctx) => {
  try {
    return await ctx.waitForSignal("count", { schema: z.number().int() });
  } catch (error) {
    return error instanceof ValidationError ? "refused a bad count" : "other error";
  }
});

let worker: Worker;
beforeAll(async () => {
  await store.migrate();
  worker = new Worker({ store, workflows: [late, approval, fifo, patient, strict], pollInterval: "100ms", logger: silentLogger, migrate: false });
  await worker.start();
});
afterAll(async () => {
  await worker.stop();
  await store.close();
});

const signalsStored = async (runId: string) =>
  (await db.sql<{ n: number }>(`SELECT count(*)::int AS n FROM "${db.schema}".signals WHERE run_id = $1`, [runId]))[0]!.n;
const waiting = (id: string) => waitFor(async () => (await client.status(id)).status === "waiting", { what: `run ${id} to wait` });

test("a signal sent before the run waits for it is kept and consumed by the wait", async () => {
  const handle = await client.start(late, undefined, { id: "early-signal" });
  await waitFor(async () => (await handle.status()).status === "running", { what: "the run to be busy" });
  await client.signal(handle.id, "go", "sent early");
  openGate();
  expect(await handle.result({ timeout: "10s" })).toBe("sent early");
  const history = await handle.history();
  const consumed = history.find((e) => e.kind === "SignalConsumed")!;
  expect(consumed).toMatchObject({ position: 1, name: "go" });
  // The signal is older than the wait that consumed it.
  const busyDone = history.find((e) => e.kind === "StepCompleted")!;
  expect(Date.parse((consumed.payload as { sentAt: string }).sentAt)).toBeLessThan(busyDone.createdAt.getTime());
});

test("a waiting run shows 'waiting', holds no worker, and a signal wakes it at once (NOTIFY, not polling)", async () => {
  // This worker polls every 30 s: only the signal's NOTIFY can wake the run quickly.
  const onQueue = workflow({ name: "notify-waiter", queue: "notify-only" }, async (ctx) => ctx.waitForSignal<{ by: string }>("approve"));
  const slow = new Worker({ store, workflows: [onQueue], pollInterval: "30s", logger: silentLogger, migrate: false });
  await slow.start();
  try {
    const handle = await client.start(onQueue, undefined, { id: "woken-at-once" });
    await waiting(handle.id);
    const [row] = await db.sql<{ lease_owner: string | null; available_at: Date | null }>(
      `SELECT lease_owner, available_at FROM "${db.schema}".runs WHERE id = 'woken-at-once'`,
    );
    expect(row).toEqual({ lease_owner: null, available_at: null });
    expect(slow.inFlight).toBe(0);

    // Sent through the CLI, as the approval example tells a human to.
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const sentAt = Date.now();
    try {
      expect(await cli("runs", "signal", handle.id, "approve", '{"by":"ada"}')).toBe(0);
    } finally {
      log.mockRestore();
    }
    expect(await handle.result({ timeout: "10s" })).toEqual({ by: "ada" });
    expect(Date.now() - sentAt).toBeLessThan(2_000);
  } finally {
    await slow.stop();
  }
});

test("signals of one name are consumed first-in first-out, by parallel and by sequential waits", async () => {
  const handle = await client.start(fifo, undefined, { id: "fifo-1" });
  await waiting(handle.id);
  // One while the two parallel waits are parked, then the rest in a burst.
  await client.signal(handle.id, "item", 1);
  await sleep(200);
  for (const n of [2, 3]) await client.signal(handle.id, "item", n);
  await client.signal(handle.id, "other", "not an item");
  await client.signal(handle.id, "item", 4);
  expect(await handle.result({ timeout: "10s" })).toEqual({ items: [1, 2, 3, 4], other: "not an item" });
  const consumed = (await handle.history()).filter((e) => e.kind === "SignalConsumed");
  expect(consumed.map((e) => [e.position, e.name, (e.payload as { payload: unknown }).payload])).toEqual(
    expect.arrayContaining([
      [0, "item", 1],
      [1, "item", 2],
      [2, "other", "not an item"],
      [3, "item", 3],
      [4, "item", 4],
    ]),
  );
  expect(consumed).toHaveLength(5);
});

test("a wait that times out throws SignalTimeoutError, which the workflow catches; it fires on time, not early", async () => {
  const handle = await client.start(patient, undefined, { id: "timeout-1" });
  await waiting(handle.id);
  expect(await handle.result({ timeout: "10s" })).toBe("gave up waiting for reply");
  const history = await handle.history();
  const started = history.find((e) => e.kind === "TimerStarted")!;
  const fired = history.find((e) => e.kind === "TimerFired")!;
  const wakeAt = Date.parse((started.payload as TimerStartedPayload).wakeAt);
  expect(wakeAt - started.createdAt.getTime()).toBeGreaterThan(500);
  expect(fired.createdAt.getTime()).toBeGreaterThanOrEqual(wakeAt);
  expect(fired.createdAt.getTime() - wakeAt).toBeLessThan(1_500);
  expect(history.some((e) => e.kind === "SignalConsumed")).toBe(false);
  // The run is over: a late reply is refused.
  await expect(client.signal(handle.id, "reply", "too late")).rejects.toBeInstanceOf(InvalidRunStateError);
});

test("a payload failing the workflow's declared signal schema is refused by client.signal() and nothing is stored", async () => {
  const handle = await client.start(approval, undefined, { id: "bad-payload" });
  await waiting(handle.id);
  const error = await client.signal(handle.id, "approve", { by: 42 }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ValidationError);
  expect((error as Error).message).toMatch(/payload of signal "approve".*by/);
  await expect(client.signal(handle.id, "approve")).rejects.toBeInstanceOf(ValidationError);
  expect(await signalsStored(handle.id)).toBe(0);
  expect((await handle.status()).status).toBe("waiting");

  await client.signal(handle.id, "approve", { by: "grace" });
  expect(await handle.result({ timeout: "10s" })).toEqual({ by: "grace" });
  expect(await signalsStored(handle.id)).toBe(1);
});

test("a schema given only to the wait is checked when the signal is consumed: the workflow sees a ValidationError", async () => {
  const handle = await client.start(strict, undefined, { id: "bad-count" });
  await waiting(handle.id);
  await client.signal(handle.id, "count", "three"); // the client cannot know this wait's schema
  expect(await handle.result({ timeout: "10s" })).toBe("refused a bad count");
});

test("signalling a completed run is InvalidRunStateError, an unknown run RunNotFoundError; the CLI says so in one line", async () => {
  const handle = await client.start(approval, undefined, { id: "done-run" });
  await waiting(handle.id);
  await client.signal(handle.id, "approve", { by: "ada" });
  await handle.result({ timeout: "10s" });
  const stored = await signalsStored(handle.id);

  const ended = await client.signal(handle.id, "approve", { by: "bob" }).catch((e: unknown) => e);
  expect(ended).toBeInstanceOf(InvalidRunStateError);
  expect((ended as InvalidRunStateError).status).toBe("completed");
  expect(await signalsStored(handle.id)).toBe(stored);
  await expect(client.signal("no-such-run", "approve", { by: "bob" })).rejects.toBeInstanceOf(RunNotFoundError);

  const errors: string[] = [];
  const err = vi.spyOn(console, "error").mockImplementation((line: string) => void errors.push(String(line)));
  try {
    expect(await cli("runs", "signal", handle.id, "approve", '{"by":"bob"}')).toBe(1);
    expect(await cli("runs", "signal", "no-such-run", "approve")).toBe(1);
  } finally {
    err.mockRestore();
  }
  expect(errors).toHaveLength(2);
  expect(errors[0]).toMatch(/^reprise: .*done-run.*completed/);
  expect(errors[1]).toMatch(/^reprise: .*no-such-run/);
  expect(errors.join("\n")).not.toMatch(/\n\s+at /);
});
