import { ScheduleNotFoundError, ValidationError, workflow, type BackfillProgress } from "@reprise/sdk";
import { expect, test } from "vitest";
import { slotRuns, useScheduling } from "./support.js";

const { db, store, client, pool } = useScheduling();
const report = workflow({ name: "hourly-report" }, async () => "done");

/** Counts the statements the store sends while `fn` runs. */
async function countQueries<T>(fn: () => Promise<T>): Promise<{ result: T; queries: string[] }> {
  const queries: string[] = [];
  const original = pool.query.bind(pool);
  pool.query = ((config: unknown, ...rest: unknown[]) => {
    const text = typeof config === "string" ? config : (config as { text: string }).text;
    queries.push(text.trim().split(/\s+/).slice(0, 3).join(" "));
    return (original as (...args: unknown[]) => unknown)(config, ...rest);
  }) as typeof pool.query;
  try {
    return { result: await fn(), queries };
  } finally {
    pool.query = original;
  }
}

test("a backfill of 7 days of an hourly schedule creates 168 runs in batches; again, it creates none", async () => {
  await client.schedules.create({ id: "report", workflow: report, cron: "@hourly" });
  const progress: BackfillProgress[] = [];
  const first = await countQueries(() =>
    client.schedules.backfill("report", { from: "2026-01-01", to: "2026-01-07", batchSize: 50, onProgress: (p) => progress.push(p) }),
  );
  expect(first.result).toMatchObject({ total: 168, created: 168, existed: 0, skipped: 0 });
  expect(first.result.from).toEqual(new Date("2026-01-01T00:00:00Z"));
  expect(progress.map((p) => p.done)).toEqual([50, 100, 150, 168]);
  // Per batch one statement creates the runs and one records the slots: 4 batches, not 168 round trips.
  expect(first.queries.filter((q) => q.startsWith("WITH input AS"))).toHaveLength(4);
  expect(first.queries.length).toBeLessThanOrEqual(4 * 2 + 3);
  const runs = await slotRuns(db, "report");
  expect(runs).toHaveLength(168);
  expect(runs[0]).toBe("sched:report:2026-01-01T00:00:00.000Z");
  expect(runs[167]).toBe("sched:report:2026-01-07T23:00:00.000Z");
  expect((await client.status(runs[5]!)).input).toEqual({ scheduledAt: "2026-01-01T05:00:00.000Z" });

  const again = await client.schedules.backfill("report", { from: "2026-01-01", to: "2026-01-07" });
  expect(again).toMatchObject({ total: 168, created: 0, existed: 168, skipped: 0 });
  expect(await slotRuns(db, "report")).toHaveLength(168);
  const slots = await client.schedules.slots("report", { limit: 1000 });
  expect(slots).toHaveLength(168);
  expect(slots.every((s) => s.outcome === "backfilled" && s.runStatus === "queued")).toBe(true);
});

test("dates are days in the schedule's zone: a New York spring-forward day has 23 hourly slots, a fall-back day 25", async () => {
  await client.schedules.create({ id: "ny-hours", workflow: report, cron: "0 * * * *", timezone: "America/New_York" });
  expect(await client.schedules.backfill("ny-hours", { from: "2026-03-08", to: "2026-03-08" })).toMatchObject({ total: 23, created: 23 });
  expect(await client.schedules.backfill("ny-hours", { from: "2026-11-01", to: "2026-11-01" })).toMatchObject({ total: 25, created: 25 });
  const runs = await slotRuns(db, "ny-hours");
  expect(runs[0]).toBe("sched:ny-hours:2026-03-08T05:00:00.000Z"); // midnight EST
  expect(runs).toContain("sched:ny-hours:2026-11-02T04:00:00.000Z"); // 23:00 EST on November 1
});

test("slots after now are left to the scheduler and counted as skipped", async () => {
  await client.schedules.create({ id: "future", workflow: report, every: "1h" });
  const now = await store.now();
  const from = new Date(now.getTime() - 3 * 3_600_000);
  const to = new Date(now.getTime() + 3 * 3_600_000);
  const result = await client.schedules.backfill("future", { from, to });
  expect(result.total).toBe(6);
  expect(result.created).toBe(3);
  expect(result.skipped).toBe(3);
});

test("a bad range or an unknown schedule is refused before anything is written", async () => {
  await expect(client.schedules.backfill("report", { from: "2026-01-07", to: "2026-01-01" })).rejects.toThrow(ValidationError);
  await expect(client.schedules.backfill("report", { from: "yesterday", to: "2026-01-01" })).rejects.toThrow(/"yesterday" is not a date/);
  await expect(client.schedules.backfill("report", { from: "2026-02-30", to: "2026-03-01" })).rejects.toThrow(/not a calendar date/);
  await expect(client.schedules.backfill("nope", { from: "2026-01-01", to: "2026-01-02" })).rejects.toThrow(ScheduleNotFoundError);
  await expect(client.schedules.backfill("report", { from: "2000-01-01", to: "2026-01-01" })).rejects.toThrow(/more than 100000 slots/);
});
