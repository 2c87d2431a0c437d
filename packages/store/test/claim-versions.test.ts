import { CLAIM_SESSION, createStore, type ClaimArgs } from "@reprise/store";
import pg from "pg";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";

const db = useTestSchema();
// The store's own pool, with the settings of its claim connections, watched: the claim's
// statements are captured as they are sent.
const pool = new pg.Pool({ connectionString: db.url, max: 2, options: CLAIM_SESSION });
const sent: { name?: string; text: string; values?: unknown[] }[] = [];
const query = pool.query.bind(pool) as (config: unknown) => Promise<unknown>;
(pool as unknown as { query: (config: unknown) => Promise<unknown> }).query = (config) => {
  if (typeof config === "object" && config !== null && "text" in config) sent.push(config as (typeof sent)[number]);
  return query(config);
};
const store = createStore({ pool, schema: db.schema });
const s = `"${db.schema}"`;

beforeAll(async () => {
  await store.migrate();
  // A backlog of new runs, the pinned runs of an old version that has no worker left
  // (queued and sleeping due), and sleepers far in the future.
  await db.sql(`INSERT INTO ${s}.runs (id, workflow, queue, status, available_at)
    SELECT 'new-' || i, 'w', 'default', 'queued', now() - interval '1 minute' + i * interval '1 ms' FROM generate_series(1, 20000) i`);
  await db.sql(`INSERT INTO ${s}.runs (id, workflow, queue, status, available_at, version, pinned, started_at)
    SELECT 'old-' || i, 'w', 'default', CASE WHEN i % 2 = 0 THEN 'queued' ELSE 'sleeping' END, now() - interval '1 hour', 'v1', true, now()
    FROM generate_series(1, 300) i`);
  await db.sql(`INSERT INTO ${s}.runs (id, workflow, queue, status, available_at, version, started_at)
    SELECT 'sleeper-' || i, 'w', 'default', 'sleeping', now() + interval '1 day', 'v2', now() FROM generate_series(1, 5000) i`);
  await db.sql(`ANALYZE ${s}.runs`);
});
afterAll(async () => {
  await store.close();
  await pool.end();
});

interface PlanNode {
  "Node Type": string;
  "Index Name"?: string;
  "Relation Name"?: string;
  Alias?: string;
  Plans?: PlanNode[];
}
const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];

/** The plan Postgres would use for the statement once it switches to a generic plan (after five runs of a prepared statement). */
async function genericPlan(statement: { text: string; values?: unknown[] }): Promise<PlanNode[]> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SET LOCAL plan_cache_mode = force_generic_plan");
    await client.query(`PREPARE probe(text, text[], int, text, float8, text, text[]) AS ${statement.text}`);
    const params = statement.values!.map((v) => (v === null ? "NULL" : Array.isArray(v) ? `ARRAY[${v.map((x) => pg.escapeLiteral(String(x))).join(",")}]::text[]` : pg.escapeLiteral(String(v))));
    const { rows } = await client.query<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) EXECUTE probe(${params.join(", ")})`);
    return nodes(rows[0]!["QUERY PLAN"][0].Plan);
  } finally {
    await client.query("ROLLBACK");
    await client.query("DEALLOCATE probe").catch(() => undefined);
    client.release();
  }
}

/**
 * The scans that find the runs to claim (the update of the claimed rows, alias r, joins them
 * by primary key: not the part a version changes).
 */
function lanes(plan: PlanNode[]): { seqScans: number; indexes: Set<string> } {
  const scans = plan.filter((n) => n["Relation Name"] === "runs" && n.Alias !== "r");
  const indexes = plan.flatMap((n) => (n["Index Name"]?.startsWith("runs_") && n.Alias !== "r" ? [n["Index Name"]] : []));
  return { seqScans: scans.filter((n) => n["Node Type"] === "Seq Scan").length, indexes: new Set(indexes) };
}

const claim = async (args: Partial<ClaimArgs>) => {
  sent.length = 0;
  const claimed = await store.claimRuns({ queue: "default", workflows: ["w"], limit: 5, owner: "probe", leaseMs: 30_000, ...args });
  return { claimed, statement: sent.find((q) => q.name?.startsWith("reprise_claim_"))! };
};

test("the claim of the newest version skips pinned runs of another version, and its generic plan is the same index lanes", async () => {
  const { claimed, statement } = await claim({ version: "v2", pinned: ["w"] });
  expect(claimed.map((c) => c.id)).toEqual(["new-1", "new-2", "new-3", "new-4", "new-5"]);
  const [taken] = await db.sql<{ version: string; pinned: boolean }>(`SELECT version, pinned FROM ${s}.runs WHERE id = 'new-1'`);
  expect(taken).toEqual({ version: "v2", pinned: true });
  expect(lanes(await genericPlan(statement))).toEqual({ seqScans: 0, indexes: new Set(["runs_ready_now", "runs_delayed", "runs_timed"]) });
});

test("a draining worker claims only its own version's pinned runs, through runs_open_version and never the backlog", async () => {
  const { claimed, statement } = await claim({ version: "v1", pinned: ["w"], draining: true, limit: 400 });
  expect(claimed).toHaveLength(300);
  expect(claimed.every((c) => c.id.startsWith("old-"))).toBe(true);
  expect(lanes(await genericPlan(statement))).toEqual({ seqScans: 0, indexes: new Set(["runs_open_version"]) });
});

test("a worker without a version takes unpinned runs only, and records no version", async () => {
  const { claimed } = await claim({ limit: 3 });
  expect(claimed.map((c) => c.id)).toEqual(["new-6", "new-7", "new-8"]);
  const rows = await db.sql<{ version: string | null; pinned: boolean }>(`SELECT version, pinned FROM ${s}.runs WHERE id IN ('new-6', 'new-7', 'new-8')`);
  expect(rows).toEqual(Array(3).fill({ version: null, pinned: false }));
});
