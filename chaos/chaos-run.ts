import { Client } from "@reprise/sdk";
import { migrate } from "@reprise/store";
import pg from "pg";
import { startPostgresServer, type PostgresServer } from "../test-support/postgres-server.js";
import { firstStepAfter, heldRuns, recoveryTimes, terminateBackends, type Fault } from "./faults.js";
import { measure, violations, type Measurements, type Sql } from "./invariants.js";
import { seededRandom, type Random } from "./random.js";
import { WorkerFleet, type UnexpectedExit } from "./worker-fleet.js";
import { chaosInputs, settle, startRuns } from "./load.js";
import { chaosWorkflows, EXECUTIONS_DDL } from "./workflows.mjs";

/** What a chaos run does. */
export interface ChaosOptions {
  /** Top-level runs (each starts one child). */
  runs: number;
  /** Sequential steps at the start of each run (the rest of the workflow comes after). */
  steps: number;
  /** Worker processes. */
  workers: number;
  seed: number;
  /** How long faults are injected; runs are started over its first two thirds. */
  chaosMs: number;
  /** How long the runs may take to complete once the faults stop. */
  settleMs: number;
  /** A worker is SIGKILLed (and replaced) every [min, max] ms. */
  killEveryMs: readonly [number, number];
  /** A share of the workers' backends is terminated every [min, max] ms (0: never). */
  terminateEveryMs: readonly [number, number];
  /** Workers frozen with SIGSTOP for two leases and a second, then SIGCONTed. */
  freezes: number;
  /** Postgres restarts in immediate mode, spread over the chaos. */
  postgresRestarts: number;
  leaseMs: number;
  /** Runs in flight per worker. */
  concurrency: number;
  log: (line: string) => void;
}

/** What a chaos run measured. */
export interface ChaosReport {
  options: ChaosOptions;
  measurements: Measurements;
  /** Invariants that failed (empty: all hold). */
  violations: string[];
  faults: Fault[];
  /** Per fault that held runs: ms until all of them moved again. */
  recovery: Map<Fault, number>;
  /** Per restart: ms from the server's return to the first step committed. */
  restartRecovery: (number | undefined)[];
  unexpectedExits: UnexpectedExit[];
  signalsSent: number;
  elapsedMs: number;
}

const SCHEMA = "reprise";
const TABLE = `"${SCHEMA}".chaos_executions`;

/**
 * Runs the workflows of chaos/workflows.mjs on a fleet of worker processes on a Postgres of
 * its own, while it kills, freezes and disconnects them and restarts the server; then
 * measures the invariants from the database.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const random = seededRandom(options.seed);
  const server = await startPostgresServer({ log: options.log });
  const pool = new pg.Pool({ connectionString: server.url, max: 4 });
  pool.on("error", () => undefined);
  pool.on("connect", (c) => c.on("error", () => undefined));
  const sql: Sql = async (text, values) => (await pool.query(text, values)).rows;
  const client = new Client({ connectionString: server.url, schema: SCHEMA, migrate: false });
  const fleet = new WorkerFleet({
    count: options.workers,
    env: { DATABASE_URL: server.url, REPRISE_SCHEMA: SCHEMA, CHAOS_TABLE: TABLE, CHAOS_LEASE_MS: String(options.leaseMs), CHAOS_CONCURRENCY: String(options.concurrency) },
  });
  const faults: Fault[] = [];
  try {
    await migrate({ connectionString: server.url, schema: SCHEMA });
    await sql(EXECUTIONS_DDL(TABLE));
    await fleet.start();
    const { main, all } = chaosWorkflows(pool, TABLE);

    const inputs = chaosInputs(`chaos-${options.seed}`, options.runs, options.steps, random);
    const chaosEnds = Date.now() + options.chaosMs;
    let signalsSent = 0;
    const starting = startRuns(client, main, inputs, (options.chaosMs * 2) / 3, random, () => signalsSent++);
    const faulting = injectFaults({ options, random, fleet, sql, server, faults, until: chaosEnds });
    await Promise.all([starting, faulting]);
    options.log(`faults stopped after ${((Date.now() - started) / 1000).toFixed(1)} s; waiting for the runs to end`);
    await settle(sql, SCHEMA, [...inputs.keys()], options.settleMs);

    const measurements = await measure({ sql, client, schema: SCHEMA, table: TABLE, workflows: all, runs: inputs });
    const found = violations(measurements, options.runs * 2);
    if (fleet.unexpectedExits.length) found.push(`${fleet.unexpectedExits.length} worker processes died on their own: ${fleet.unexpectedExits.map((e) => `pid ${e.pid} (${e.signal ?? `exit ${e.code}`}): ${e.stderr.slice(-300)}`).join(" | ")}`);
    const restarts = faults.filter((f) => f.kind === "restart");
    return {
      options,
      measurements,
      violations: found,
      faults,
      recovery: await recoveryTimes(sql, SCHEMA, faults),
      restartRecovery: await Promise.all(restarts.map(async (f) => ((await firstStepAfter(sql, SCHEMA, f.backAt!)) ?? NaN) - f.backAt!)),
      unexpectedExits: fleet.unexpectedExits,
      signalsSent,
      elapsedMs: Date.now() - started,
    };
  } finally {
    await fleet.stop();
    await client.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
    await server.stop();
  }
}

interface FaultContext {
  options: ChaosOptions;
  random: Random;
  fleet: WorkerFleet;
  sql: Sql;
  server: PostgresServer;
  faults: Fault[];
  until: number;
}

/** Kills, freezes, terminations and restarts until `until`, each on its own schedule. */
async function injectFaults(c: FaultContext): Promise<void> {
  const { options, random, fleet, sql, faults } = c;
  const frozen = new Set<number>();
  const held = (pid: number) => heldRuns(sql, SCHEMA, pid).catch(() => [] as string[]);
  const wait = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, Math.min(ms, c.until - Date.now()))));
  const begin = Date.now();

  const kills = async () => {
    while (Date.now() < c.until) {
      await wait(random.between(...options.killEveryMs));
      if (Date.now() >= c.until) return;
      const slots = Array.from({ length: fleet.size }, (_, i) => i).filter((i) => !frozen.has(i));
      if (!slots.length) continue;
      const slot = random.pick(slots);
      const runs = await held(fleet.pid(slot));
      const at = Date.now();
      await fleet.kill(slot);
      faults.push({ kind: "kill", at, heldRuns: runs, amount: 1 });
    }
  };
  const terminations = async () => {
    if (options.terminateEveryMs[1] <= 0) return;
    while (Date.now() < c.until) {
      await wait(random.between(...options.terminateEveryMs));
      if (Date.now() >= c.until) return;
      const at = Date.now();
      const n = await terminateBackends(sql, 0.5).catch(() => 0);
      faults.push({ kind: "terminate", at, heldRuns: [], amount: n });
    }
  };
  const scheduled = (count: number, offset: number) => Array.from({ length: count }, (_, i) => begin + ((i + offset) / (count + 0.5)) * options.chaosMs);
  const freezes = async () => {
    for (const when of scheduled(options.freezes, 0.75)) {
      await wait(when - Date.now());
      // The worker holding the most runs, waiting (5 s at most) for one that holds a few:
      // the freeze that can do the most damage.
      const byLoad = async () => {
        const holding = await Promise.all(Array.from({ length: fleet.size }, async (_, i) => ({ slot: i, runs: await held(fleet.pid(i)) })));
        return holding.reduce((a, b) => (b.runs.length > a.runs.length ? b : a));
      };
      let busiest = await byLoad();
      for (let tries = 0; tries < 25 && busiest.runs.length < 3; tries++) {
        await new Promise((r) => setTimeout(r, 200));
        busiest = await byLoad();
      }
      const { slot, runs } = busiest;
      frozen.add(slot);
      const ms = 2 * options.leaseMs + 1_000;
      const at = Date.now();
      options.log(`freezing worker ${slot} (pid ${fleet.pid(slot)}, ${runs.length} runs held) for ${ms} ms`);
      await fleet.freeze(slot, ms);
      frozen.delete(slot);
      faults.push({ kind: "freeze", at, heldRuns: runs, amount: ms });
    }
  };
  const restarts = async () => {
    for (const when of scheduled(options.postgresRestarts, 0.5)) {
      await wait(when - Date.now());
      const at = Date.now();
      const outage = await c.server.restartImmediate();
      options.log(`Postgres restarted in immediate mode: ${outage} ms without a server`);
      faults.push({ kind: "restart", at, heldRuns: [], amount: outage, backAt: at + outage });
    }
  };
  await Promise.all([kills(), terminations(), freezes(), restarts()]);
}
