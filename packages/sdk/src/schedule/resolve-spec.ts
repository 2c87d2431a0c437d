import { toMillis } from "../duration.js";
import { ValidationError } from "../errors.js";
import { toJsonText } from "../json.js";
import type { ScheduleSpec } from "../schedule-spec.js";
import { compileCron } from "./timetable.js";

export const CATCHUP = ["none", "latest", "all"] as const;
export const OVERLAP = ["allow", "skip", "buffer-one", "cancel-other"] as const;
/** What a schedule does with slots missed while no scheduler ran: see `ScheduleSpec.catchup`. */
export type Catchup = (typeof CATCHUP)[number];
/** What a schedule does at a slot while its previous run still runs: see `ScheduleSpec.overlap`. */
export type Overlap = (typeof OVERLAP)[number];

/** A {@link ScheduleSpec} checked once, with defaults applied and durations in milliseconds. */
export interface ResolvedScheduleSpec {
  /** The cron expression as given (trimmed), or undefined for an interval. */
  readonly cron: string | undefined;
  /** The interval, or undefined for a cron expression. */
  readonly everyMs: number | undefined;
  readonly timezone: string;
  readonly catchup: Catchup;
  readonly catchupWindowMs: number;
  readonly overlap: Overlap;
  readonly input: Record<string, unknown> | undefined;
}

const DEFAULT_CATCHUP_WINDOW_MS = 86_400_000;
const SCHEDULE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:\-/]{0,199}$/;

/**
 * Validates a schedule: exactly one of `cron` and `every`, a cron expression croner accepts
 * (five fields, six with seconds, or a preset) that fires at least once, a time zone the
 * runtime knows, and known policies.
 *
 * @param where names the schedule in messages (`workflow "nightly"`).
 * @throws ValidationError naming the bad expression, zone or option.
 */
export function resolveScheduleSpec(spec: ScheduleSpec, where: string): ResolvedScheduleSpec {
  if (!spec || typeof spec !== "object") throw new ValidationError(`${where}: a schedule must be an object with cron or every`);
  const hasCron = spec.cron !== undefined && spec.cron !== null;
  const hasEvery = spec.every !== undefined && spec.every !== null;
  if (hasCron === hasEvery) throw new ValidationError(`${where}: a schedule needs exactly one of cron and every`);
  const timezone = spec.timezone ?? "UTC";
  checkTimezone(timezone, where);
  let cron: string | undefined;
  let everyMs: number | undefined;
  if (hasCron) {
    if (typeof spec.cron !== "string") throw new ValidationError(`${where}: cron must be a string, got ${String(spec.cron)}`);
    cron = spec.cron.trim().replace(/\s+/g, " ");
    compileCron(cron, timezone, where);
  } else {
    everyMs = duration(spec.every!, "every", where);
    if (everyMs < 1_000) throw new ValidationError(`${where}: every must be at least 1s, got ${everyMs}ms`);
  }
  const catchup = spec.catchup ?? "none";
  if (!CATCHUP.includes(catchup)) throw new ValidationError(`${where}: catchup must be one of ${CATCHUP.join(", ")}, got ${JSON.stringify(catchup)}`);
  const overlap = spec.overlap ?? "skip";
  if (!OVERLAP.includes(overlap)) throw new ValidationError(`${where}: overlap must be one of ${OVERLAP.join(", ")}, got ${JSON.stringify(overlap)}`);
  const catchupWindowMs = spec.catchupWindow === undefined ? DEFAULT_CATCHUP_WINDOW_MS : duration(spec.catchupWindow, "catchupWindow", where);
  const input = spec.input;
  if (input !== undefined && (input === null || typeof input !== "object" || Array.isArray(input))) {
    throw new ValidationError(`${where}: input must be an object (it is merged with { scheduledAt })`);
  }
  if (input !== undefined) toJsonText(input, `${where}: input`);
  return Object.freeze({ cron, everyMs, timezone, catchup, catchupWindowMs, overlap, input });
}

/** @throws ValidationError when `id` cannot name a schedule. */
export function checkScheduleId(id: unknown): asserts id is string {
  if (typeof id !== "string" || !SCHEDULE_ID.test(id)) {
    throw new ValidationError(`schedule id ${JSON.stringify(id)} is invalid: use 1-200 letters, digits and _ . : - /, starting with a letter or digit`);
  }
}

/** @throws ValidationError when the runtime does not know the IANA time zone. */
export function checkTimezone(timezone: unknown, where: string): void {
  if (typeof timezone !== "string" || timezone.length === 0) throw new ValidationError(`${where}: timezone must be an IANA name like "America/New_York"`);
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
  } catch {
    throw new ValidationError(`${where}: unknown time zone ${JSON.stringify(timezone)} (use an IANA name like "America/New_York")`, {
      data: { timezone },
    });
  }
}

function duration(value: unknown, name: string, where: string): number {
  try {
    return toMillis(value as number | string);
  } catch (error) {
    throw new ValidationError(`${where}: ${name}: ${(error as Error).message}`, { cause: error });
  }
}
