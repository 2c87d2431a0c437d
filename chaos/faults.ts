import type { Sql } from "./invariants.js";

/** One fault the harness injected, and what it hit. */
export interface Fault {
  kind: "kill" | "freeze" | "terminate" | "restart";
  /** This machine's clock (the database's too: both are on this host). */
  at: number;
  /** Runs whose lease the victim held at that moment (kill, freeze). */
  heldRuns: string[];
  /** Backends terminated (terminate); the outage in ms (restart); the freeze in ms (freeze). */
  amount: number;
  /** For a restart: when the server accepted connections again. */
  backAt?: number;
}

/** Runs whose lease the worker process `pid` holds now (its worker id is `host:pid:ulid`). */
export async function heldRuns(sql: Sql, schema: string, pid: number): Promise<string[]> {
  const rows = await sql<{ id: string }>(
    `SELECT id FROM "${schema}".runs WHERE status = 'running' AND lease_owner LIKE $1 AND available_at > now()`,
    [`%:${pid}:%`],
  );
  return rows.map((r) => r.id);
}

/**
 * Terminates a share of the workers' backends (found by their application_name), as an
 * operator's pg_terminate_backend or a failing connection pooler would.
 * @returns how many were terminated
 */
export async function terminateBackends(sql: Sql, share: number): Promise<number> {
  const rows = await sql<{ n: number }>(
    `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
     WHERE application_name LIKE 'chaos-worker-%' AND pid <> pg_backend_pid() AND random() < $1`,
    [share],
  );
  return rows[0]?.n ?? 0;
}

/** For each fault that held runs: how long until every one of them moved again (a new event). */
export async function recoveryTimes(sql: Sql, schema: string, faults: readonly Fault[]): Promise<Map<Fault, number>> {
  const out = new Map<Fault, number>();
  for (const fault of faults) {
    if (!fault.heldRuns.length) continue;
    const rows = await sql<{ moved: Date | null }>(
      `SELECT (SELECT min(e.created_at) FROM "${schema}".events e WHERE e.run_id = r.id AND e.created_at > $2) AS moved
       FROM unnest($1::text[]) AS r(id)`,
      [fault.heldRuns, new Date(fault.at)],
    );
    const moved = rows.map((r) => r.moved?.getTime());
    if (moved.every((t) => t !== undefined)) out.set(fault, Math.max(...(moved as number[])) - fault.at);
  }
  return out;
}

/** When the first step completion was committed after `at`. */
export async function firstStepAfter(sql: Sql, schema: string, at: number): Promise<number | undefined> {
  const rows = await sql<{ first: Date | null }>(`SELECT min(created_at) AS first FROM "${schema}".events WHERE kind = 'StepCompleted' AND created_at > $1`, [new Date(at)]);
  return rows[0]?.first?.getTime();
}
