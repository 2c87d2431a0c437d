// pnpm bench:dashboard — the dashboard's list page at scale: 1,000,000 runs (BENCH_RUNS to
// change) loaded with SQL, then the server time of the JSON requests the page makes, each
// the median of repeated requests over HTTP to a real dashboard server.
//
//   pnpm bench:dashboard                  1M runs, about a minute to load
//   BENCH_RUNS=100000 pnpm bench:dashboard
import { createStore } from "@reprise/store";
import { serveDashboard } from "@reprise/worker";
import pg from "pg";
import { startPostgres } from "../test-support/postgres.js";
import { median, now } from "./lib.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 1_000_000);
const REPS = 15;
const log = (line: string) => console.error(`[bench:dashboard] ${line}`);

const server = await startPostgres({ log });
const schema = `dash_${process.pid}`;
const store = createStore({ connectionString: server.url, schema, poolSize: 4 });
await store.migrate();
const admin = new pg.Pool({ connectionString: server.url, max: 2 });
admin.on("error", () => undefined);

log(`loading ${RUNS.toLocaleString()} runs…`);
const loadStarted = now();
// Ten workflows; 2% failed, 1% running, the rest completed; created over the last 30 days.
await admin.query(
  `INSERT INTO "${schema}".runs (id, workflow, queue, status, input, output, error, attempt, created_at, updated_at, started_at)
   SELECT 'run-' || lpad(i::text, 8, '0'), 'workflow-' || (i % 10), 'default',
          CASE WHEN i % 50 = 0 THEN 'failed' WHEN i % 100 = 1 THEN 'running' ELSE 'completed' END,
          jsonb_build_object('i', i), CASE WHEN i % 50 = 0 THEN NULL ELSE '"ok"'::jsonb END,
          CASE WHEN i % 50 = 0 THEN jsonb_build_object('name', 'Error', 'message', 'boom ' || i) END,
          1, now() - (($1 - i) * (interval '30 days' / $1)), now() - (($1 - i) * (interval '30 days' / $1)) + interval '2 seconds',
          now() - (($1 - i) * (interval '30 days' / $1))
   FROM generate_series(1, $1) AS i`,
  [RUNS],
);
const middle = `run-${String(Math.floor(RUNS / 2)).padStart(8, "0")}`;
// The run page reads one run's history: give the run it opens one.
await admin.query(
  `INSERT INTO "${schema}".events (run_id, seq, kind, position, name, payload)
   VALUES ($1, 0, 'RunStarted', NULL, NULL, '{"workflow":"workflow-0","queue":"default"}'),
          ($1, 1, 'StepCompleted', 0, 'extract', '{"result":1,"attempt":1,"startedAt":"2026-12-01T00:00:00Z","durationMs":3}'),
          ($1, 2, 'RunCompleted', NULL, NULL, '{"output":"ok"}')`,
  [middle],
);
await admin.query(`ANALYZE "${schema}".runs`);
log(`loaded in ${((now() - loadStarted) / 1000).toFixed(1)} s`);

const served = await serveDashboard({ store, port: 0 });
const requests: [string, string][] = [
  ["first page (newest 50)", "/api/runs"],
  ["status=failed", "/api/runs?status=failed"],
  ["status=cancelled (no match)", "/api/runs?status=cancelled"],
  ["workflow=workflow-3", "/api/runs?workflow=workflow-3"],
  ["a page in the middle (keyset after=)", `/api/runs?after=${middle}`],
  ["a day's window", `/api/runs?from=${new Date(Date.now() - 15 * 86_400_000).toISOString()}&to=${new Date(Date.now() - 14 * 86_400_000).toISOString()}`],
  ["search by id", `/api/runs?id=${middle}`],
  ["workflow names (filter list)", "/api/workflows"],
  ["a run's page", `/api/runs/${middle}`],
];
const rows: [string, number, number][] = [];
for (const [label, path] of requests) {
  const times: number[] = [];
  let count = 0;
  for (let r = 0; r < REPS; r++) {
    const started = now();
    const res = await fetch(`${served.url}${path}`);
    const body = (await res.json()) as { runs?: unknown[] };
    times.push(now() - started);
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    count = body.runs?.length ?? 1;
  }
  rows.push([label, median(times), count]);
}
console.log(`\nDashboard list at ${RUNS.toLocaleString()} runs (median of ${REPS} requests over HTTP, ms)\n`);
for (const [label, ms, count] of rows) console.log(`${label.padEnd(40)} ${ms.toFixed(2).padStart(8)} ms  (${count} rows)`);

await served.close();
await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
await admin.end();
await store.close();
await server.stop();
