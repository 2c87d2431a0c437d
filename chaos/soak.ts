import { Client } from "@reprise/sdk";
import { migrate } from "@reprise/store";
import pg from "pg";
import { startPostgresServer } from "../test-support/postgres-server.js";
import type { Sql } from "./invariants.js";
import { seededRandom } from "./random.js";
import { WorkerFleet, type MemoryReport } from "./worker-fleet.js";
import { chaosWorkflows, EXECUTIONS_DDL, type ChaosInput } from "./workflows.mjs";

/** What a soak does. */
export interface SoakOptions {
  durationMs: number;
  /** Runs started per second. */
  rate: number;
  workers: number;
  seed: number;
  /** @default 60 s (CHAOS_REPORT_EVERY) */
  reportEveryMs?: number;
  log: (line: string) => void;
}

/** A worker's memory trend over the soak, after its first samples (the warm-up). */
export interface MemoryTrend {
  slot: number;
  pid: number;
  heapFirst: number;
  heapLast: number;
  rssFirst: number;
  rssLast: number;
  /** The least-squares slope of live heap against runs completed. */
  heapBytesPerRun: number;
}

export interface SoakReport {
  started: number;
  completed: number;
  elapsedMs: number;
  trends: MemoryTrend[];
  connections: { at: number; total: number; workers: number }[];
  perMinute: number[];
}

const SCHEMA = "reprise";
const TABLE = `"${SCHEMA}".chaos_executions`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/**
 * Steady load for a long time with no faults: the chaos workflow started `rate` times a
 * second on worker processes that report their live memory (a collection first) every
 * 10 s, and the server's connection count. Leaks show as a heap that grows with the runs.
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const { log } = options;
  const started = Date.now();
  const random = seededRandom(options.seed);
  const server = await startPostgresServer({ log });
  const pool = new pg.Pool({ connectionString: server.url, max: 4 });
  pool.on("error", () => undefined);
  const sql: Sql = async (text, values) => (await pool.query(text, values)).rows;
  const client = new Client({ connectionString: server.url, schema: SCHEMA, migrate: false });
  const samples: (MemoryReport & { completed: number })[] = [];
  let completed = 0;
  const fleet = new WorkerFleet({
    count: options.workers,
    exposeGc: true,
    env: { DATABASE_URL: server.url, REPRISE_SCHEMA: SCHEMA, CHAOS_TABLE: TABLE, CHAOS_LEASE_MS: "5000", CHAOS_CONCURRENCY: "50", CHAOS_MEMORY_MS: "10000" },
    onMemory: (report) => samples.push({ ...report, completed }),
  });
  const connections: SoakReport["connections"] = [];
  const perMinute: number[] = [];
  let startedRuns = 0;
  try {
    await migrate({ connectionString: server.url, schema: SCHEMA });
    await sql(EXECUTIONS_DDL(TABLE));
    await fleet.start();
    const { main } = chaosWorkflows(pool, TABLE);
    const countCompleted = async () =>
      (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM "${SCHEMA}".runs WHERE parent_id IS NULL AND status = 'completed'`))[0]!.n;
    const ends = started + options.durationMs;
    const reportEvery = options.reportEveryMs ?? 60_000;
    let nextReport = started + reportEvery;
    let lastCompleted = 0;
    // Memory samples are placed by the runs completed when they arrive: count often.
    let nextCount = started + 5_000;
    log(`soak: ${options.rate} runs/s for ${(options.durationMs / 60_000).toFixed(1)} min on ${options.workers} workers`);
    // Starts in ticks of 100 ms, catching up on the ticks a slow start made late.
    const pending = new Set<Promise<unknown>>();
    while (Date.now() < ends) {
      const due = Math.floor(((Date.now() - started) / 1000) * options.rate);
      while (startedRuns < due && pending.size < 500) {
        const input: ChaosInput = { steps: 2, sleepMs: random.int(50, 300), signalTimeoutMs: 100, items: 4, poison: random.int(0, 3) };
        const p = client.start(main, input, { id: `soak-${options.seed}-${startedRuns}` }).catch((e: Error) => log(`start failed: ${e.message}`));
        pending.add(p);
        void p.finally(() => pending.delete(p));
        startedRuns++;
      }
      if (Date.now() >= nextCount) {
        nextCount += 5_000;
        completed = await countCompleted();
      }
      if (Date.now() >= nextReport) {
        nextReport += reportEvery;
        completed = await countCompleted();
        perMinute.push(((completed - lastCompleted) * 60_000) / reportEvery);
        lastCompleted = completed;
        const [c] = await sql<{ total: number; workers: number }>(
          `SELECT count(*)::int AS total, count(*) FILTER (WHERE application_name LIKE 'chaos-worker-%')::int AS workers FROM pg_stat_activity WHERE backend_type = 'client backend'`,
        );
        connections.push({ at: Date.now(), total: c!.total, workers: c!.workers });
        const latest = new Map<number, MemoryReport>();
        for (const s of samples) latest.set(s.slot, s);
        const memory = [...latest.values()].map((s) => `w${s.slot} heap ${mb(s.heapUsed)} rss ${mb(s.rss)}`).join(", ");
        log(
          `${((Date.now() - started) / 60_000).toFixed(1)} min: ${startedRuns} started, ${completed} completed (${perMinute.at(-1)!.toFixed(0)}/min), backlog ${startedRuns - completed}; ${memory}; connections ${c!.total} (${c!.workers} workers')`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await Promise.all(pending);
    // Let the backlog drain (bounded), so the last samples are of a worker at rest.
    const drainEnds = Date.now() + 120_000;
    while (Date.now() < drainEnds && (completed = await countCompleted()) < startedRuns) await new Promise((r) => setTimeout(r, 500));
    await new Promise((r) => setTimeout(r, 11_000)); // one more memory report from each worker
    return { started: startedRuns, completed, elapsedMs: Date.now() - started, trends: trends(samples), connections, perMinute };
  } finally {
    await fleet.stop();
    await client.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
    await server.stop();
  }
}

/** Per worker: heap and RSS from after the warm-up to the end, and heap bytes per completed run. */
function trends(samples: readonly (MemoryReport & { completed: number })[]): MemoryTrend[] {
  const bySlot = new Map<number, (MemoryReport & { completed: number })[]>();
  for (const s of samples) bySlot.set(s.slot, [...(bySlot.get(s.slot) ?? []), s]);
  return [...bySlot].map(([slot, all]) => {
    // The first fifth is the warm-up: JIT, pools and caches filling.
    const kept = all.slice(Math.floor(all.length / 5));
    const xs = kept.map((s) => s.completed);
    const ys = kept.map((s) => s.heapUsed);
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = ys.reduce((a, b) => a + b, 0) / ys.length;
    const sxx = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
    const sxy = xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0);
    return {
      slot,
      pid: kept.at(-1)!.pid,
      heapFirst: kept[0]!.heapUsed,
      heapLast: kept.at(-1)!.heapUsed,
      rssFirst: kept[0]!.rss,
      rssLast: kept.at(-1)!.rss,
      heapBytesPerRun: sxx > 0 ? sxy / sxx : 0,
    };
  });
}

/** The end of a soak as lines for a person. */
export function formatSoak(report: SoakReport): string[] {
  const lines = [
    `soak: ${report.started} runs started, ${report.completed} completed in ${(report.elapsedMs / 60_000).toFixed(1)} min; completions per minute: ${report.perMinute.map((n) => n.toFixed(0)).join(", ")}`,
    `connections (client backends, total / workers'): ${report.connections.map((c) => `${c.total}/${c.workers}`).join(", ")}`,
  ];
  for (const t of report.trends) {
    lines.push(
      `worker ${t.slot}: live heap ${mb(t.heapFirst)} → ${mb(t.heapLast)}, rss ${mb(t.rssFirst)} → ${mb(t.rssLast)}; trend ${t.heapBytesPerRun >= 0 ? "+" : ""}${t.heapBytesPerRun.toFixed(1)} heap bytes per run`,
    );
  }
  return lines;
}
