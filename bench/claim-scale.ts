// pnpm bench:claims — the claim and start → first step as the tables fill, on one schema:
// analyzed while tiny, then 100k finished runs with 1M events loaded with SQL (and not
// analyzed, as after a burst that autoanalyze has not caught up with), then 100k runs queued
// with a future delay. Prints what the claim's plan reads at each stage (as a generic plan,
// the one a prepared claim keeps), pages per claim, and start → first step with an idle
// worker. A script, not a test: it prints times.
//
//   BENCH_FINISHED=1000000 pnpm bench:claims     1M finished runs (10M events) instead
import { Client, workflow } from "@reprise/sdk";
import { Worker, silentLogger } from "@reprise/worker";
import pg from "pg";
import { ClaimPlanProbe, loadDelayedRuns, loadFinishedRuns, type ClaimPlan } from "../test-support/claim-plan.js";
import { startPostgres } from "../test-support/postgres.js";
import { now, percentile, sleep } from "./lib.js";

const FINISHED = Number(process.env.BENCH_FINISHED ?? 100_000);
const DELAYED = Number(process.env.BENCH_DELAYED ?? 100_000);
const log = (line: string) => console.error(`[claims] ${line}`);

const server = await startPostgres({ durable: true, log });
const schema = `claims_${process.pid}`;
const admin = new pg.Pool({ connectionString: server.url, max: 2 });
admin.on("error", () => undefined);
const probe = new ClaimPlanProbe(server.url, schema);
const waiters = new Map<string, (t: number) => void>();
const wf = workflow({ name: "probe" }, async (ctx) =>
  ctx.step("probe", () => {
    waiters.get(ctx.runId)?.(now());
    return 1;
  }),
);

const describe = (plan: ClaimPlan) => plan.scans.join(", ");
const rows: [string, string][] = [];

/** start → first step body, idle worker woken by NOTIFY (poll interval 1 s): p50 of 50 after 10 to warm up. */
async function startLatency(label: string): Promise<number> {
  const worker = new Worker({ connectionString: server.url, schema, workflows: [wf], logger: silentLogger, migrate: false, pollInterval: "1s" });
  await worker.start();
  const client = new Client({ connectionString: server.url, schema, migrate: false });
  const samples: number[] = [];
  try {
    for (let i = 0; i < 60; i++) {
      const id = `${label}-${i}`;
      const reached = new Promise<number>((resolve) => waiters.set(id, resolve));
      const t0 = now();
      await client.start(wf, undefined, { id });
      const t1 = await reached;
      if (i >= 10) samples.push(t1 - t0);
      await sleep(30 + Math.random() * 40);
    }
  } finally {
    await worker.stop();
    await client.close();
  }
  return percentile(samples, 50);
}

try {
  await probe.store.migrate();
  await probe.store.startRuns(Array.from({ length: 20 }, (_, i) => ({ id: `tiny-${i}`, workflow: "probe", queue: "default" })));
  await admin.query(`ANALYZE "${schema}".runs; ANALYZE "${schema}".events`);
  await admin.query(`UPDATE "${schema}".runs SET status = 'completed', available_at = NULL`);
  rows.push(["plan, tiny schema just analyzed", describe(await probe.explain({ workflows: ["probe"], limit: 500 }))]);

  let t = now();
  await loadFinishedRuns(admin, schema, { runs: FINISHED, eventsPerRun: 10, workflow: "probe" });
  log(`loaded ${FINISHED} finished runs and ${FINISHED * 10} events in ${Math.round(now() - t)} ms`);
  rows.push([`plan, ${FINISHED} finished runs loaded, stale statistics`, describe(await probe.explain({ workflows: ["probe"], limit: 500 }))]);

  await probe.store.startRuns(Array.from({ length: 500 }, (_, i) => ({ id: `due-${i}`, workflow: "probe", queue: "default" })));
  const claim500 = await probe.explain({ workflows: ["probe"], limit: 500, analyze: true });
  rows.push(["claim of 500 due runs (stale statistics)", `${claim500.buffers} buffers, ${claim500.ms.toFixed(2)} ms`]);
  await admin.query(`UPDATE "${schema}".runs SET status = 'completed', available_at = NULL, lease_owner = NULL WHERE id LIKE 'due-%'`);
  const idle = await probe.explain({ workflows: ["probe"], limit: 10, analyze: true });
  rows.push(["idle claim, no delayed runs", `${idle.buffers} buffers, ${idle.ms.toFixed(2)} ms`]);
  rows.push(["start → first step p50, no delayed runs", `${(await startLatency("plain")).toFixed(2)} ms`]);

  t = now();
  await loadDelayedRuns(admin, schema, { runs: DELAYED, workflow: "probe" });
  log(`queued ${DELAYED} delayed runs in ${Math.round(now() - t)} ms`);
  const idleDelayed = await probe.explain({ workflows: ["probe"], limit: 10, analyze: true });
  rows.push([`idle claim, ${DELAYED} delayed runs queued`, `${idleDelayed.buffers} buffers, ${idleDelayed.ms.toFixed(2)} ms; ${describe(idleDelayed)}`]);
  rows.push([`start → first step p50, ${DELAYED} delayed runs queued`, `${(await startLatency("delayed")).toFixed(2)} ms`]);

  const w = Math.max(...rows.map((r) => r[0].length));
  console.log("");
  for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
} finally {
  await probe.close();
  await admin.end();
  await server.stop();
}
process.exit(0);
