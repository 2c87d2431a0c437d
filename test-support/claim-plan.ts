import { CLAIM_SESSION, createStore, type Store } from "@reprise/store";
import pg from "pg";

/** One node of a plan, as EXPLAIN (FORMAT JSON) describes it. */
interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  "Shared Hit Blocks"?: number;
  "Shared Read Blocks"?: number;
  "Actual Loops"?: number;
  Plans?: PlanNode[];
}

/** What the claim's plan reads: each scan as `Node Type on relation (index)`, and the pages it touched. */
export interface ClaimPlan {
  scans: string[];
  /** Shared buffers hit plus read (EXPLAIN ANALYZE only). */
  buffers: number;
  /** Execution time in ms (EXPLAIN ANALYZE only; for printing, never for asserting). */
  ms: number;
}

/**
 * The plan of the worker's claim statement exactly as the store sends it, on a connection
 * with the settings of the store's claim connections (CLAIM_SESSION), as a generic plan (what
 * a prepared statement settles on after five executions, and keeps). The store runs on that
 * one connection, so that its prepared claim can be EXPLAINed on the same session.
 */
export class ClaimPlanProbe {
  readonly store: Store;
  private readonly pool: pg.Pool;

  constructor(url: string, readonly schema: string) {
    this.pool = new pg.Pool({ connectionString: url, max: 1, options: CLAIM_SESSION });
    this.pool.on("error", () => undefined);
    this.store = createStore({ pool: this.pool, schema });
  }

  /** EXPLAINs `claim(queue, workflows, limit)`; with `analyze`, runs it too (it claims what is due). */
  async explain(args: { queue?: string; workflows: string[]; limit: number; analyze?: boolean }): Promise<ClaimPlan> {
    const name = await this.prepared();
    await this.pool.query("SET plan_cache_mode = force_generic_plan");
    try {
      const options = args.analyze ? "ANALYZE, BUFFERS, FORMAT JSON" : "FORMAT JSON";
      // EXECUTE takes no bind parameters: the values go in as literals.
      const workflows = `ARRAY[${args.workflows.map((w) => pg.escapeLiteral(w)).join(", ")}]::text[]`;
      const { rows } = await this.pool.query<{ "QUERY PLAN": [{ Plan: PlanNode; "Execution Time"?: number }] }>(
        // The last two: a worker without a version (migration 0009), which pins nothing.
        `EXPLAIN (${options}) EXECUTE ${name}(${pg.escapeLiteral(args.queue ?? "default")}, ${workflows}, ${Math.trunc(args.limit)}, 'plan-probe', 30000, NULL, ARRAY[]::text[])`,
      );
      const [{ Plan, "Execution Time": ms }] = rows[0]!["QUERY PLAN"];
      const scans: string[] = [];
      const walk = (node: PlanNode) => {
        if (node["Relation Name"]) scans.push(`${node["Node Type"]} on ${node["Relation Name"]}${node["Index Name"] ? ` (${node["Index Name"]})` : ""}`);
        for (const child of node.Plans ?? []) walk(child);
      };
      walk(Plan);
      return { scans, buffers: (Plan["Shared Hit Blocks"] ?? 0) + (Plan["Shared Read Blocks"] ?? 0), ms: ms ?? Number.NaN };
    } finally {
      await this.pool.query("RESET plan_cache_mode");
    }
  }

  /** The claim's prepared statement on this session (a claim of nothing prepares it). */
  private async prepared(): Promise<string> {
    await this.store.claimRuns({ queue: "no-such-queue", workflows: ["none"], limit: 1, owner: "plan-probe", leaseMs: 1 });
    const { rows } = await this.pool.query<{ name: string }>("SELECT name FROM pg_prepared_statements WHERE name LIKE 'reprise_claim_runs_%'");
    if (!rows[0]) throw new Error("the claim was not prepared on this session");
    return rows[0].name;
  }

  async close(): Promise<void> {
    await this.store.close();
    await this.pool.end();
  }
}

/**
 * Loads `runs` completed runs of `workflow` with `eventsPerRun` events each, in two
 * statements (generate_series), without analyzing: the tables then look to the planner as
 * big as their pages say, with whatever statistics they had before.
 */
export async function loadFinishedRuns(db: pg.Pool, schema: string, options: { runs: number; eventsPerRun: number; workflow: string }): Promise<void> {
  const s = `"${schema}"`;
  await db.query(
    `INSERT INTO ${s}.runs (id, workflow, queue, status, output, available_at, lease_epoch, started_at, created_at, updated_at)
     SELECT 'done-' || g, $2, 'default', 'completed', '1', NULL, 1, now() - interval '1 day', now() - interval '1 day', now() - interval '1 day'
     FROM generate_series(1, $1) g`,
    [options.runs, options.workflow],
  );
  await db.query(
    `INSERT INTO ${s}.events (run_id, seq, kind, position, name, payload, created_at)
     SELECT 'done-' || g, e,
            CASE WHEN e = 0 THEN 'RunStarted' WHEN e = $2 - 1 THEN 'RunCompleted' ELSE 'StepCompleted' END,
            CASE WHEN e > 0 AND e < $2 - 1 THEN e - 1 END,
            CASE WHEN e > 0 AND e < $2 - 1 THEN 'step' END,
            CASE WHEN e = 0 THEN jsonb_build_object('workflow', $3::text, 'queue', 'default') ELSE '{"result":1,"attempt":1}'::jsonb END,
            now() - interval '1 day'
     FROM generate_series(1, $1) g, generate_series(0, $2 - 1) e`,
    [options.runs, options.eventsPerRun, options.workflow],
  );
}

/** Queues `runs` runs of `workflow` that are due in an hour (started with a delay), in one statement. */
export async function loadDelayedRuns(db: pg.Pool, schema: string, options: { runs: number; workflow: string }): Promise<void> {
  await db.query(
    `INSERT INTO "${schema}".runs (id, workflow, queue, status, available_at)
     SELECT 'later-' || g, $2, 'default', 'queued', now() + interval '1 hour' FROM generate_series(1, $1) g`,
    [options.runs, options.workflow],
  );
}
