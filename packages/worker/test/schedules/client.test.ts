import { ScheduleExistsError, ScheduleNotFoundError, ValidationError, workflow } from "@reprise/sdk";
import { Worker, silentLogger } from "@reprise/worker";
import { expect, test } from "vitest";
import { z } from "zod";
import { waitFor } from "../../../../test-support/wait.js";
import { scheduler, slotRuns, useScheduling } from "./support.js";

const { db, store, client } = useScheduling();

const nightly = workflow(
  {
    name: "nightly-train",
    input: z.object({ scheduledAt: z.iso.datetime(), model: z.string() }),
    schedule: { cron: "0 6 * * *", timezone: "America/New_York", catchup: "latest", input: { model: "small" } },
  },
  async (_ctx, input) => `${input.model} at ${input.scheduledAt}`,
);
const sync = workflow({ name: "sync-orders", input: z.object({ scheduledAt: z.string(), shop: z.string() }) }, async (_ctx, { shop }) => shop);

test("create, get, list, update, pause, resume and delete", async () => {
  const created = await client.schedules.create({ id: "sync-eu", workflow: sync, cron: "*/5 * * * *", timezone: "Europe/Berlin", input: { shop: "eu" } });
  expect(created).toMatchObject({ id: "sync-eu", workflowName: "sync-orders", cron: "*/5 * * * *", timezone: "Europe/Berlin", catchup: "none", overlap: "skip", paused: false, source: "api", input: { shop: "eu" } });
  expect(created.nextFireAt).toBeInstanceOf(Date);
  await expect(client.schedules.create({ id: "sync-eu", workflow: sync, every: "1h", input: { shop: "eu" } })).rejects.toThrow(ScheduleExistsError);
  await client.schedules.create({ id: "sync-us", workflow: "sync-orders", every: "10m", input: { shop: "us" }, paused: true });
  expect((await client.schedules.list({ workflow: "sync-orders" })).map((s) => [s.id, s.paused])).toEqual([
    ["sync-eu", false],
    ["sync-us", true],
  ]);
  const updated = await client.schedules.update("sync-eu", { every: "30m", overlap: "allow" });
  expect(updated).toMatchObject({ every: 1_800_000, overlap: "allow", timezone: "Europe/Berlin" });
  expect(updated.cron).toBeUndefined();
  await client.schedules.pause("sync-eu");
  expect((await client.schedules.get("sync-eu")).nextFireAt).toBeNull();
  await client.schedules.resume("sync-eu");
  expect((await client.schedules.get("sync-eu")).paused).toBe(false);
  await client.schedules.delete("sync-us");
  await expect(client.schedules.get("sync-us")).rejects.toThrow(ScheduleNotFoundError);
  for (const call of [() => client.schedules.pause("nope"), () => client.schedules.resume("nope"), () => client.schedules.delete("nope"), () => client.schedules.trigger("nope"), () => client.schedules.update("nope", { every: "1h" })]) {
    const error = await call().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScheduleNotFoundError);
    expect((error as ScheduleNotFoundError).code).toBe("SCHEDULE_NOT_FOUND");
  }
});

test("bad definitions are ValidationErrors and nothing is stored", async () => {
  const before = (await client.schedules.list()).length;
  await expect(client.schedules.create({ id: "bad", workflow: sync, cron: "0 25 * * *", input: { shop: "x" } })).rejects.toThrow(/invalid cron expression "0 25 \* \* \*"/);
  await expect(client.schedules.create({ id: "bad", workflow: sync, cron: "@daily", timezone: "Europe/Atlantis", input: { shop: "x" } })).rejects.toThrow(/unknown time zone "Europe\/Atlantis"/);
  // The workflow's input schema sees { scheduledAt, ...input } now, not at the first slot.
  await expect(client.schedules.create({ id: "bad", workflow: sync, cron: "@daily" })).rejects.toThrow(ValidationError);
  await expect(client.schedules.create({ id: "bad id!", workflow: sync, cron: "@daily" })).rejects.toThrow(/schedule id/);
  await expect(client.schedules.update("sync-eu", { cron: "nope" })).rejects.toThrow(ValidationError);
  expect(await client.schedules.list()).toHaveLength(before);
});

test("trigger runs the workflow now, with scheduledAt = now, also when paused", async () => {
  await client.schedules.pause("sync-eu");
  const handle = await client.schedules.trigger("sync-eu");
  expect(handle.id).toMatch(/^sched:sync-eu:\d{4}-\d\d-\d\dT/);
  const run = await handle.status();
  expect(run.input).toMatchObject({ shop: "eu" });
  expect(Math.abs(new Date((run.input as { scheduledAt: string }).scheduledAt).getTime() - run.createdAt.getTime())).toBeLessThan(5_000);
  const info = await client.schedules.get("sync-eu");
  expect(info.lastRun).toEqual({ id: handle.id, status: "queued" });
  expect((await client.schedules.slots("sync-eu"))[0]).toMatchObject({ outcome: "triggered", runId: handle.id });
});

test("a workflow's declared schedule is written at worker start: the code wins, the pause state stays", async () => {
  const w1 = new Worker({ store, workflows: [nightly], logger: silentLogger, schedulerInterval: "1h" });
  await w1.start();
  await w1.stop();
  const declared = await client.schedules.get("nightly-train");
  expect(declared).toMatchObject({ source: "code", cron: "0 6 * * *", timezone: "America/New_York", catchup: "latest", input: { model: "small" } });
  await client.schedules.update("nightly-train", { cron: "0 7 * * *", paused: true });
  const w2 = new Worker({ store, workflows: [nightly], logger: silentLogger, schedulerInterval: "1h" });
  await w2.start();
  await w2.stop();
  expect(await client.schedules.get("nightly-train")).toMatchObject({ cron: "0 6 * * *", paused: true, source: "code" });
  // A schedule made through the API is never overwritten by code that declares the same id.
  await client.schedules.create({ id: "api-made", workflow: "api-made", every: "1h" });
  const clash = workflow({ name: "api-made", schedule: { cron: "@daily" } }, async () => undefined);
  const warnings: string[] = [];
  const w3 = new Worker({ store, workflows: [clash], logger: { ...silentLogger, warn: (m) => void warnings.push(m) }, schedulerInterval: "1h" });
  await w3.start();
  await w3.stop();
  expect(await client.schedules.get("api-made")).toMatchObject({ every: 3_600_000, source: "api" });
  expect(warnings.join("\n")).toContain("created through the API");
});

test("a worker's scheduler fires slots on the real clock and its runs execute", async () => {
  const tick = workflow({ name: "every-second", input: z.object({ scheduledAt: z.iso.datetime() }) }, async (ctx, { scheduledAt }) =>
    ctx.step("echo", () => scheduledAt),
  );
  await client.schedules.create({ id: "every-second", workflow: tick, every: "1s", overlap: "allow" });
  const worker = new Worker({ store, workflows: [tick], logger: silentLogger, pollInterval: "100ms", schedulerInterval: "200ms" });
  await worker.start();
  try {
    const done = await waitFor(async () => (await client.listRuns({ workflow: "every-second", status: "completed" })).length >= 2 || undefined, {
      what: "two scheduled runs completed",
    });
    expect(done).toBe(true);
    const [run] = await client.listRuns({ workflow: "every-second", status: "completed", limit: 1 });
    expect(run!.id).toBe(`sched:every-second:${(run!.output as string)}`);
    const slots = await client.schedules.slots("every-second", { limit: 2 });
    const finished = slots.find((s) => s.endedAt);
    expect(finished?.startedAt).toBeInstanceOf(Date);
    expect(finished!.startDelayMs!).toBeGreaterThanOrEqual(0);
    expect(finished!.startDelayMs!).toBeLessThan(10_000);
  } finally {
    await worker.stop();
    await client.schedules.delete("every-second");
  }
});

test("lateness: slots whose run has not started lateBy after the slot, started late, or were never fired", async () => {
  await client.schedules.create({ id: "late-report", workflow: "late-report", every: "1h", overlap: "allow", catchup: "all" });
  const s = scheduler(store, [workflow({ name: "late-report" }, async () => undefined)]);
  const now = await store.now();
  const hourAgo = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000 - 3 * 3_600_000);
  await s.tick({ now: new Date(hourAgo.getTime() - 1_000) });
  await s.tick({ now: new Date(hourAgo.getTime() + 1_000) });
  const [runId] = await slotRuns(db, "late-report");
  // Nobody runs "late-report": its run waits, and the cursor is now hours behind.
  const late = await client.schedules.late({ lateBy: "1h" });
  const mine = late.filter((l) => l.scheduleId === "late-report");
  expect(mine.map((l) => l.reason)).toEqual(["not-started", "not-fired"]);
  expect(mine[0]).toMatchObject({ runId, slotAt: hourAgo });
  expect(mine[0]!.lateMs).toBeGreaterThan(3 * 3_600_000 - 60_000);
  expect(await client.schedules.late({ lateBy: "1d" })).toEqual([]);
  await client.schedules.delete("late-report");
});
