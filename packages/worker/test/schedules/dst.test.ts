import { workflow } from "@reprise/sdk";
import { expect, test } from "vitest";
import { at, scheduler, slotTimes, useScheduling } from "./support.js";

// No worker runs the slots here, so each run stays queued: overlap "allow" lets the next slot start anyway.

const { db, store, client } = useScheduling();
const daily = workflow({ name: "dst-daily" }, async (_ctx, input: { scheduledAt: string }) => input.scheduledAt);

/**
 * Ticks like a live scheduler would, but on a made-up clock: at least once an hour, and half
 * a second after each slot comes due.
 */
async function runClock(scheduleIds: string[], from: Date, to: Date): Promise<void> {
  const s = scheduler(store, [daily]);
  let now = from;
  await s.tick({ now });
  while (now < to) {
    const infos = await Promise.all(scheduleIds.map((id) => client.schedules.get(id)));
    let next = now.getTime() + 3_600_000;
    for (const info of infos) if (info.nextFireAt && info.nextFireAt.getTime() + 500 > now.getTime()) next = Math.min(next, info.nextFireAt.getTime() + 500);
    now = new Date(next);
    await s.tick({ now });
  }
}

test("a daily 02:30 New York schedule fires once a day across the spring-forward day, at 03:00 EDT on it", async () => {
  await client.schedules.create({ id: "ny-0230-spring", workflow: daily, cron: "30 2 * * *", timezone: "America/New_York", overlap: "allow" });
  await runClock(["ny-0230-spring"], at("2026-03-05T12:00:00Z"), at("2026-03-11T12:00:00Z"));
  expect(await slotTimes(db, "ny-0230-spring")).toEqual([
    "2026-03-06T07:30:00.000Z", // 02:30 EST
    "2026-03-07T07:30:00.000Z",
    "2026-03-08T07:00:00.000Z", // 02:30 does not exist on March 8: once, at 03:00 EDT
    "2026-03-09T06:30:00.000Z", // 02:30 EDT
    "2026-03-10T06:30:00.000Z",
    "2026-03-11T06:30:00.000Z",
  ]);
});

test("daily 02:30 and 01:30 New York schedules fire once a day across the fall-back day", async () => {
  await client.schedules.create({ id: "ny-0230-fall", workflow: daily, cron: "30 2 * * *", timezone: "America/New_York", overlap: "allow" });
  // 01:30 happens twice on November 1 (EDT, then EST): it runs on the first only.
  await client.schedules.create({ id: "ny-0130-fall", workflow: daily, cron: "30 1 * * *", timezone: "America/New_York", overlap: "allow" });
  await runClock(["ny-0230-fall", "ny-0130-fall"], at("2026-10-29T12:00:00Z"), at("2026-11-03T12:00:00Z"));
  expect(await slotTimes(db, "ny-0230-fall")).toEqual([
    "2026-10-30T06:30:00.000Z", // 02:30 EDT
    "2026-10-31T06:30:00.000Z",
    "2026-11-01T07:30:00.000Z", // 02:30 EST, the only 02:30 of the day
    "2026-11-02T07:30:00.000Z",
    "2026-11-03T07:30:00.000Z",
  ]);
  expect(await slotTimes(db, "ny-0130-fall")).toEqual([
    "2026-10-30T05:30:00.000Z",
    "2026-10-31T05:30:00.000Z",
    "2026-11-01T05:30:00.000Z", // 01:30 EDT; not again at 01:30 EST (06:30Z)
    "2026-11-02T06:30:00.000Z",
    "2026-11-03T06:30:00.000Z",
  ]);
});

test("an hourly schedule follows real time through both transitions", async () => {
  await client.schedules.create({ id: "ny-hourly", workflow: daily, cron: "30 * * * *", timezone: "America/New_York", catchup: "all" });
  const s = scheduler(store, [daily]);
  await s.tick({ now: at("2026-03-08T04:00:00Z") }); // 23:00 EST on March 7
  await s.tick({ now: at("2026-03-08T09:00:00Z") });
  // 00:30 EST, 01:30 EST, then 03:30 EDT: the 02:30 that does not exist is not invented.
  expect(await slotTimes(db, "ny-hourly")).toEqual([
    "2026-03-08T04:30:00.000Z",
    "2026-03-08T05:30:00.000Z",
    "2026-03-08T06:30:00.000Z",
    "2026-03-08T07:30:00.000Z",
    "2026-03-08T08:30:00.000Z",
  ]);
});

test("a slot's run receives its time as scheduledAt, an ISO string", async () => {
  const run = await client.status("sched:ny-0230-spring:2026-03-08T07:00:00.000Z");
  expect(run.input).toEqual({ scheduledAt: "2026-03-08T07:00:00.000Z" });
  expect(run.workflowName).toBe("dst-daily");
});
