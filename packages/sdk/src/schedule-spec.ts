import type { Duration } from "./duration.js";

/**
 * When a scheduled workflow runs. Give `cron` or `every`. Each slot starts one run, with id
 * `sched:<schedule id>:<slot ISO time>` and input `{ ...input, scheduledAt }`, where
 * `scheduledAt` is the slot's time as an ISO-8601 string (run inputs are JSON): declare it
 * as `z.iso.datetime()` (or `z.string()`) in the workflow's input schema and use
 * `new Date(scheduledAt)` in the workflow.
 *
 * ```ts
 * workflow({ name: "nightly", input: z.object({ scheduledAt: z.iso.datetime() }),
 *   schedule: { cron: "0 2 * * *", timezone: "America/New_York", catchup: "latest" } }, fn);
 * ```
 */
export interface ScheduleSpec {
  /**
   * Five fields (six with seconds first) or `@hourly @daily @weekly @monthly @yearly`,
   * read by croner in `timezone`. A time that does not exist on a spring-forward day runs
   * once, at the first valid time after the gap; a time that occurs twice on a fall-back
   * day runs once.
   */
  cron?: string;
  /** A fixed interval instead of `cron`, at whole multiples of it since the Unix epoch (at least 1s). */
  every?: Duration;
  /**
   * IANA time zone of the cron expression.
   * @default "UTC"
   */
  timezone?: string;
  /**
   * Slots missed while no scheduler ran: `"none"` skips them (a slot seen more than a minute
   * late is missed), `"latest"` runs the most recent one, `"all"` runs each of them.
   * @default "none"
   */
  catchup?: "none" | "latest" | "all";
  /**
   * How far back catch-up looks; older slots are skipped under every policy.
   * @default "1d"
   */
  catchupWindow?: Duration;
  /**
   * When the schedule's previous run is still going at a slot: `"skip"` the slot, `"allow"`
   * both, `"buffer-one"` (start one waiting slot when the run ends; skip any more), or
   * `"cancel-other"` (cancel the running one, start the new one).
   * @default "skip"
   */
  overlap?: "allow" | "skip" | "buffer-one" | "cancel-other";
  /** Fixed input merged with `{ scheduledAt }`. */
  input?: Record<string, unknown>;
}
