import { workflow } from "@reprise/sdk";
import { Scheduler, silentLogger } from "@reprise/worker";
import { expect, test } from "vitest";
import { at, scheduler, slotRuns, slotTimes, useScheduling } from "./support.js";

const { db, store, client } = useScheduling();
const job = workflow({ name: "every-minute" }, async () => "done");
const hourly = workflow({ name: "hourly-job" }, async () => "done");
const backfilled = workflow({ name: "backfilled-job" }, async () => "done");

test("two schedulers ticking the same schedule produce one run per slot", async () => {
  await client.schedules.create({ id: "racing", workflow: job, cron: "* * * * *", overlap: "allow" });
  const a = scheduler(store, [job], "scheduler-a");
  const b = scheduler(store, [job], "scheduler-b");
  await Promise.all([a.tick({ now: at("2026-05-01T00:00:30Z") }), b.tick({ now: at("2026-05-01T00:00:30Z") })]);
  // Ten minutes of ticks every ten seconds, both schedulers at once, on the same clock.
  let started = 0;
  for (let t = at("2026-05-01T00:00:40Z").getTime(); t <= at("2026-05-01T00:10:30Z").getTime(); t += 10_000) {
    const reports = await Promise.all([a.tick({ now: new Date(t) }), b.tick({ now: new Date(t) })]);
    started += reports.reduce((n, r) => n + r.started.length, 0);
  }
  const times = await slotTimes(db, "racing");
  expect(times).toEqual(Array.from({ length: 10 }, (_, i) => `2026-05-01T00:${String(i + 1).padStart(2, "0")}:00.000Z`));
  expect(started).toBe(10);
});

test("a tick that died after creating its runs is finished by the next one without a second run", async () => {
  await client.schedules.create({ id: "crashed-tick", workflow: hourly, every: "1h", catchup: "all", overlap: "allow" });
  const a = scheduler(store, [hourly], "dies-mid-tick");
  await a.tick({ now: at("2026-05-02T00:30:00Z") });
  // Scheduler A claims the schedule at 03:30 and creates the runs of 01:00, 02:00 and 03:00,
  // then dies before it moves the cursor: its claim is left behind.
  const now = at("2026-05-02T03:30:00Z");
  const { schedules, tickAt } = await store.schedules.claim({ now, workflows: ["hourly-job"], limit: 10, owner: "dies-mid-tick", leaseMs: 60_000 });
  expect(schedules.map((s) => s.id)).toEqual(["crashed-tick"]);
  const { planTick } = await import("@reprise/worker");
  const plan = planTick(schedules, tickAt!, new Map([[hourly.name, hourly]]));
  expect((await store.startRuns(plan.runs)).size).toBe(3);
  // While the claim holds, another scheduler leaves the schedule alone…
  const b = scheduler(store, [hourly], "survivor");
  expect((await b.tick({ now })).claimed).toBe(0);
  // …and once it lapses, takes it over: the same slots, the same run ids, nothing new.
  await db.sql(`UPDATE "${db.schema}".schedules SET locked_until = now() - interval '1 second' WHERE id = 'crashed-tick'`);
  const report = await b.tick({ now });
  expect(report.started).toEqual([]);
  expect(report.existed).toBe(3);
  expect(await slotRuns(db, "crashed-tick")).toEqual(plan.runs.map((r) => r.id));
  const slots = await client.schedules.slots("crashed-tick");
  expect(slots.map((s) => [s.slotAt.toISOString(), s.outcome])).toEqual([
    ["2026-05-02T03:00:00.000Z", "started"],
    ["2026-05-02T02:00:00.000Z", "started"],
    ["2026-05-02T01:00:00.000Z", "started"],
  ]);
  expect((await client.schedules.get("crashed-tick")).nextFireAt).toEqual(at("2026-05-02T04:00:00Z"));
});

test("a backfill over slots a scheduler already fired creates nothing, and the other way round", async () => {
  await client.schedules.create({ id: "both-ways", workflow: backfilled, every: "1h", catchup: "all", overlap: "allow", catchupWindow: "30d" });
  const s = scheduler(store, [backfilled]);
  await s.tick({ now: at("2026-05-03T00:30:00Z") });
  await s.tick({ now: at("2026-05-03T03:30:00Z") }); // fires 01:00, 02:00, 03:00
  const result = await client.schedules.backfill("both-ways", { from: "2026-05-03T00:00:00Z", to: "2026-05-03T05:00:00Z" });
  // 01:00-03:00 exist; 00:00, 04:00 and 05:00 are new (the database's clock is past them).
  expect(result.existed).toBe(3);
  expect(result.created).toBe(3);
  // The scheduler catching up over them later starts nothing new.
  const report = await s.tick({ now: at("2026-05-03T05:30:00Z") });
  expect(report.started).toEqual([]);
  expect(report.existed).toBe(2);
  expect(await slotRuns(db, "both-ways")).toHaveLength(6);
});

test("a schedule row that cannot be planned does not hold up the others", async () => {
  const broken = workflow({ name: "broken-row-job" }, async () => "done");
  await client.schedules.create({ id: "healthy", workflow: broken, every: "1h", overlap: "allow" });
  // Written around the sdk's checks: croner refuses this expression.
  await db.sql(
    `INSERT INTO "${db.schema}".schedules (id, workflow, cron, timezone, catchup_window_ms) VALUES ('broken', 'broken-row-job', 'every full moon', 'UTC', 86400000)`,
  );
  const errors: string[] = [];
  const s = new Scheduler({ store, workflows: [broken], logger: { ...silentLogger, error: (m) => void errors.push(m) } });
  await s.tick({ now: at("2026-05-04T00:30:00Z") });
  const report = await s.tick({ now: at("2026-05-04T01:00:01Z") });
  expect(report.started).toEqual(["sched:healthy:2026-05-04T01:00:00.000Z"]);
  expect(errors[0]).toMatch(/schedule "broken" cannot be planned, retrying in a minute: .*every full moon/);
  // Not looked at again on every tick: only once its minute is up.
  expect((await s.tick({ now: at("2026-05-04T01:00:02Z") })).claimed).toBe(0);
});
