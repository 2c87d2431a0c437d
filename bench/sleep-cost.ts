// What a sleeping or waiting run costs: rows, round trips to suspend and to wake, worker
// memory, and one claim with many sleeping runs present (time and plan).
//
//   pnpm build && node --expose-gc --import tsx bench/sleep-cost.ts
//   SLEEPERS=1000000 …        how many parked runs the claim is measured against (default 1,000,000)
import { Client, workflow } from "@reprise/sdk";
import { createStore, type NewRun } from "@reprise/store";
import { Worker, silentLogger } from "@reprise/worker";
import pg from "pg";
import { startPostgres } from "../test-support/postgres.js";
import { median, sleep } from "./lib.js";

const SLEEPERS = Number(process.env.SLEEPERS ?? 1_000_000);
const log = (line: string) => console.log(line);

// Every statement this process sends, by its first words (pg sends one round trip per query call).
const sent: string[] = [];
let recording = true;
const original = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const config = args[0] as string | { text?: string; name?: string };
  const text = typeof config === "string" ? config : (config?.text ?? "");
  if (recording) sent.push(text.replace(/\s+/g, " ").trim().slice(0, 70));
  return (original as (...a: unknown[]) => unknown).apply(this, args);
} as typeof original;
const mark = () => sent.length;
// client.status() polls of this script are not the run's cost.
const since = (from: number) => sent.slice(from).filter((t) => !/^select \* from "[^"]+"\."runs" where "id" = \$1$/.test(t));

const server = await startPostgres({ log: (l) => console.error(`[pg] ${l}`) });
const schema = `sleep_cost_${process.pid}`;
const store = createStore({ connectionString: server.url, schema });
await store.migrate();
const admin = new pg.Pool({ connectionString: server.url, max: 2 });
admin.on("error", () => undefined);
const sql = async <R extends object>(text: string, values?: unknown[]) => (await admin.query<R>(text, values)).rows;
const notify = () => sql("SELECT pg_notify($1, 'q:default')", [store.channel]);
const client = new Client({ store, migrate: false });

const napper = workflow({ name: "napper" }, async (ctx) => {
  await ctx.sleep("3s");
  return "woke";
});
const waiter = workflow({ name: "waiter" }, async (ctx) => ctx.waitForSignal<string>("go"));
const status = async (id: string) => (await client.status(id)).status;
async function until(probe: () => Promise<boolean>): Promise<void> {
  while (!(await probe())) await sleep(20);
}

// A worker that only claims when told (NOTIFY), so every statement below is the run's own.
const worker = new Worker({ store, workflows: [napper, waiter], pollInterval: "1h", suspendAfter: "1s", logger: silentLogger, migrate: false });
await worker.start();
await sleep(300);

log("## One sleeping run (ctx.sleep('3s'), suspendAfter 1s)");
let m = mark();
await client.start(napper, undefined, { id: "nap" });
await until(async () => (await status("nap")) === "sleeping");
const toSuspend = since(m);
log(`start → sleeping: ${toSuspend.length} statements`);
for (const t of toSuspend) log(`  ${t}`);
const [rows] = await sql<{ events: number }>(`SELECT count(*)::int AS events FROM "${schema}".events WHERE run_id = 'nap'`);
log(`rows while sleeping: 1 runs row + ${rows!.events} events (RunStarted, TimerStarted)`);
await sleep(3_100);
m = mark();
await notify(); // stands in for the poll that finds the run due
await until(async () => (await status("nap")) === "completed");
const toWake = since(m);
log(`due → completed: ${toWake.length} statements`);
for (const t of toWake) log(`  ${t}`);

log("\n## One run waiting for a signal (no timeout)");
m = mark();
await client.start(waiter, undefined, { id: "wait" });
await until(async () => (await status("wait")) === "waiting");
const toPark = since(m);
log(`start → waiting: ${toPark.length} statements`);
for (const t of toPark) log(`  ${t}`);
m = mark();
await client.signal("wait", "go", "now"); // reads the run (not counted here), then inserts the signal and NOTIFYs
await until(async () => (await status("wait")) === "completed");
const toSignal = since(m);
log(`signal → completed: ${toSignal.length} statements`);
for (const t of toSignal) log(`  ${t}`);
await worker.stop();

log("\n## Worker memory with 10,000 sleeping runs");
recording = false; // the statement log above would grow with them
const gc = (globalThis as { gc?: () => void }).gc;
const heap = () => {
  gc?.();
  return process.memoryUsage().heapUsed;
};
const dormant = workflow({ name: "dormant" }, async (ctx) => ctx.sleep("1h"));
const w2 = new Worker({ store, workflows: [dormant], concurrency: 10, pollInterval: "100ms", logger: silentLogger, migrate: false });
await w2.start();
await sleep(500);
const heapBefore = heap();
for (let b = 0; b < 10; b++) {
  const runs: NewRun[] = Array.from({ length: 1_000 }, (_, i) => ({ id: `d-${b}-${i}`, workflow: "dormant", queue: "default" }));
  await store.startRuns(runs);
}
const t0 = Date.now();
await until(async () => (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".runs WHERE status = 'sleeping' AND workflow = 'dormant'`))[0]!.n === 10_000);
const suspendMs = Date.now() - t0;
await sleep(500);
const heapAfter = heap();
const timers = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
log(`suspended 10,000 runs in ${suspendMs} ms with concurrency 10 (${((suspendMs / 10_000) * 1000).toFixed(0)} µs each)`);
log(`worker: ${w2.inFlight} in flight, heap ${((heapAfter - heapBefore) / 1024).toFixed(0)} KiB more than before (gc: ${gc ? "yes" : "no"}), ${timers} Timeout handles in the process`);
await w2.stop();

log(`\n## One claim with parked runs present`);
const probePool = new pg.Pool({ connectionString: server.url, max: 1 });
probePool.on("error", () => undefined);
let captured: { text: string; values?: unknown[] } | undefined;
const query = probePool.query.bind(probePool) as (c: unknown) => Promise<unknown>;
(probePool as unknown as { query: (c: unknown) => Promise<unknown> }).query = (c) => {
  captured ??= c as { text: string; values?: unknown[] };
  return query(c);
};
const probe = createStore({ pool: probePool, schema });
const args = { queue: "default", workflows: ["dormant", "napper", "waiter"], limit: 10, owner: "probe", leaseMs: 30_000 };
async function claimCost(label: string): Promise<void> {
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    await probe.claimRuns(args);
    times.push(performance.now() - t);
  }
  const explained = (await probePool.query({ text: `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${captured!.text}`, values: captured!.values! })) as unknown as {
    rows: { "QUERY PLAN": [{ Plan: Record<string, unknown>; "Execution Time": number }] }[];
  };
  const [{ Plan: plan, "Execution Time": exec }] = explained.rows[0]!["QUERY PLAN"];
  const scans: string[] = [];
  const walk = (n: Record<string, unknown>) => {
    if (String(n["Node Type"]).includes("Scan") && n["Relation Name"] === "runs") {
      scans.push(`${n["Node Type"]}${n["Index Name"] ? ` using ${n["Index Name"]}` : ""} (rows ${n["Actual Rows"]}, loops ${n["Actual Loops"]})`);
    }
    for (const c of (n.Plans as Record<string, unknown>[] | undefined) ?? []) walk(c);
  };
  walk(plan);
  log(`${label}: claim median ${median(times).toFixed(3)} ms round trip, server ${exec.toFixed(3)} ms, ${plan["Shared Hit Blocks"]} buffers hit, ${plan["Shared Read Blocks"] ?? 0} read`);
  log(`  plan on runs: ${scans.join("; ")}`);
}
await claimCost("10,000 sleeping (suspended by the worker)");
await sql(`ANALYZE "${schema}".runs`);
await claimCost("10,000 sleeping, after ANALYZE");
log(`inserting ${SLEEPERS.toLocaleString("en")} more sleeping runs (rows only) …`);
await sql(
  `INSERT INTO "${schema}".runs (id, workflow, queue, status, available_at)
   SELECT 'bulk-' || g, 'dormant', 'default', 'sleeping', now() + interval '1 hour' + g * interval '1 millisecond'
   FROM generate_series(1, $1) g`,
  [SLEEPERS],
);
await claimCost(`${(SLEEPERS + 10_000).toLocaleString("en")} sleeping, before ANALYZE`);
await sql(`ANALYZE "${schema}".runs`);
await claimCost(`${(SLEEPERS + 10_000).toLocaleString("en")} sleeping, after ANALYZE`);

await probe.close();
await probePool.end();
await client.close();
await sql(`DROP SCHEMA "${schema}" CASCADE`);
await admin.end();
await store.close();
await server.stop();
