// What alerting costs the hot path: a 100-step sequential workflow of no-op steps, on a
// real Postgres with default durability, in two schemas of the same server measured turn
// about in the same run:
//   on   migration 0005's capture trigger on events, and a worker with alert rules on every
//        fact kind (so the trigger would copy any failure), evaluating at its default interval;
//   off  the same schema with the capture trigger dropped, and a worker without alerts.
// A step's completion must cost the same in both: the trigger's WHEN clause lets no
// StepCompleted through, and nothing else on the path changed.
//
//   pnpm build && npx tsx bench/alerts-cost.ts          (BENCH_REPS=10 for more turns)
import { Client, workflow } from "@reprise/sdk";
import { createStore, type Store } from "@reprise/store";
import { consoleChannel, silentLogger, Worker, type AlertsOptions } from "@reprise/worker";
import pg from "pg";
import { startPostgres } from "../test-support/postgres.js";
import { now, sleep, summarize, type Summary } from "./lib.js";

const REPS = Number(process.env.BENCH_REPS ?? 6);
const STEPS = 100;
const log = (line: string) => console.error(`[bench] ${line}`);

const server = await startPostgres({ durable: true, log });
const admin = new pg.Pool({ connectionString: server.url, max: 2 });

const alerts: AlertsOptions = {
  channels: { console: consoleChannel({ write: () => undefined }) },
  rules: (["run.failed", "step.failed", "step.retrying", "breaker.opened"] as const).map((on) => ({ on, severity: "info" as const, notify: ["console"] })),
};

interface Side {
  name: string;
  store: Store;
  worker: Worker;
  client: Client;
  wf: ReturnType<typeof stepsWorkflow>;
  marks: number[];
}

function stepsWorkflow(side: { marks: number[] }) {
  return workflow({ name: "steps-100" }, async (ctx) => {
    for (let i = 0; i < STEPS; i++) {
      await ctx.step("noop", () => i);
      side.marks.push(now());
    }
    return STEPS;
  });
}

async function side(name: string, withAlerts: boolean): Promise<Side> {
  const schema = `bench_alerts_${name}_${process.pid}`;
  const store = createStore({ connectionString: server.url, schema });
  await store.migrate();
  if (!withAlerts) await admin.query(`DROP TRIGGER events_alert_capture ON "${schema}".events`);
  const s = { marks: [] as number[] };
  const wf = stepsWorkflow(s);
  const worker = new Worker({ store, workflows: [wf], concurrency: 1, logger: silentLogger, migrate: false, ...(withAlerts ? { alerts } : {}) });
  await worker.start();
  return Object.assign(s, { name, store, worker, client: new Client({ store, migrate: false }), wf });
}

/** ms per step between the first and the last step of one run. */
async function once(s: Side): Promise<number> {
  s.marks.length = 0;
  await s.client.run(s.wf, undefined);
  return (s.marks.at(-1)! - s.marks[0]!) / (STEPS - 1);
}

const on = await side("on", true);
const off = await side("off", false);
log("warming up");
for (let i = 0; i < 100; i++) {
  await once(on);
  await once(off);
}
// Runs in pairs, turn about, the ratio taken per pair: the load of a shared machine moves
// both sides of a pair together.
const results: Record<string, number[]> = { on: [], off: [] };
const ratios: number[] = [];
for (let r = 0; r < REPS * 20; r++) {
  const [first, second] = r % 2 ? [off, on] : [on, off];
  const a = await once(first);
  const b = await once(second);
  results[first.name]!.push(a);
  results[second.name]!.push(b);
  ratios.push(first === on ? a / b : b / a);
  if (r % 20 === 19) await sleep(50);
}
const onSummary: Summary = summarize(results.on!);
const offSummary: Summary = summarize(results.off!);
const [row] = (await admin.query<{ n: string }>(`SELECT count(*) AS n FROM "bench_alerts_on_${process.pid}".alert_inbox`)).rows;
console.log(
  JSON.stringify(
    {
      msPerStep: { alertsOn: onSummary, alertsOff: offSummary },
      ratioOnOverOff: summarize(ratios),
      inboxRowsAfter: Number(row!.n),
    },
    null,
    2,
  ),
);
for (const s of [on, off]) {
  await s.worker.stop();
  await admin.query(`DROP SCHEMA "${s.store.schema}" CASCADE`);
  await s.store.close();
}
await admin.end();
await server.stop();
