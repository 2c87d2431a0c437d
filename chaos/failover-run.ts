import { Client } from "@reprise/sdk";
import { migrate, pgConnection } from "@reprise/store";
import pg from "pg";
import type { AutoFailoverCluster, FailoverNode } from "../test-support/auto-failover.js";
import { firstStepAfter } from "./faults.js";
import { measure, violations, type Measurements, type Sql } from "./invariants.js";
import { chaosInputs, settle, startRuns } from "./load.js";
import { seededRandom } from "./random.js";
import { WorkerFleet, type UnexpectedExit } from "./worker-fleet.js";
import { chaosWorkflows, EXECUTIONS_DDL } from "./workflows.mjs";

/** What a failover run does. */
export interface FailoverOptions {
  runs: number;
  steps: number;
  workers: number;
  seed: number;
  /** The primary is killed once this share of the runs' sequential steps is recorded. */
  killAfter: number;
  settleMs: number;
  log: (line: string) => void;
}

/** What a failover run measured. */
export interface FailoverReport {
  measurements: Measurements;
  violations: string[];
  killed: FailoverNode;
  promoted: FailoverNode;
  /** From the kill until the standby took writes (ms). */
  outageMs: number;
  /** From the kill until the first step begun after the promotion was committed (ms). */
  recoveredMs: number;
  /** Step completions recorded when the primary died, and runs (of all, children too) completed by then. */
  stepsBeforeKill: number;
  completedBeforeKill: number;
  /** Events and executions read from the primary just before the kill that the new primary no longer has. */
  missingEvents: number;
  missingExecutions: number;
  eventsBeforeKill: number;
  unexpectedExits: UnexpectedExit[];
  elapsedMs: number;
}

const SCHEMA = "reprise";
const TABLE = `"${SCHEMA}".chaos_executions`;

/**
 * The chaos workflows on worker processes connected with the formation's multi-host URI
 * (`target_session_attrs=read-write`); mid-run the primary's machine dies (its keeper and
 * Postgres SIGKILLed), pg_auto_failover promotes the synchronous standby, and every run
 * must complete with nothing recorded lost and no step run after its completion.
 */
export async function runFailover(cluster: AutoFailoverCluster, options: FailoverOptions): Promise<FailoverReport> {
  const started = Date.now();
  const random = seededRandom(options.seed);
  const { Client: PgClient, config } = pgConnection(cluster.url);
  const pool = new pg.Pool({ ...config, Client: PgClient, max: 4 });
  pool.on("error", () => undefined);
  pool.on("connect", (c) => c.on("error", () => undefined));
  // The harness's own reads ride through the failover too: a read that meets it is retried.
  const sql: Sql = async (text, values) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await pool.query(text, values)).rows;
      } catch (error) {
        if (attempt >= 120) throw error;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  };
  const client = new Client({ connectionString: cluster.url, schema: SCHEMA, migrate: false });
  const fleet = new WorkerFleet({
    count: options.workers,
    env: { DATABASE_URL: cluster.url, REPRISE_SCHEMA: SCHEMA, CHAOS_TABLE: TABLE, CHAOS_LEASE_MS: "3000", CHAOS_CONCURRENCY: "20" },
  });
  try {
    await migrate({ connectionString: cluster.url, schema: SCHEMA });
    await sql(EXECUTIONS_DDL(TABLE));
    await fleet.start();
    const { main, all } = chaosWorkflows(pool, TABLE);
    const inputs = chaosInputs(`failover-${options.seed}`, options.runs, options.steps, random);
    const ids = [...inputs.keys()];
    const loading = startRuns(client, main, inputs, 3_000, random, () => undefined);

    const target = Math.ceil(options.runs * options.steps * options.killAfter);
    const stepsNow = async () => (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM "${SCHEMA}".events WHERE kind = 'StepCompleted'`))[0]!.n;
    const waitEnds = Date.now() + 60_000;
    while ((await stepsNow()) < target && Date.now() < waitEnds) await new Promise((r) => setTimeout(r, 50));

    // What the primary has committed the moment before it dies: all of it must survive.
    const before = await sql<{ key: string }>(`SELECT run_id || ':' || seq AS key FROM "${SCHEMA}".events`);
    const executionsBefore = await sql<{ id: string }>(`SELECT id::text FROM ${TABLE}`);
    const stepsBeforeKill = await stepsNow();
    const completedBeforeKill = (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM "${SCHEMA}".runs WHERE status = 'completed'`))[0]!.n;
    const killed = await cluster.primary();
    const promoted = cluster.nodes.find((n) => n !== killed)!;
    const killedAt = Date.now();
    await cluster.kill(killed);
    options.log(
      `killed the primary ${killed.name} (port ${killed.port}) ${((killedAt - started) / 1000).toFixed(1)} s after the runs began, with ${stepsBeforeKill} steps recorded and ${completedBeforeKill} of ${options.runs * 2} runs completed`,
    );
    const outageMs = await cluster.waitWritable(promoted, 90_000);
    options.log(`${promoted.name} takes writes ${outageMs} ms after the kill (${await cluster.states()})`);

    await loading;
    await settle(sql, SCHEMA, ids, options.settleMs);
    options.log(`runs ended ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
    const after = new Set((await sql<{ key: string }>(`SELECT run_id || ':' || seq AS key FROM "${SCHEMA}".events`)).map((r) => r.key));
    const executionsAfter = new Set((await sql<{ id: string }>(`SELECT id::text FROM ${TABLE}`)).map((r) => r.id));
    const measurements = await measure({ sql, client, schema: SCHEMA, table: TABLE, workflows: all, runs: inputs });
    const found = violations(measurements, options.runs * 2);
    const missingEvents = before.filter((r) => !after.has(r.key)).length;
    const missingExecutions = executionsBefore.filter((r) => !executionsAfter.has(r.id)).length;
    if (missingEvents) found.push(`${missingEvents} events committed on the old primary are missing on the new one`);
    if (missingExecutions) found.push(`${missingExecutions} executions committed on the old primary are missing on the new one`);
    if (fleet.unexpectedExits.length) found.push(`${fleet.unexpectedExits.length} worker processes died on their own: ${fleet.unexpectedExits.map((e) => e.stderr.slice(-300)).join(" | ")}`);
    return {
      measurements,
      violations: found,
      killed,
      promoted,
      outageMs,
      // A step whose commit reached the standby as the primary died can carry a later start time: count from the promotion.
      recoveredMs: ((await firstStepAfter(sql, SCHEMA, killedAt + outageMs)) ?? NaN) - killedAt,
      stepsBeforeKill,
      completedBeforeKill,
      missingEvents,
      missingExecutions,
      eventsBeforeKill: before.length,
      unexpectedExits: fleet.unexpectedExits,
      elapsedMs: Date.now() - started,
    };
  } finally {
    await fleet.stop();
    await client.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
  }
}
