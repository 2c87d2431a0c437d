import { workflow } from "@reprise/sdk";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { z } from "zod";
import { waitFor } from "../../../../test-support/wait.js";
import { at, scheduler, slotTimes, useScheduling } from "./support.js";

const { db, store, client } = useScheduling();

/** A run that outlasts its one-minute interval: it waits until it is told to finish. */
const longJob = workflow({ name: "long-job", input: z.object({ scheduledAt: z.iso.datetime() }) }, async (ctx, { scheduledAt }) => {
  await ctx.waitForSignal("finish");
  return scheduledAt;
});

let worker: Worker;
beforeAll(async () => {
  // The worker only executes runs; the test drives the scheduler on its own clock.
  worker = new Worker({ store, workflows: [longJob], scheduler: false, pollInterval: "50ms", logger: silentLogger });
  await worker.start();
});
afterAll(() => worker.stop());

const minute = (m: number, extra = "") => `2026-07-01T00:${String(m).padStart(2, "0")}:00${extra}`;
const slot = (m: number) => `${minute(m, ".000")}Z`;
const runOf = (id: string, m: number) => `sched:${id}:${slot(m)}`;
const tickAt = (m: number, seconds = 0.5) => ({ now: new Date(at(`${minute(m)}Z`).getTime() + seconds * 1000) });

async function untilGoing(runId: string): Promise<void> {
  await waitFor(async () => ["running", "waiting"].includes((await client.status(runId)).status), { what: `${runId} running` });
}
async function finish(runId: string): Promise<void> {
  await client.signal(runId, "finish");
  await client.handle(runId).result({ timeout: "10s" });
}

test("overlap skip: a slot that comes while the previous run is still going is skipped", async () => {
  await client.schedules.create({ id: "skip", workflow: longJob, cron: "* * * * *" });
  const s = scheduler(store, [longJob]);
  await s.tick(tickAt(0, 30));
  await s.tick(tickAt(1));
  await untilGoing(runOf("skip", 1));
  const report = await s.tick(tickAt(2));
  expect(report.skipped).toBe(1);
  await finish(runOf("skip", 1));
  await s.tick(tickAt(3));
  expect(await slotTimes(db, "skip")).toEqual([slot(1), slot(3)]);
  const slots = await client.schedules.slots("skip");
  expect(slots.map((x) => [x.slotAt.toISOString(), x.outcome])).toEqual([
    [slot(3), "started"],
    [slot(2), "skipped"],
    [slot(1), "started"],
  ]);
  expect(slots[1]!.reason).toContain(runOf("skip", 1));
  await finish(runOf("skip", 3));
});

test("overlap buffer-one: one slot waits for the running one and starts when it ends; more are skipped", async () => {
  await client.schedules.create({ id: "buffer", workflow: longJob, cron: "* * * * *", overlap: "buffer-one" });
  const s = scheduler(store, [longJob]);
  await s.tick(tickAt(0, 30));
  await s.tick(tickAt(1));
  await untilGoing(runOf("buffer", 1));
  expect((await s.tick(tickAt(2))).buffered).toBe(1);
  expect((await s.tick(tickAt(3))).skipped).toBe(1);
  expect((await client.schedules.get("buffer")).bufferedSlotAt).toEqual(at(slot(2)));
  expect(await slotTimes(db, "buffer")).toEqual([slot(1)]);
  await finish(runOf("buffer", 1));
  // No slot is due at 03:30, but the buffered one may start now that its blocker ended.
  const report = await s.tick(tickAt(3, 30));
  expect(report.started).toEqual([runOf("buffer", 2)]);
  expect(await slotTimes(db, "buffer")).toEqual([slot(1), slot(2)]);
  expect((await client.status(runOf("buffer", 2))).input).toEqual({ scheduledAt: slot(2) });
  expect((await client.schedules.get("buffer")).bufferedSlotAt).toBeUndefined();
  const outcomes = (await client.schedules.slots("buffer")).map((x) => [x.slotAt.toISOString(), x.outcome]);
  expect(outcomes).toEqual([
    [slot(3), "skipped"],
    [slot(2), "started"],
    [slot(1), "started"],
  ]);
  await finish(runOf("buffer", 2));
});

test("overlap cancel-other cancels the running run and starts the new slot; allow runs both", async () => {
  await client.schedules.create({ id: "cancel", workflow: longJob, cron: "* * * * *", overlap: "cancel-other" });
  await client.schedules.create({ id: "allow", workflow: longJob, cron: "* * * * *", overlap: "allow" });
  const s = scheduler(store, [longJob]);
  await s.tick(tickAt(0, 30));
  await s.tick(tickAt(1));
  await untilGoing(runOf("cancel", 1));
  await untilGoing(runOf("allow", 1));
  const report = await s.tick(tickAt(2));
  expect(report.cancelled).toEqual([runOf("cancel", 1)]);
  await waitFor(async () => (await client.status(runOf("cancel", 1))).status === "cancelled", { what: "the old run cancelled" });
  await untilGoing(runOf("cancel", 2));
  await untilGoing(runOf("allow", 2));
  expect((await client.status(runOf("allow", 1))).status).not.toBe("cancelled");
  for (const id of [runOf("cancel", 2), runOf("allow", 1), runOf("allow", 2)]) await finish(id);
});
