import { Client, SerializationError, StepFailedError, replay, workflow, type PayloadOptions } from "@reprise/sdk";
import { createStore, type Store } from "@reprise/store";
import { Worker, silentLogger, type WorkerOptions } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";
import { waitFor } from "../../../test-support/wait.js";

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
const client = new Client({ store, migrate: false });
const s = `"${db.schema}"`;
beforeAll(() => store.migrate());
afterAll(() => store.close());

/**
 * The store, watched: the ids of the values stored out of line read through it, and the
 * size of the histories it loaded for replay (their events' payloads as JSON).
 */
function counting(inner: Store): { store: Store; loaded: string[]; historyBytes: () => number } {
  const loaded: string[] = [];
  let historyBytes = 0;
  const store = new Proxy(inner, {
    get(target, prop) {
      if (prop === "loadPayloads") {
        return (runId: string, ids: readonly string[]) => {
          loaded.push(...ids);
          return target.loadPayloads(runId, ids);
        };
      }
      if (prop === "loadHistories") {
        return async (ids: readonly string[]) => {
          const histories = await target.loadHistories(ids);
          for (const h of histories.values()) historyBytes += JSON.stringify(h.events.map((e) => e.payload)).length;
          return histories;
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store, loaded, historyBytes: () => historyBytes };
}

async function worker(workflows: WorkerOptions["workflows"], options: { store?: Store; payloads?: PayloadOptions } = {}): Promise<Worker> {
  const w = new Worker({ store: options.store ?? store, workflows, pollInterval: "50ms", logger: silentLogger, migrate: false, ...(options.payloads ? { payloads: options.payloads } : {}) });
  await w.start();
  return w;
}
const waiting = (id: string) => waitFor(async () => (await client.status(id)).status === "waiting", { timeoutMs: 40_000, what: `run ${id} to wait` });
const one = async <R extends Record<string, unknown>>(sql: string, values?: unknown[]) => (await db.sql<R>(sql, values))[0]!;

const TEN_MB = 10_000_000;
const report = workflow({ name: "big-report" }, async (ctx) => {
  const built = await ctx.step("build", () => ({ rows: "r".repeat(TEN_MB) }));
  await ctx.waitForSignal("publish");
  return ctx.step("publish", () => built.rows.length);
});

test("a 10 MB step result is stored out of line and comes back through a replay on another worker, read once", async () => {
  const first = await worker([report]);
  await client.start(report, undefined, { id: "report-1" });
  await waiting("report-1");
  await first.stop();

  // The event holds a reference; the value is in payloads, written once.
  const event = await one<{ bytes: number; payload: { result: unknown } }>(
    `SELECT octet_length(payload::text) AS bytes, payload FROM ${s}.events WHERE run_id = 'report-1' AND kind = 'StepCompleted'`,
  );
  expect(event.bytes).toBeLessThan(200);
  expect(event.payload.result).toEqual({ "$reprise.payload": { id: expect.any(String), bytes: TEN_MB + 11 } });
  expect(await one(`SELECT count(*)::int AS n, sum(bytes)::int AS bytes FROM ${s}.payloads WHERE run_id = 'report-1'`)).toEqual({ n: 1, bytes: TEN_MB + 11 });

  // Another worker replays the run: the history it loads is references; the value is read
  // when the code reaches the step, once.
  const { store: watched, loaded } = counting(store);
  const second = await worker([report], { store: watched });
  try {
    await client.signal("report-1", "publish");
    expect(await client.handle("report-1").result({ timeout: "20s" })).toBe(TEN_MB);
    expect(loaded).toHaveLength(1);
    // A fork copies the values its copied events refer to.
    const fork = await client.fork("report-1", { fromStep: 2, id: "report-1-fork" });
    expect(await fork.result({ timeout: "20s" })).toBe(TEN_MB);
    expect(await one(`SELECT count(*)::int AS n FROM ${s}.payloads WHERE run_id = 'report-1-fork'`)).toEqual({ n: 1 });
  } finally {
    await second.stop();
  }

  // Readers see the value; replay() replays it with no database at hand.
  const history = await client.history("report-1");
  const built = history.find((e) => e.kind === "StepCompleted")!.payload as { result: { rows: string } };
  expect(built.result.rows.length).toBe(TEN_MB);
  expect((await replay(report, history)).output).toBe(TEN_MB);
  // Or, read as references, with the values loaded as the replay reaches them.
  const references = await client.history("report-1", { values: "references" });
  expect(await replay(report, references, { loadPayload: (id) => client.payload("report-1", id) })).toMatchObject({ outcome: "completed", output: TEN_MB });
  const blind = await replay(report, references);
  expect(blind.outcome).toBe("failed");
  expect(blind.error!.message).toMatch(/refers to a value stored out of line .* pass loadPayload/);
});

const HUNDRED_MB = 100_000_000;
const huge = workflow({ name: "huge-result" }, async (ctx) => ctx.step("build", () => "h".repeat(HUNDRED_MB), { retry: { maxAttempts: 3, initialDelay: 1 } }));

test("a 100 MB step result is over the 64 MiB limit: the step fails at once with SerializationError naming the size, and nothing of it is stored", async () => {
  const w = await worker([huge]);
  try {
    const handle = await client.start(huge, undefined, { id: "huge-1" });
    const failure = await handle.result({ timeout: "30s" }).then(
      () => undefined,
      (error: Error) => error.cause as StepFailedError,
    );
    expect(failure).toBeInstanceOf(StepFailedError);
    expect(failure!.attempts).toBe(1);
    expect(failure!.cause).toBeInstanceOf(SerializationError);
    expect(failure!.cause.message).toBe(
      'result of step "build" is 95.4 MiB (100000002 bytes), over the limit of 64.0 MiB (67108864 bytes) (payloads.maxSize): store it elsewhere and pass a reference',
    );
  } finally {
    await w.stop();
  }
  expect(await one(`SELECT count(*)::int AS n FROM ${s}.payloads WHERE run_id = 'huge-1'`)).toEqual({ n: 0 });
  expect((await one<{ n: number }>(`SELECT max(octet_length(payload::text))::int AS n FROM ${s}.events WHERE run_id = 'huge-1'`)).n).toBeLessThan(10_000);
});

const echo = workflow({ name: "echo-large" }, async (ctx, input: { blob: string }) => {
  const reply = await ctx.waitForSignal<{ blob: string }>("reply");
  return { input: input.blob.length, reply: reply.blob.length, echoed: input.blob + reply.blob };
});

test("a large input, signal payload and output are stored out of line too; a value over maxSize is refused before anything is stored", async () => {
  const small = { inlineLimit: 1024 };
  const frugal = new Client({ store, migrate: false, payloads: small });
  const w = await worker([echo], { payloads: small });
  try {
    const handle = await frugal.start(echo, { blob: "i".repeat(5_000) }, { id: "echo-1" });
    await waiting("echo-1");
    await frugal.signal("echo-1", "reply", { blob: "s".repeat(6_000) });
    const result = (await handle.result({ timeout: "10s" })) as { input: number; reply: number; echoed: string };
    expect(result).toMatchObject({ input: 5_000, reply: 6_000 });
    expect(result.echoed).toHaveLength(11_000);
    // Every one of them is a reference where it is kept, and a value where it is read.
    const run = await one<{ input: unknown; output: unknown }>(`SELECT input, output FROM ${s}.runs WHERE id = 'echo-1'`);
    expect(run.input).toMatchObject({ "$reprise.payload": { bytes: 5_011 } });
    expect(run.output).toMatchObject({ "$reprise.payload": { bytes: expect.any(Number) } });
    const signal = await one<{ payload: unknown }>(`SELECT payload FROM ${s}.signals WHERE run_id = 'echo-1'`);
    expect(signal.payload).toMatchObject({ "$reprise.payload": { bytes: 6_011 } });
    expect(await one(`SELECT count(*)::int AS n FROM ${s}.payloads WHERE run_id = 'echo-1'`)).toEqual({ n: 3 });
    expect((await frugal.status("echo-1")).input).toEqual({ blob: "i".repeat(5_000) });
    expect((await frugal.listRuns({ workflow: "echo-large" }))[0]!.input).toMatchObject({ "$reprise.payload": { bytes: 5_011 } });
  } finally {
    await w.stop();
    await frugal.close();
  }

  const capped = new Client({ store, migrate: false, payloads: { maxSize: 1_000 } });
  await expect(capped.start(echo, { blob: "x".repeat(2_000) }, { id: "echo-2" })).rejects.toThrow(
    /^input of workflow "echo-large" is 2.0 KiB \(2011 bytes\), over the limit of 1000 bytes \(payloads.maxSize\)/,
  );
  await expect(client.status("echo-2")).rejects.toThrow(/no run with id/);
  await expect(capped.start(echo, { "$reprise.payload": { id: "x", bytes: 1 } } as never)).rejects.toThrow(/reserved for references/);
  expect(() => new Client({ store, payloads: { maxSize: 300 * 1024 * 1024 } })).toThrow(/payloads.maxSize must be an integer number of bytes from 1 to 268435455/);
  expect(() => new Worker({ store, workflows: [echo], payloads: { inlineLimit: 2_000, maxSize: 1_000 } })).toThrow(/inlineLimit \(2000\) is over payloads.maxSize \(1000\)/);
});

const PAGES_PER_BATCH = 99;
const BATCHES = 100;
const page = (i: number) => `${i}:${"p".repeat(2_000)}`;
// 100 batches of 99 pages and one upload: 10,000 steps whose pages are stored out of line.
const exportPages = workflow({ name: "export-pages" }, async (ctx) => {
  let last: Promise<string> | undefined;
  for (let batch = 0; batch < BATCHES; batch++) {
    const pages = Array.from({ length: PAGES_PER_BATCH }, (_, i) => ctx.step(`page-${batch * PAGES_PER_BATCH + i}`, () => page(batch * PAGES_PER_BATCH + i)));
    last = pages[PAGES_PER_BATCH - 1];
    // The step that reads the pages is handed their promises: on replay it is recorded, its
    // function does not run, and the pages are never read.
    await ctx.step(`upload-${batch}`, async () => (await Promise.all(pages)).length);
  }
  await ctx.waitForSignal("done");
  return ctx.step("summary", async () => (await last!).slice(0, 5));
});

test("a 10,000-step history of large results replays on another worker reading only the one value its code awaits", async () => {
  const small = { inlineLimit: 1024 };
  const first = await worker([exportPages], { payloads: small });
  await client.start(exportPages, undefined, { id: "export-1" });
  await waiting("export-1");
  await first.stop();
  expect(await one(`SELECT count(*)::int AS n FROM ${s}.events WHERE run_id = 'export-1' AND kind = 'StepCompleted'`)).toEqual({ n: 10_000 });
  expect(await one(`SELECT count(*)::int AS n FROM ${s}.payloads WHERE run_id = 'export-1'`)).toEqual({ n: BATCHES * PAGES_PER_BATCH });

  const { store: watched, loaded, historyBytes } = counting(store);
  const second = await worker([exportPages], { store: watched, payloads: small });
  try {
    await client.signal("export-1", "done");
    expect(await client.handle("export-1").result({ timeout: "30s" })).toBe("9899:");
  } finally {
    await second.stop();
  }
  expect(loaded, "values read by the replay").toHaveLength(1);
  // The history it replayed is references: about 1.5 MB, where the pages are 20 MB.
  expect(historyBytes()).toBeGreaterThan(0);
  expect(historyBytes()).toBeLessThan(3_000_000);
});
