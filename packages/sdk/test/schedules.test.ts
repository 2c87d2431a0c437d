import { Client, ValidationError, formatInZone, workflow } from "@reprise/sdk";
import { parseScheduleTime, resolveScheduleSpec, timetableOf } from "@reprise/sdk/engine";
import { describe, expect, test } from "vitest";

const noop = async () => undefined;
const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

describe("schedule definitions are checked when they are made", () => {
  test("a bad cron expression is a ValidationError naming it, in workflow() and in schedules.create", async () => {
    for (const cron of ["61 * * * *", "* * * *", "every day", "0 0 * * * * *", "@reboot"]) {
      const error = (() => {
        try {
          workflow({ name: `bad-cron-${cron.length}`, schedule: { cron } }, noop);
        } catch (e) {
          return e;
        }
      })();
      expect(error, cron).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toContain(JSON.stringify(cron));
      expect((error as Error).message).toContain("invalid cron expression");
    }
    // The client checks before it touches the database (this one is unreachable).
    const client = new Client({ connectionString: "postgres://nobody@127.0.0.1:1/none" });
    await expect(client.schedules.create({ id: "x", workflow: "w", cron: "61 * * * *" })).rejects.toThrow(/invalid cron expression "61 \* \* \* \*"/);
    await expect(client.schedules.create({ id: "x", workflow: "w", cron: "0 6 * * *", timezone: "Mars/Olympus_Mons" })).rejects.toThrow(
      /unknown time zone "Mars\/Olympus_Mons"/,
    );
    await client.close();
  });

  test("an unknown time zone is a ValidationError naming it", () => {
    expect(() => workflow({ name: "bad-tz", schedule: { cron: "0 6 * * *", timezone: "America/Nowhere" } }, noop)).toThrow(ValidationError);
    expect(() => workflow({ name: "bad-tz", schedule: { cron: "0 6 * * *", timezone: "America/Nowhere" } }, noop)).toThrow(/"America\/Nowhere"/);
  });

  test("other mistakes are named too", () => {
    const bad: [object, RegExp][] = [
      [{}, /exactly one of cron and every/],
      [{ cron: "@daily", every: "1h" }, /exactly one of cron and every/],
      [{ every: "500ms" }, /at least 1s/],
      [{ every: "often" }, /every: invalid duration "often"/],
      [{ cron: "@daily", catchup: "some" }, /catchup must be one of none, latest, all/],
      [{ cron: "@daily", overlap: "queue" }, /overlap must be one of allow, skip, buffer-one, cancel-other/],
      [{ cron: "@daily", catchupWindow: "a while" }, /catchupWindow/],
      [{ cron: "0 0 30 2 *" }, /never fires/],
      [{ cron: "@daily", input: [1] }, /input must be an object/],
    ];
    for (const [spec, message] of bad) expect(() => resolveScheduleSpec(spec as never, "test"), JSON.stringify(spec)).toThrow(message);
  });

  test("five fields, six with seconds, the presets and intervals are accepted", () => {
    for (const cron of ["0 6 * * *", "*/15 * * * * *", "@hourly", "@daily", "@weekly", "@monthly", "@yearly", "0 9 * * MON-FRI"]) {
      expect(resolveScheduleSpec({ cron }, "test").cron).toBe(cron);
    }
    expect(resolveScheduleSpec({ every: "1h30m" }, "test")).toMatchObject({ everyMs: 5_400_000, timezone: "UTC", catchup: "none", overlap: "skip", catchupWindowMs: 86_400_000 });
  });
});

describe("timetables", () => {
  test("a daily 02:30 in New York: once on the spring-forward day (03:00 EDT), once on the fall-back day", () => {
    const table = timetableOf({ cron: "30 2 * * *", timezone: "America/New_York" });
    expect(iso(table.between(new Date("2026-03-07T00:00:00Z"), new Date("2026-03-09T23:59:59Z"), 10))).toEqual([
      "2026-03-07T07:30:00.000Z",
      "2026-03-08T07:00:00.000Z",
      "2026-03-09T06:30:00.000Z",
    ]);
    expect(iso(table.between(new Date("2026-10-31T00:00:00Z"), new Date("2026-11-02T23:59:59Z"), 10))).toEqual([
      "2026-10-31T06:30:00.000Z",
      "2026-11-01T07:30:00.000Z",
      "2026-11-02T07:30:00.000Z",
    ]);
  });

  test("a list of hours is a fixed time too: 02:30 is not dropped on the spring-forward day", () => {
    const table = timetableOf({ cron: "30 2,14 * * *", timezone: "America/New_York" });
    expect(iso(table.between(new Date("2026-03-08T00:00:00Z"), new Date("2026-03-08T23:59:59Z"), 10))).toEqual([
      "2026-03-08T07:00:00.000Z",
      "2026-03-08T18:30:00.000Z",
    ]);
  });

  test("next is strictly after, latest is at or before, between is inclusive", () => {
    const table = timetableOf({ cron: "@hourly", timezone: "UTC" });
    const t = new Date("2026-01-01T01:00:00Z");
    expect(table.next(t)).toEqual(new Date("2026-01-01T02:00:00Z"));
    expect(table.latest(t)).toEqual(t);
    expect(table.latest(new Date("2026-01-01T01:59:59.999Z"))).toEqual(t);
    expect(table.between(t, new Date("2026-01-01T03:00:00Z"), 10)).toHaveLength(3);
  });

  test("intervals are aligned to the Unix epoch, whatever the zone", () => {
    const table = timetableOf({ everyMs: 15 * 60_000, timezone: "Asia/Kolkata" });
    expect(table.next(new Date("2026-01-01T10:07:00Z"))).toEqual(new Date("2026-01-01T10:15:00Z"));
    expect(table.latest(new Date("2026-01-01T10:15:00Z"))).toEqual(new Date("2026-01-01T10:15:00Z"));
  });
});

describe("times in a schedule's zone", () => {
  test("backfill bounds: dates and local times are read in the zone, ISO times as given", () => {
    expect(parseScheduleTime("2026-01-01", "America/New_York", "start", "from")).toEqual(new Date("2026-01-01T05:00:00Z"));
    expect(parseScheduleTime("2026-01-01", "America/New_York", "end", "to")).toEqual(new Date("2026-01-02T04:59:59.999Z"));
    expect(parseScheduleTime("2026-07-01T06:00", "Europe/Berlin", "start", "from")).toEqual(new Date("2026-07-01T04:00:00Z"));
    expect(parseScheduleTime("2026-07-01T06:00:00Z", "Europe/Berlin", "start", "from")).toEqual(new Date("2026-07-01T06:00:00Z"));
    // 02:30 does not exist in New York on March 8: the time after the gap.
    expect(parseScheduleTime("2026-03-08T02:30", "America/New_York", "start", "from")).toEqual(new Date("2026-03-08T07:30:00Z"));
    // 01:30 happens twice on November 1: the first one.
    expect(parseScheduleTime("2026-11-01T01:30", "America/New_York", "start", "from")).toEqual(new Date("2026-11-01T05:30:00Z"));
    expect(() => parseScheduleTime("soon", "UTC", "start", "--from")).toThrow(ValidationError);
  });

  test("instants are shown as the zone's wall clock", () => {
    expect(formatInZone(new Date("2026-03-08T07:00:00Z"), "America/New_York")).toBe("2026-03-08 03:00 EDT");
    expect(formatInZone(new Date("2026-01-01T00:00:30Z"), "UTC")).toBe("2026-01-01 00:00:30 UTC");
  });
});
