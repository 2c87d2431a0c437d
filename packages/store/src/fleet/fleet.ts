import { sql, type Kysely } from "kysely";
import type { Pool } from "pg";
import { declareWorkflows, type DeclaredWorkflow, type TriggerChange } from "../queries/declare-workflows.js";
import { TERMINAL_SQL } from "../run-status.js";
import type { Database } from "../schema.js";
import type { FleetStore, VersionRecord, WorkerPresence, WorkerRecord } from "./fleet-store.js";

/** The {@link FleetStore} on node-postgres and kysely (private: reached as `store.fleet`). */
export class PgFleet implements FleetStore {
  constructor(
    private readonly pool: Pool,
    private readonly db: Kysely<Database>,
    /** The quoted schema. */
    private readonly s: string,
  ) {}

  declare(workflows: readonly DeclaredWorkflow[]): Promise<TriggerChange[]> {
    return declareWorkflows(this.pool, this.s, workflows);
  }

  async declared(names: readonly string[]): Promise<Set<string>> {
    if (names.length === 0) return new Set();
    const rows = await this.db.selectFrom("workflows").select("name").where("name", "in", names).execute();
    return new Set(rows.map((r) => r.name));
  }

  /**
   * Two statements, off the hot path (once per heartbeat interval): the upsert, then the
   * read, so that the read sees this worker's version row even on its first beat. The
   * newest version is the one that appeared last among those with a live worker: a v1 pod
   * that restarts during a deploy to v2 does not make v1 the newest again.
   */
  async beat(worker: WorkerPresence): Promise<{ current: string | null }> {
    await this.pool.query(
      `WITH seen AS (
         INSERT INTO ${this.s}.versions (version) SELECT $2::text WHERE $2::text IS NOT NULL ON CONFLICT (version) DO NOTHING
       )
       INSERT INTO ${this.s}.workers (id, version, workflows, queues, expires_at)
       VALUES ($1, $2, $3, $4, now() + $5 * interval '1 millisecond')
       ON CONFLICT (id) DO UPDATE SET seen_at = now(), expires_at = EXCLUDED.expires_at, version = EXCLUDED.version,
         workflows = EXCLUDED.workflows, queues = EXCLUDED.queues`,
      [worker.id, worker.version ?? null, worker.workflows, worker.queues, worker.leaseMs],
    );
    const { rows } = await this.pool.query<{ version: string }>(
      `SELECT v.version FROM ${this.s}.versions v
       WHERE EXISTS (SELECT 1 FROM ${this.s}.workers w WHERE w.version = v.version AND w.expires_at > now())
       ORDER BY v.first_seen_at DESC LIMIT 1`,
    );
    return { current: rows[0]?.version ?? null };
  }

  async leave(workerId: string): Promise<void> {
    // Kept a day as stopped, so that `reprise versions` can say when a version was last seen.
    await this.db.updateTable("workers").set({ expires_at: sql<Date>`now()`, seen_at: sql<Date>`now()` }).where("id", "=", workerId).execute();
    // Workers that died long ago are of no interest to anyone.
    await this.db.deleteFrom("workers").where("expires_at", "<", sql<Date>`now() - interval '1 day'`).execute();
  }

  async versions(): Promise<VersionRecord[]> {
    const { rows } = await this.pool.query<{
      version: string | null;
      first_seen_at: Date | null;
      open_runs: number;
      pinned_runs: number;
      live_workers: number;
      last_seen_at: Date | null;
    }>(
      `WITH open AS (
         SELECT version, count(*)::int AS open_runs, count(*) FILTER (WHERE pinned)::int AS pinned_runs
         FROM ${this.s}.runs WHERE status NOT IN ${TERMINAL_SQL} GROUP BY version
       ), fleet AS (
         SELECT version, count(*) FILTER (WHERE expires_at > now())::int AS live_workers, max(seen_at) AS last_seen_at
         FROM ${this.s}.workers GROUP BY version
       ), known AS (
         SELECT version, first_seen_at FROM ${this.s}.versions
         UNION ALL SELECT NULL, NULL
       )
       SELECT k.version, k.first_seen_at, coalesce(o.open_runs, 0) AS open_runs, coalesce(o.pinned_runs, 0) AS pinned_runs,
              coalesce(f.live_workers, 0) AS live_workers, f.last_seen_at
       FROM known k
       LEFT JOIN open o ON o.version IS NOT DISTINCT FROM k.version
       LEFT JOIN fleet f ON f.version IS NOT DISTINCT FROM k.version
       ORDER BY k.first_seen_at DESC NULLS LAST`,
    );
    return rows.map((r) => ({
      version: r.version,
      firstSeenAt: r.first_seen_at,
      openRuns: r.open_runs,
      pinnedRuns: r.pinned_runs,
      liveWorkers: r.live_workers,
      lastSeenAt: r.last_seen_at,
    }));
  }

  async workers(): Promise<WorkerRecord[]> {
    const rows = await this.db
      .selectFrom("workers")
      .select(["id", "version", "workflows", "queues", "started_at", "seen_at"])
      .select(sql<boolean>`expires_at > now()`.as("alive"))
      .where("seen_at", ">", sql<Date>`now() - interval '1 day'`)
      .orderBy("started_at", "desc")
      .execute();
    return rows.map((r) => ({
      id: r.id,
      version: r.version,
      workflows: r.workflows,
      queues: r.queues,
      startedAt: r.started_at,
      seenAt: r.seen_at,
      alive: r.alive,
    }));
  }
}
