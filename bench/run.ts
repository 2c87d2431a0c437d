// pnpm bench: the hot path on a real Postgres with default durability (fsync and
// synchronous_commit on), against the physical floor (one durable 1-row INSERT round trip)
// measured in the same run. Writes bench/results/latest.json and prints a table.
//
//   pnpm bench                     all measurements (about a minute)
//   BENCH_REPS=3 pnpm bench        fewer repetitions
//   DATABASE_URL=… pnpm bench      against your own server (e.g. the peers' PG 15)
import { mkdirSync, writeFileSync } from "node:fs";
import { Client, replay, workflow, type HistoryEvent } from "@reprise/sdk";
import { createStore, type Store } from "@reprise/store";
import { Worker, silentLogger } from "@reprise/worker";
import pg from "pg";
import { startPostgres } from "../test-support/postgres.js";
import { ServerCounters, now, percentile, queries, sleep, summarize, type Summary } from "./lib.js";

const REPS = Number(process.env.BENCH_REPS ?? 5);
const DRAIN_N = 2_000;
const DRAIN_CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 500);
const log = (line: string) => console.error(`[bench] ${line}`);

const server = await startPostgres({ durable: true, log });
const url = server.url;
/** The bench's own connections (dropping schemas, counting completions): not the store's. */
const admin = new pg.Pool({ connectionString: url, max: 2 });
admin.on("error", () => undefined);
let schemaCounter = 0;
const freshSchema = () => `bench_${process.pid}_${schemaCounter++}`;

async function withStore<T>(fn: (store: Store, schema: string) => Promise<T>): Promise<T> {
  const schema = freshSchema();
  const store = createStore({ connectionString: url, schema });
  await store.migrate();
  try {
    return await fn(store, schema);
  } finally {
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => undefined);
    await store.close();
  }
}

/** The floor: one durable single-row INSERT, sequential, from node-postgres. */
async function floor(): Promise<{ insert: Summary; select1: Summary }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query("DROP TABLE IF EXISTS bench_floor; CREATE TABLE bench_floor (id bigserial PRIMARY KEY, v int NOT NULL, created_at timestamptz NOT NULL DEFAULT now())");
  for (let i = 0; i < 200; i++) await c.query("INSERT INTO bench_floor (v) VALUES ($1)", [i]);
  const inserts: number[] = [];
  const selects: number[] = [];
  for (let r = 0; r < REPS; r++) {
    let t = now();
    for (let i = 0; i < 2_000; i++) await c.query({ name: "floor", text: "INSERT INTO bench_floor (v) VALUES ($1)", values: [i] });
    inserts.push((now() - t) / 2_000);
    t = now();
    for (let i = 0; i < 2_000; i++) await c.query({ name: "sel", text: "SELECT $1::int", values: [i] });
    selects.push((now() - t) / 2_000);
  }
  await c.query("DROP TABLE bench_floor");
  await c.end();
  return { insert: summarize(inserts), select1: summarize(selects) };
}

/** A 100-step sequential workflow of no-op steps: ms per step, round trips and commits per step. */
/**
 * A 100-step sequential workflow of no-op steps: ms per step, round trips and commits per
 * step. After every run the floor is measured again on the same machine, right away, and
 * the ratio is taken per run: the load of a shared machine moves both together.
 */
async function steps(): Promise<{
  step: Summary;
  ratio: Summary;
  floor: Summary;
  wholeRun: Summary;
  queriesPerStep: number;
  commitsPerStep: number;
  walPerStep: number;
}> {
  return withStore(async (store, schema) => {
    let marks: number[] = [];
    let finished: () => void = () => undefined;
    const wf = workflow({ name: "steps-100" }, async (ctx) => {
      for (let i = 0; i < 100; i++) {
        await ctx.step("noop", () => i);
        marks.push(now());
      }
      finished();
      return marks.length;
    });
    const worker = new Worker({ store, workflows: [wf], concurrency: 1, logger: silentLogger, migrate: false });
    await worker.start();
    const client = new Client({ store, migrate: false });
    const counters = new ServerCounters(url);
    await counters.open();
    const floorClient = new pg.Client({ connectionString: url });
    await floorClient.connect();
    await floorClient.query("CREATE TABLE IF NOT EXISTS bench_floor_steps (id bigserial PRIMARY KEY, v int NOT NULL, created_at timestamptz NOT NULL DEFAULT now())");
    const floorNow = async () => {
      const t = now();
      for (let i = 0; i < 300; i++) await floorClient.query({ name: "floor-steps", text: "INSERT INTO bench_floor_steps (v) VALUES ($1)", values: [i] });
      return (now() - t) / 300;
    };
    await floorNow();
    // Warm up (JIT tiers, connections, prepared statements) with 20,000 steps: a worker runs
    // for days, and per-step cost was still falling after the first few thousand.
    for (let i = 0; i < 200; i++) {
      marks = [];
      await client.run(wf, undefined);
    }
    const perStep: number[] = [];
    const ratios: number[] = [];
    const floors: number[] = [];
    const whole: number[] = [];
    let q = 0;
    let xid = 0;
    let wal = 0;
    for (let r = 0; r < REPS * 2; r++) {
      marks = [];
      let q0 = 0;
      let c0 = { xid: 0, wal: 0 };
      const started = now();
      const done = new Promise<void>((resolve) => (finished = resolve));
      const handle = await client.start(wf, undefined);
      // Count round trips and commits from just after step 1 to just after step 100; the
      // harness waits on an in-process promise so that it sends no queries meanwhile.
      while (marks.length < 1) await sleep(0);
      q0 = queries();
      c0 = await counters.read();
      await done;
      const ended = now();
      await handle.result();
      if (r === 0) {
        const c1 = await counters.read();
        q = (queries() - q0) / 99;
        xid = (c1.xid - c0.xid) / 99;
        wal = (c1.wal - c0.wal) / 99;
      }
      const step = (marks[99]! - marks[0]!) / 99;
      perStep.push(step);
      whole.push((ended - started) / 100);
      const floor = await floorNow();
      floors.push(floor);
      ratios.push(step / floor);
    }
    await counters.close();
    await floorClient.query("DROP TABLE bench_floor_steps");
    await floorClient.end();
    await worker.stop();
    return {
      step: summarize(perStep),
      ratio: summarize(ratios),
      floor: summarize(floors),
      wholeRun: summarize(whole),
      queriesPerStep: q,
      commitsPerStep: xid,
      walPerStep: wal,
    };
  });
}

/** 2,000 one-step workflows queued while no worker runs, then drained by one worker. */
async function drain(concurrency: number): Promise<{ rate: Summary; fromStart: Summary }> {
  const rates: number[] = [];
  const fromStart: number[] = [];
  for (let r = 0; r < REPS; r++) {
    await withStore(async (store) => {
      let first = 0;
      const wf = workflow({ name: "one-step" }, async (ctx, input: { i: number }) => {
        return ctx.step("noop", () => {
          if (first === 0) first = now();
          return input.i;
        });
      });
      for (let i = 0; i < DRAIN_N; i += 500) {
        await store.startRuns(
          Array.from({ length: Math.min(500, DRAIN_N - i) }, (_, k) => ({ id: `d${i + k}`, workflow: wf.name, queue: wf.queue, input: `{"i":${i + k}}` })),
        );
      }
      const worker = new Worker({ store, workflows: [wf], concurrency, logger: silentLogger, migrate: false, pollInterval: "1s" });
      const started = now();
      await worker.start();
      // Done means durably completed: poll the database like the peers' harness does.
      for (;;) {
        const { rows } = await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${store.schema}".runs WHERE status = 'completed'`);
        if (rows[0]!.n >= DRAIN_N) break;
        await sleep(5);
      }
      const ended = now();
      rates.push(DRAIN_N / ((ended - first) / 1000));
      fromStart.push(DRAIN_N / ((ended - started) / 1000));
      await worker.stop();
    });
  }
  return { rate: summarize(rates), fromStart: summarize(fromStart) };
}

/** Runs created per second by `client.start` from 10 concurrent callers, 5,000 runs per repetition. */
async function starts(): Promise<Summary> {
  const rates: number[] = [];
  for (let r = 0; r < REPS; r++) {
    await withStore(async (store) => {
      const wf = workflow({ name: "started" }, async (_ctx, input: { i: number }) => input.i);
      const client = new Client({ store, migrate: false });
      for (let i = 0; i < 200; i++) await client.start(wf, { i }); // warm: connections, prepared statements
      const N = 5_000;
      let next = 0;
      const t = now();
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          for (let i = next++; i < N; i = next++) await client.start(wf, { i });
        }),
      );
      rates.push(N / ((now() - t) / 1000));
    });
  }
  return summarize(rates);
}

/** Runs created per second by one `client.startMany` of 10,000 items (10 statements of 1,000, one transaction). */
async function startMany(): Promise<Summary> {
  const rates: number[] = [];
  for (let r = 0; r < REPS; r++) {
    await withStore(async (store) => {
      const wf = workflow({ name: "started-many" }, async (_ctx, input: { i: number }) => input.i);
      const client = new Client({ store, migrate: false });
      await client.startMany(wf, Array.from({ length: 1_000 }, (_, i) => ({ input: { i } }))); // warm
      const N = 10_000;
      const items = Array.from({ length: N }, (_, i) => ({ input: { i } }));
      const t = now();
      await client.startMany(wf, items);
      rates.push(N / ((now() - t) / 1000));
    });
  }
  return summarize(rates);
}

/** Start → first step body with an idle worker (woken by NOTIFY; the poll interval is 1 s). */
async function latency(): Promise<{ p50: number; p99: number; samples: number[] }> {
  return withStore(async (store) => {
    const waiters = new Map<string, (t: number) => void>();
    const wf = workflow({ name: "probe" }, async (ctx) =>
      ctx.step("probe", () => {
        waiters.get(ctx.runId)?.(now());
        return 1;
      }),
    );
    const worker = new Worker({ store, workflows: [wf], logger: silentLogger, migrate: false, pollInterval: "1s" });
    await worker.start();
    const client = new Client({ store, migrate: false });
    const samples: number[] = [];
    const total = 10 + 40 * Math.max(1, Math.round(REPS / 5));
    for (let i = 0; i < total; i++) {
      const id = `probe-${i}`;
      const reached = new Promise<number>((resolve) => waiters.set(id, resolve));
      const t0 = now();
      await client.start(wf, undefined, { id });
      const t1 = await reached;
      if (i >= 10) samples.push(t1 - t0); // the first ones warm up the JIT and the connections
      await sleep(50 + Math.random() * 100);
    }
    await worker.stop();
    return { p50: percentile(samples, 50), p99: percentile(samples, 99), samples };
  });
}

/** Replay of a 10,000-event history (9,998 completed steps). */
async function replay10k(): Promise<Summary> {
  const STEPS = 9_998;
  const wf = workflow({ name: "long" }, async (ctx) => {
    let sum = 0;
    for (let i = 0; i < STEPS; i++) sum += await ctx.step(`s${i}`, () => i);
    return sum;
  });
  const at = new Date();
  const history: HistoryEvent[] = [{ seq: 0, kind: "RunStarted", position: null, name: null, payload: { workflow: wf.name, queue: "default" }, createdAt: at }];
  for (let i = 0; i < STEPS; i++) {
    history.push({ seq: i + 1, kind: "StepCompleted", position: i, name: `s${i}`, payload: { result: i, attempt: 1, startedAt: at.toISOString(), durationMs: 0.01 }, createdAt: at });
  }
  history.push({ seq: STEPS + 1, kind: "RunCompleted", position: null, name: null, payload: { output: (STEPS * (STEPS - 1)) / 2 }, createdAt: at });
  const times: number[] = [];
  for (let r = 0; r < REPS + 2; r++) {
    const t = now();
    const report = await replay(wf, history);
    const took = now() - t;
    if (report.outcome !== "completed") throw new Error(`replay ended ${report.outcome}`);
    if (r >= 2) times.push(took);
  }
  return summarize(times);
}

const fmt = (x: number, digits = 3) => (Number.isFinite(x) ? Number(x.toPrecision(digits)) : x);

try {
  log(`Postgres: ${server.source}; ${REPS} repetitions`);
  const f = await floor();
  log(`floor: ${fmt(f.insert.median)} ms per INSERT`);
  const s = await steps();
  log(`steps: ${fmt(s.step.median)} ms per step`);
  const d = await drain(DRAIN_CONCURRENCY);
  log(`drain: ${fmt(d.rate.median)} workflows/s`);
  const dDefault = await drain(10);
  log(`drain (concurrency 10): ${fmt(dDefault.rate.median)} workflows/s`);
  const st = await starts();
  log(`starts: ${Math.round(st.median)}/s (10 callers)`);
  const sm = await startMany();
  log(`startMany: ${Math.round(sm.median)}/s`);
  const l = await latency();
  log(`latency: p50 ${fmt(l.p50)} ms`);
  const rp = await replay10k();
  log(`replay 10k: ${fmt(rp.median)} ms`);

  const info = new pg.Pool({ connectionString: url, max: 1 });
  const { rows } = await info.query<{ v: string; fsync: string; sc: string }>(
    "SELECT version() AS v, current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sc",
  );
  await info.end();
  const results = {
    floor_insert_ms: fmt(f.insert.median),
    step_ms: fmt(s.step.median),
    step_ratio: fmt(s.ratio.median),
    workflows_per_s: Math.round(d.rate.median),
    starts_per_s: Math.round(st.median),
    start_many_per_s: Math.round(sm.median),
    start_latency_p50_ms: fmt(l.p50),
    start_latency_p99_ms: fmt(l.p99),
    replay_10k_ms: fmt(rp.median),
    details: {
      postgres: rows[0]!.v.split(" on ")[0],
      postgres_source: server.source,
      fsync: rows[0]!.fsync,
      synchronous_commit: rows[0]!.sc,
      repetitions: REPS,
      select1_ms: fmt(f.select1.median),
      floor_insert: f.insert,
      step: s.step,
      step_ratio_per_run: s.ratio,
      floor_insert_between_step_runs: s.floor,
      step_incl_run_start_and_end_ms: fmt(s.wholeRun.median),
      round_trips_per_step: fmt(s.queriesPerStep),
      commits_per_step: fmt(s.commitsPerStep),
      wal_bytes_per_step: Math.round(s.walPerStep),
      drain: { runs: DRAIN_N, concurrency: DRAIN_CONCURRENCY, per_s: d.rate, per_s_from_worker_start: d.fromStart },
      drain_concurrency_10: { per_s: dDefault.rate, per_s_from_worker_start: dDefault.fromStart },
      starts: { callers: 10, runs: 5_000, per_s: st },
      start_many: { runs_per_call: 10_000, runs_per_statement: 1_000, per_s: sm },
      start_latency_samples: l.samples.length,
      replay_10k: rp,
    },
  };
  mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
  writeFileSync(new URL("./results/latest.json", import.meta.url), `${JSON.stringify(results, null, 2)}\n`);

  const table: [string, string, string][] = [
    ["floor_insert_ms", String(results.floor_insert_ms), "one durable 1-row INSERT round trip (node-pg, sequential)"],
    ["step_ms", String(results.step_ms), `per step of a 100-step sequential workflow; ${fmt(s.queriesPerStep)} round trips, ${fmt(s.commitsPerStep)} commits per step`],
    ["step_ratio", String(results.step_ratio), `median of per-run ratios, each run's steps against a floor measured right after it (floor there: ${fmt(s.floor.median)} ms)`],
    ["workflows_per_s", String(results.workflows_per_s), `1-step workflows drained by one worker (concurrency ${DRAIN_CONCURRENCY}, ${DRAIN_N} runs); concurrency 10: ${Math.round(dDefault.rate.median)}/s`],
    ["starts_per_s", String(results.starts_per_s), "runs created by client.start, 10 concurrent callers"],
    ["start_many_per_s", String(results.start_many_per_s), "runs created by one client.startMany of 10,000 (one statement per 1,000)"],
    ["start_latency_p50_ms", String(results.start_latency_p50_ms), "client.start → first step body, idle worker"],
    ["start_latency_p99_ms", String(results.start_latency_p99_ms), ""],
    ["replay_10k_ms", String(results.replay_10k_ms), "replay of a 10,000-event history"],
  ];
  const w0 = Math.max(...table.map((r) => r[0].length));
  const w1 = Math.max(...table.map((r) => r[1].length));
  console.log(`\nReprise bench — ${results.details.postgres}, fsync=${results.details.fsync}, synchronous_commit=${results.details.synchronous_commit}\n`);
  for (const [k, v, note] of table) console.log(`${k.padEnd(w0)}  ${v.padStart(w1)}  ${note}`);
  console.log(`\nwritten to bench/results/latest.json`);
} finally {
  await server.stop();
}
process.exit(0);
