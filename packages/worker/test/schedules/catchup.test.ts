import { workflow } from "@reprise/sdk";
import { expect, test } from "vitest";
import { at, scheduler, slotTimes, useScheduling } from "./support.js";

const { db, store, client } = useScheduling();
const etl = workflow({ name: "hourly-etl" }, async () => "done");

const hour = (h: number) => `2026-06-01T${String(h).padStart(2, "0")}:00:00.000Z`;

/** Ticks before 10:00 and just after it, then nothing until `resumeAt` (the outage), then once. */
async function outage(resumeAt: string): Promise<void> {
  const s = scheduler(store, [etl]);
  await s.tick({ now: at("2026-06-01T09:59:30Z") });
  await s.tick({ now: at("2026-06-01T10:00:00.500Z") });
  await s.tick({ now: at(resumeAt) });
}

test("after a 5-hour outage of an hourly schedule, catch-up none skips the missed slots, latest runs the last, all runs each", async () => {
  // No worker runs the slots here, so overlap "allow" keeps a queued run from blocking the next slot.
  for (const catchup of ["none", "latest", "all"] as const) {
    await client.schedules.create({ id: `etl-${catchup}`, workflow: etl, cron: "@hourly", catchup, overlap: "allow" });
  }
  await outage("2026-06-01T15:30:00Z");
  expect(await slotTimes(db, "etl-none")).toEqual([hour(10)]);
  expect(await slotTimes(db, "etl-latest")).toEqual([hour(10), hour(15)]);
  expect(await slotTimes(db, "etl-all")).toEqual([hour(10), hour(11), hour(12), hour(13), hour(14), hour(15)]);
  // Every schedule is back on its timetable: the next slot is 16:00.
  for (const catchup of ["none", "latest", "all"]) {
    expect((await client.schedules.get(`etl-${catchup}`)).nextFireAt).toEqual(at(hour(16)));
  }
  await scheduler(store, [etl]).tick({ now: at("2026-06-01T16:00:01Z") });
  expect(await slotTimes(db, "etl-none")).toEqual([hour(10), hour(16)]);
});

test("catch-up all is bounded by catchupWindow, and a slot seen within a minute is on time under none", async () => {
  await client.schedules.update("etl-none", { paused: true });
  await client.schedules.update("etl-latest", { paused: true });
  await client.schedules.update("etl-all", { paused: true });
  await client.schedules.create({ id: "etl-all-2h", workflow: etl, cron: "@hourly", catchup: "all", catchupWindow: "2h", overlap: "allow" });
  await client.schedules.create({ id: "etl-none-late-30s", workflow: etl, cron: "@hourly", catchup: "none", overlap: "allow" });
  await outage("2026-06-01T15:00:30Z");
  // The window reaches back to 13:00:30: 14:00 and 15:00.
  expect(await slotTimes(db, "etl-all-2h")).toEqual([hour(10), hour(14), hour(15)]);
  expect(await slotTimes(db, "etl-none-late-30s")).toEqual([hour(10), hour(15)]);
});

test("a paused schedule fires nothing, and on resume starts again from the next slot", async () => {
  const before = await slotTimes(db, "etl-all");
  await scheduler(store, [etl]).tick({ now: at("2026-06-01T20:00:00.500Z") });
  expect(await slotTimes(db, "etl-all")).toEqual(before);
  await client.schedules.resume("etl-all");
  const s = scheduler(store, [etl]);
  await s.tick({ now: at("2026-06-01T20:30:00Z") });
  await s.tick({ now: at("2026-06-01T21:00:00.500Z") });
  // The slots that came due while it was paused (16:00-20:00) are not caught up on resume.
  expect(await slotTimes(db, "etl-all")).toEqual([...before, hour(21)]);
});
