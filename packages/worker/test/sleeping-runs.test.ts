import { Client, workflow } from "@reprise/sdk";
import { createStore, type NewRun } from "@reprise/store";
import { Worker, silentLogger } from "@reprise/worker";
import v8 from "node:v8";
import vm from "node:vm";
import pg from "pg";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";
import { waitFor } from "../../../test-support/wait.js";

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
const client = new Client({ store, migrate: false });
const SLEEPERS = 10_000;

const dormant = workflow({ name: "dormant" }, async (ctx) => {
  await ctx.sleep("1h");
  return "woke";
});
const quick = workflow({ name: "quick" }, async (ctx) => ctx.step("hello", () => "hello"));

let worker: Worker;
beforeAll(() => store.migrate());
afterAll(async () => {
  await worker?.stop();
  await store.close();
});

const count = async (where: string) => (await db.sql<{ n: number }>(`SELECT count(*)::int AS n FROM "${db.schema}".runs WHERE ${where}`))[0]!.n;
const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;
/** Live heap after a full collection. */
const heap = () => (gc(), gc(), process.memoryUsage().heapUsed);

/** A plan node of EXPLAIN (FORMAT JSON), with the fields read here. */
interface PlanNode {
  "Node Type": string;
  "Index Name"?: string;
  "Relation Name"?: string;
  "Actual Rows"?: number;
  "Rows Removed by Filter"?: number;
  "Shared Hit Blocks"?: number;
  "Shared Read Blocks"?: number;
  Plans?: PlanNode[];
}
const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];

test("10,000 sleeping runs hold no worker slot and no timer; a new run starts at once and a claim stays cheap", async () => {
  for (let batch = 0; batch < SLEEPERS / 1_000; batch++) {
    const runs: NewRun[] = Array.from({ length: 1_000 }, (_, i) => ({
      id: `dormant-${String(batch * 1_000 + i).padStart(5, "0")}`,
      workflow: dormant.name,
      queue: dormant.queue,
      fingerprint: dormant.fingerprint,
    }));
    expect((await store.startRuns(runs)).size).toBe(1_000);
  }
  const timersBefore = timers();
  const heapBefore = heap();

  worker = new Worker({ store, workflows: [dormant, quick], concurrency: 10, pollInterval: "200ms", logger: silentLogger, migrate: false });
  const started = Date.now();
  await worker.start();
  await waitFor(async () => (await count("status = 'sleeping'")) === SLEEPERS, { timeoutMs: 50_000, intervalMs: 250, what: "every run to suspend" });
  const suspendMs = Date.now() - started;

  // Nothing of them is left in the worker: no slot, no lease, no timer per run.
  await waitFor(() => worker.inFlight === 0, { timeoutMs: 2_000, what: "the worker to hold no run" });
  expect(await count("lease_owner IS NOT NULL")).toBe(0);
  expect(await count("status = 'sleeping' AND available_at > now() + interval '59 minutes'")).toBe(SLEEPERS);
  expect(timers() - timersBefore, "timers held by the worker").toBeLessThan(20);
  // Nor memory: what a parked run's execution held is garbage once it suspended.
  const heapGrowth = heap() - heapBefore;
  expect(heapGrowth, "bytes of heap kept after 10,000 runs suspended").toBeLessThan(8 * 1024 * 1024);

  // A new run on the same queue is not stuck behind them.
  const t0 = Date.now();
  expect(await client.run(quick, undefined, { timeout: "10s" })).toBe("hello");
  const freshMs = Date.now() - t0;
  expect(freshMs).toBeLessThan(1_000);

  // A claim with nothing due: time it, and look at what it reads.
  const probePool = new pg.Pool({ connectionString: db.url, max: 1 });
  const captured: { text: string; values?: unknown[] }[] = [];
  const query = probePool.query.bind(probePool) as (config: unknown) => Promise<unknown>;
  (probePool as unknown as { query: (config: unknown) => Promise<unknown> }).query = (config) => {
    captured.push(config as { text: string; values?: unknown[] });
    return query(config);
  };
  const probe = createStore({ pool: probePool, schema: db.schema });
  const args = { queue: "default", workflows: ["dormant", "quick"], limit: 10, owner: "probe", leaseMs: 30_000 };
  try {
    const times: number[] = [];
    for (let i = 0; i < 25; i++) {
      const t = performance.now();
      expect(await probe.claimRuns(args)).toEqual([]);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const medianMs = times[Math.floor(times.length / 2)]!;
    expect(medianMs).toBeLessThan(25);

    const claim = captured[0]!;
    const explained = (await probePool.query({ text: `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${claim.text}`, values: claim.values! })) as unknown as {
      rows: { "QUERY PLAN": [{ Plan: PlanNode; "Execution Time": number }] }[];
    };
    const [{ Plan: plan, "Execution Time": executionMs }] = explained.rows[0]!["QUERY PLAN"];
    const scans = nodes(plan).filter((n) => n["Node Type"].includes("Scan") && n["Index Name"]?.startsWith("runs_"));
    const timed = scans.find((n) => n["Index Name"] === "runs_timed");
    // The timed lane is a range scan of its index that stops at the first run not yet due:
    // it returns nothing and filters nothing, whatever the number of sleeping runs.
    expect(timed, JSON.stringify(plan)).toBeDefined();
    expect(timed!["Actual Rows"]).toBe(0);
    expect(timed!["Rows Removed by Filter"] ?? 0).toBe(0);
    expect(nodes(plan).some((n) => n["Node Type"] === "Seq Scan" && n["Relation Name"] === "runs")).toBe(false);
    // Buffers of the whole statement (the root node counts its children's).
    const blocks = (plan["Shared Hit Blocks"] ?? 0) + (plan["Shared Read Blocks"] ?? 0);
    expect(blocks).toBeLessThan(100);
    console.log(
      `[sleeping-runs] ${SLEEPERS} runs suspended in ${suspendMs} ms; new run done in ${freshMs} ms; ` +
        `heap +${(heapGrowth / 1024 / 1024).toFixed(1)} MiB; claim median ${medianMs.toFixed(2)} ms (server ${executionMs.toFixed(3)} ms, ${blocks} buffers); ` +
        `plan: ${scans.map((n) => `${n["Node Type"]} ${n["Index Name"]} rows=${n["Actual Rows"]}`).join(", ")}`,
    );
  } finally {
    await probe.close();
    await probePool.end();
  }
});
