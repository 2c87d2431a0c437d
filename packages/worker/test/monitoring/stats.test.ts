import { Client, ValidationError } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { afterAll, beforeAll, expect, test, vi } from "vitest";
import { useTestSchema } from "../../../../test-support/db.js";
// The built CLI, as the reprise binary runs it.
import { main } from "../../dist/cli/main.js";

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
const client = new Client({ store, migrate: false });
afterAll(() => store.close());

const MIN = 60_000;
const HOUR = 60 * MIN;

/**
 * A run whose events are written with the times a scenario needs (the log is append-only,
 * but an insert may say when). `events` are [kind, minutes before `base`, position?].
 */
let base: Date;
async function scripted(id: string, workflow: string, startedMinAgo: number, events: [string, number, number?][]): Promise<void> {
  await store.startRuns([{ id, workflow, queue: "default" }]);
  const s = `"${db.schema}"`;
  const last = events[events.length - 1]![0];
  const status = { RunCompleted: "completed", RunFailed: "failed", RunCancelled: "cancelled" }[last] ?? "running";
  await db.sql(`UPDATE ${s}.runs SET status = $2, started_at = $4::timestamptz - $3 * interval '1 minute', available_at = NULL WHERE id = $1`, [id, status, startedMinAgo, base]);
  let seq = 1;
  for (const [kind, minAgo, position] of events) {
    await db.sql(
      `INSERT INTO ${s}.events (run_id, seq, kind, position, name, payload, created_at) VALUES ($1, $2, $3, $4, $5, '{}', $7::timestamptz - $6 * interval '1 minute')`,
      [id, seq++, kind, position ?? null, position === undefined ? null : `step-${position}`, minAgo, base],
    );
  }
}

beforeAll(async () => {
  await store.migrate();
  // Every time of the scenario is counted back from one instant, so differences are exact.
  base = await store.now();
  // checkout: completed, failed, failed, completed (each ending 1 h apart), then a cancel.
  await scripted("co-1", "checkout", 5 * 60, [["RunCompleted", 4 * 60]]);
  await scripted("co-2", "checkout", 3 * 60 + 10, [["StepAttemptFailed", 3 * 60 + 8, 0], ["StepAttemptFailed", 3 * 60 + 6, 0], ["StepFailed", 3 * 60 + 4, 0], ["RunFailed", 3 * 60]]);
  await scripted("co-3", "checkout", 2 * 60 + 10, [["RunFailed", 2 * 60]]);
  // Its first step failed once and succeeded 3 minutes later.
  await scripted("co-4", "checkout", 60 + 10, [["StepAttemptFailed", 60 + 5, 0], ["StepCompleted", 60 + 2, 0], ["RunCompleted", 60]]);
  await scripted("co-5", "checkout", 40, [["RunCancelled", 30]]);
  // Ended long ago: outside the default window of 7 days.
  await scripted("co-old", "checkout", 9 * 24 * 60, [["RunFailed", 9 * 24 * 60 - 1]]);
  // refund: one run that failed, was retried by hand and then completed 30 minutes later.
  await scripted("rf-1", "refund", 60, [["RunFailed", 50], ["RunRetried", 40], ["RunCompleted", 20]]);
  // report: its latest failure has not recovered yet.
  await scripted("rp-1", "report", 30, [["RunCompleted", 25]]);
  await scripted("rp-2", "report", 20, [["RunFailed", 10]]);
});

test("stats give the success rate, retries and times to recovery of a scripted sequence of runs", async () => {
  const stats = await client.stats();
  expect(stats.map((s) => s.workflowName)).toEqual(["checkout", "refund", "report"]);
  const [checkout, refund, report] = stats;

  expect(checkout).toMatchObject({ runs: 5, completed: 2, failed: 2, cancelled: 1, successRate: 0.5, stepRetries: 3 });
  // From the first failure (3 h ago) to the next completion (1 h ago); the second failure is the same incident.
  expect(checkout!.meanTimeToRecoveryMs).toBe(2 * HOUR);
  // Only the step that recovered counts: failed 65 minutes ago, completed 62 minutes ago.
  expect(checkout!.stepMeanTimeToRecoveryMs).toBe(3 * MIN);
  // Durations from first start to ending: 60, 10, 10, 10 and 10 minutes.
  expect(checkout!.p50DurationMs).toBe(10 * MIN);
  expect(checkout!.p95DurationMs).toBeCloseTo(10 * MIN + 0.8 * 50 * MIN, 3);

  // A retried run counts its failure and its completion; recovery is the time between them.
  expect(refund).toMatchObject({ runs: 1, completed: 1, failed: 1, successRate: 0.5, stepRetries: 0 });
  expect(refund!.meanTimeToRecoveryMs).toBe(30 * MIN);
  expect(refund!.stepMeanTimeToRecoveryMs).toBeNull();

  // An incident still open is no recovery (yet).
  expect(report).toMatchObject({ runs: 2, completed: 1, failed: 1, successRate: 0.5, meanTimeToRecoveryMs: null });
});

test("the window and the workflow filter", async () => {
  const [lastTwoHours] = await client.stats({ workflow: "checkout", since: "150m" });
  expect(lastTwoHours).toMatchObject({ workflowName: "checkout", runs: 3, completed: 1, failed: 1, cancelled: 1 });
  // The incident began before the window: it counts from the failure inside it.
  expect(lastTwoHours!.meanTimeToRecoveryMs).toBe(HOUR);

  const [tenDays] = await client.stats({ workflow: "checkout", since: new Date(Date.now() - 10 * 24 * HOUR) });
  expect(tenDays).toMatchObject({ runs: 6, failed: 3 });
  expect(await client.stats({ workflow: "no-such-workflow" })).toEqual([]);

  await expect(client.stats({ since: "a week" })).rejects.toThrow(ValidationError);
  await expect(client.stats({ since: new Date("nope") })).rejects.toThrow(ValidationError);
});

test("reprise stats prints the same numbers, as a table or as JSON", async () => {
  const out: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
  try {
    expect(await main(["stats", "--json", "--database-url", db.url, "--schema", db.schema])).toBe(0);
    expect(JSON.parse(out.join("\n"))).toEqual(JSON.parse(JSON.stringify(await client.stats())));
    out.length = 0;
    expect(await main(["stats", "--since", "7d", "--workflow", "checkout", "--database-url", db.url, "--schema", db.schema])).toBe(0);
    const row = out.join("\n").split("\n").find((l) => l.startsWith("checkout"))!;
    expect(row.split(/\s{2,}/)).toEqual(["checkout", "5", "2", "2", "1", "50.0%", "3", "2h00m", "3m00s", "10m00s", "50m00s"]);
    expect(await main(["stats", "--since", "soon", "--database-url", db.url, "--schema", db.schema])).toBe(2);
    expect(error).toHaveBeenCalledWith(expect.stringContaining("--since"));
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
});
