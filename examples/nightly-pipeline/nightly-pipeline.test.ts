import { Client } from "@reprise/sdk";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../test-support/db.js";
import { dayBefore, nightlyPipeline } from "./workflow.js";

const db = useTestSchema();
const client = new Client(db.connection);
let worker: Worker;
beforeAll(async () => {
  worker = new Worker({ ...db.connection, workflows: [nightlyPipeline], logger: silentLogger, pollInterval: "50ms" });
  await worker.start();
});
afterAll(async () => {
  await worker.stop();
  await client.close();
});

test("the 02:00 run processes the day before, in New York time, on DST days too", () => {
  expect(dayBefore(new Date("2026-01-07T07:00:00.000Z"))).toBe("2026-01-06");
  expect(dayBefore(new Date("2026-03-08T07:00:00.000Z"))).toBe("2026-03-07"); // 03:00 EDT, the day 02:00 does not exist
  expect(dayBefore(new Date("2026-11-01T07:00:00.000Z"))).toBe("2026-10-31");
});

test("the worker writes the declared schedule, and a backfill runs one pipeline per night", async () => {
  const schedule = await client.schedules.get("nightly-pipeline");
  expect(schedule).toMatchObject({ cron: "0 2 * * *", timezone: "America/New_York", source: "code", catchup: "latest" });
  const result = await client.schedules.backfill("nightly-pipeline", { from: "2026-01-01", to: "2026-01-03" });
  expect(result).toMatchObject({ total: 3, created: 3 });
  const days = await Promise.all(
    ["2026-01-01", "2026-01-02", "2026-01-03"].map(async (d) => {
      const out = await client.result<{ day: string; loaded: number }>(`sched:nightly-pipeline:${d}T07:00:00.000Z`, { timeout: "20s" });
      expect(out.loaded).toBeGreaterThan(0);
      return out.day;
    }),
  );
  expect(days).toEqual(["2025-12-31", "2026-01-01", "2026-01-02"]);
  expect((await client.schedules.backfill("nightly-pipeline", { from: "2026-01-01", to: "2026-01-03" })).created).toBe(0);
});
