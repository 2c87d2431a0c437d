import { Client, queue, workflow } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";
import { sleep } from "../../../test-support/wait.js";

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
const client = new Client({ store, migrate: false });
beforeAll(() => store.migrate());
afterAll(() => store.close());

/** Tracks how many step bodies run at the same time. */
function gauge() {
  let now = 0;
  let max = 0;
  return {
    async hold(ms: number) {
      now++;
      max = Math.max(max, now);
      await sleep(ms);
      now--;
    },
    get max() {
      return max;
    },
  };
}

test("a global concurrency limit of 3 holds across two workers of concurrency 10", async () => {
  const g = gauge();
  const limited = queue("limited", { concurrency: 3 });
  const wf = workflow({ name: "limited-work", queue: limited }, async (ctx) => {
    await ctx.step("work", () => g.hold(60));
    return ctx.step("more", () => g.hold(20));
  });
  const workers = [1, 2].map(
    () => new Worker({ ...db.connection, workflows: [wf], concurrency: 10, pollInterval: "30ms", logger: silentLogger, migrate: false }),
  );
  await Promise.all(workers.map((w) => w.start()));
  try {
    const handles = await Promise.all(Array.from({ length: 30 }, () => client.start(wf, undefined)));
    await Promise.all(handles.map((h) => h.result({ timeout: "60s" })));
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
  expect(g.max).toBe(3);
});

test("a per-worker limit caps how many runs of a queue one worker runs at once", async () => {
  const g = gauge();
  const perWorker = queue("per-worker", { workerConcurrency: 2 });
  const wf = workflow({ name: "per-worker-work", queue: perWorker }, async (ctx) => ctx.step("work", () => g.hold(50)));
  const worker = new Worker({ ...db.connection, workflows: [wf], concurrency: 10, pollInterval: "30ms", logger: silentLogger, migrate: false });
  await worker.start();
  try {
    const handles = await Promise.all(Array.from({ length: 10 }, () => client.start(wf, undefined)));
    await Promise.all(handles.map((h) => h.result({ timeout: "30s" })));
  } finally {
    await worker.stop();
  }
  expect(g.max).toBe(2);
});

test("a rate limit allows at most `limit` claims in any window of `period`, across workers", async () => {
  const starts: number[] = [];
  const rated = queue("rated", { rateLimit: { limit: 5, period: "1s" } });
  const wf = workflow({ name: "rated-work", queue: rated }, async (ctx) => ctx.step("go", () => void starts.push(Date.now())));
  const workers = [1, 2].map(
    () => new Worker({ ...db.connection, workflows: [wf], concurrency: 10, pollInterval: "50ms", logger: silentLogger, migrate: false }),
  );
  await Promise.all(workers.map((w) => w.start()));
  try {
    const handles = await Promise.all(Array.from({ length: 12 }, () => client.start(wf, undefined)));
    await Promise.all(handles.map((h) => h.result({ timeout: "30s" })));
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
  starts.sort((a, b) => a - b);
  // Any 5 consecutive starts... the 6th after a window start must be ~1s later.
  for (let i = 5; i < starts.length; i++) expect(starts[i]! - starts[i - 5]!).toBeGreaterThanOrEqual(900);
  expect(starts[starts.length - 1]! - starts[0]!).toBeGreaterThanOrEqual(1_900);
});

test("higher priority runs are claimed first, and a delayed run waits", async () => {
  const order: string[] = [];
  const wf = workflow({ name: "ordered", queue: "ordered" }, async (ctx, input: { label: string }) =>
    ctx.step("record", () => void order.push(input.label)),
  );
  const delayed = await client.start(wf, { label: "delayed" }, { delay: "700ms" });
  // One after the other: within a priority, the older run goes first.
  const low = [await client.start(wf, { label: "low-1" }, { priority: 0 }), await client.start(wf, { label: "low-2" }, { priority: 0 })];
  const high = await client.start(wf, { label: "high" }, { priority: 10 });
  const worker = new Worker({ ...db.connection, workflows: [wf], concurrency: 1, pollInterval: "50ms", logger: silentLogger, migrate: false });
  await worker.start();
  try {
    await Promise.all([high, ...low].map((h) => h.result({ timeout: "10s" })));
    expect(order).toEqual(["high", "low-1", "low-2"]);
    expect((await delayed.status()).status).toBe("queued");
    await delayed.result({ timeout: "10s" });
    expect(order).toEqual(["high", "low-1", "low-2", "delayed"]);
  } finally {
    await worker.stop();
  }
});
