import type { Duration } from "./duration.js";

/** When a scheduled workflow runs. Give `cron` or `every`. */
export interface ScheduleSpec {
  /** Five fields (six with seconds) or `@hourly @daily @weekly @monthly @yearly`. */
  cron?: string;
  /** A fixed interval instead of `cron`. */
  every?: Duration;
  /** IANA time zone of the cron expression. @default "UTC" */
  timezone?: string;
  /** Slots missed while no scheduler ran: none, the latest one, or all. @default "none" */
  catchup?: "none" | "latest" | "all";
  /** How far back catch-up looks. @default "1d" */
  catchupWindow?: Duration;
  /** When the previous run is still going. @default "skip" */
  overlap?: "allow" | "skip" | "buffer-one" | "cancel-other";
  /** Fixed input merged with `{ scheduledAt }`. */
  input?: Record<string, unknown>;
}
