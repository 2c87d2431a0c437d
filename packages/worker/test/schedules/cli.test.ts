import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { workflow } from "@reprise/sdk";
// The built CLI, as the reprise binary runs it.
import { main } from "../../dist/cli/main.js";
import { expect, test } from "vitest";
import { at, scheduler, useScheduling } from "./support.js";
import { runCli, type CliResult } from "../../../../test-support/cli.js";

const { db, store, client } = useScheduling();
const report = workflow({ name: "cli-report" }, async () => "done");

/** Runs the CLI in this process; returns its exit code and what it printed. */
const cli = (...args: string[]): Promise<CliResult> => runCli(main, [...args, "--database-url", db.url, "--schema", db.schema]);

test("schedules backfill prints progress and a summary, and a second run creates nothing", async () => {
  await client.schedules.create({ id: "cli-hourly", workflow: report, cron: "@hourly", timezone: "Europe/Paris" });
  const first = await cli("schedules", "backfill", "cli-hourly", "--from", "2026-01-01", "--to", "2026-01-07", "--batch-size", "100");
  expect(first.err).toBe("");
  expect(first.code).toBe(0);
  // Not a terminal: one plain line per batch instead of a bar.
  expect(first.out).toContain("backfill cli-hourly: 100/168 slots (created 100 · existed 0 · skipped 0)");
  expect(first.out).toContain(
    "backfill of cli-hourly from 2026-01-01 00:00 GMT+1 to 2026-01-07 23:59:59 GMT+1: 168 slots: 168 created, 0 already existed, 0 skipped (not due yet)",
  );
  const again = await cli("schedules", "backfill", "cli-hourly", "--from", "2026-01-01", "--to", "2026-01-07");
  expect(again.code).toBe(0);
  expect(again.out).toContain("168 slots: 0 created, 168 already existed, 0 skipped");
});

test("schedules list shows the timetable, the next fire time in the schedule's zone, the last outcome and pauses", async () => {
  await client.schedules.create({ id: "cli-ny", workflow: report, cron: "30 2 * * *", timezone: "America/New_York", catchup: "latest" });
  await client.schedules.create({ id: "cli-paused", workflow: report, every: "90m", paused: true });
  const s = scheduler(store, [report]);
  await s.tick({ now: at("2026-03-07T12:00:00Z") });
  await s.tick({ now: at("2026-03-08T07:00:01Z") });
  const { code, out } = await cli("schedules", "list");
  expect(code).toBe(0);
  const lines = out.split("\n");
  expect(lines[0]).toMatch(/^id\s+workflow\s+schedule\s+zone\s+next\s+last\s+catchup\/overlap$/);
  const ny = lines.find((l) => l.startsWith("cli-ny"))!;
  expect(ny).toContain("30 2 * * *");
  expect(ny).toContain("America/New_York");
  expect(ny).toContain("2026-03-09 02:30 EDT");
  expect(ny).toContain("queued (2026-03-08 03:00 EDT)");
  expect(ny).toContain("latest/skip");
  const paused = lines.find((l) => l.startsWith("cli-paused"))!;
  expect(paused).toContain("every 1h30m");
  expect(paused).toContain("paused");
  expect(paused).toContain("never ran");
  const shown = await cli("schedules", "show", "cli-ny");
  expect(shown.out).toContain("next  2026-03-09 02:30 EDT, 2026-03-10 02:30 EDT");
  expect(shown.out).toMatch(/2026-03-08 03:00 EDT\s+started\s+sched:cli-ny:2026-03-08T07:00:00.000Z queued/);
});

test("pause, resume, trigger and delete", async () => {
  expect((await cli("schedules", "pause", "cli-ny")).out).toBe("schedule cli-ny paused");
  expect((await client.schedules.get("cli-ny")).paused).toBe(true);
  expect((await cli("schedules", "resume", "cli-ny")).code).toBe(0);
  const triggered = await cli("schedules", "trigger", "cli-ny");
  expect(triggered.out).toMatch(/^sched:cli-ny:\d{4}-/);
  expect((await client.status(triggered.out)).status).toBe("queued");
  const created = await cli("schedules", "create", "cli-new", "--workflow", "cli-report", "--every", "1h", "--input", '{"team":"data"}');
  expect(created.out).toMatch(/^schedule cli-new created: every 1h UTC, next \d{4}-\d\d-\d\d \d\d:00 UTC$/);
  expect((await client.schedules.get("cli-new")).input).toEqual({ team: "data" });
  expect((await cli("schedules", "delete", "cli-new")).code).toBe(0);
  expect((await client.schedules.list()).map((s) => s.id)).not.toContain("cli-new");
});

test("bad input exits non-zero with one line", async () => {
  const cases: [string[], number, RegExp][] = [
    [["schedules", "backfill", "nope", "--from", "2026-01-01", "--to", "2026-01-02"], 1, /^reprise: no schedule with id "nope"$/],
    [["schedules", "backfill", "cli-hourly", "--from", "2026-01-01"], 2, /needs --from and --to/],
    [["schedules", "backfill", "cli-hourly", "--from", "2026-13-01", "--to", "2026-01-02"], 1, /"2026-13-01" is not a calendar date/],
    [["schedules", "create", "x", "--workflow", "w", "--cron", "61 * * * *"], 1, /invalid cron expression "61 \* \* \* \*"/],
    [["schedules", "create", "x", "--workflow", "w", "--cron", "@daily", "--timezone", "Moon/Base"], 1, /unknown time zone "Moon\/Base"/],
    [["schedules", "pause"], 2, /usage: reprise schedules pause <id>/],
    [["schedules", "frobnicate"], 2, /usage: reprise schedules </],
  ];
  for (const [args, code, message] of cases) {
    const result = await cli(...args);
    expect(result.code, args.join(" ")).toBe(code);
    expect(result.err.split("\n"), args.join(" ")).toHaveLength(1);
    expect(result.err, args.join(" ")).toMatch(message);
  }
});

test("the reprise binary exits non-zero on a bad cron expression", () => {
  const bin = fileURLToPath(new URL("../../bin/reprise.js", import.meta.url));
  const result = spawnSync(process.execPath, [bin, "schedules", "create", "x", "--workflow", "w", "--cron", "0 0 31 2 *", "--schema", db.schema], {
    env: { ...process.env, DATABASE_URL: db.url },
    encoding: "utf8",
  });
  expect(result.status).toBe(1);
  expect(result.stderr.trim()).toBe('reprise: schedule "x": cron expression "0 0 31 2 *" never fires');
});

test("a reversed backfill range is said in the dates typed, and a schedule of a workflow no worker declared gets a warning", async () => {
  await client.schedules.create({ id: "cli-daily", workflow: report, cron: "@daily", timezone: "America/New_York" });
  const reversed = await cli("schedules", "backfill", "cli-daily", "--from", "2026-01-07", "--to", "2026-01-01");
  expect(reversed.code).not.toBe(0);
  expect(reversed.err).toBe('reprise: backfill of schedule "cli-daily": --to 2026-01-01 is before --from 2026-01-07');
  const created = await cli("schedules", "create", "cli-nobody", "--workflow", "nobody-declared-this", "--cron", "@hourly");
  expect(created.code).toBe(0);
  expect(created.err).toContain('no worker has declared workflow "nobody-declared-this" yet');
});
