import { ValidationError } from "../errors.js";

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const LOCAL = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?$/;

const formats = new Map<string, Intl.DateTimeFormat>();
function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formats.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      timeZoneName: "short",
    });
    formats.set(timezone, f);
  }
  return f;
}

function wallClock(at: Date, timezone: string): Record<string, string> {
  const parts: Record<string, string> = {};
  for (const p of formatter(timezone).formatToParts(at)) parts[p.type] = p.value;
  return parts;
}

/** How far the zone's wall clock is ahead of UTC at instant `ms`. */
function offsetMs(ms: number, timezone: string): number {
  const p = wallClock(new Date(ms), timezone);
  const asUtc = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant at which the zone's wall clock reads the given time. A time in a
 * spring-forward gap resolves to the instant after the gap; a time that occurs twice, to
 * the first occurrence.
 */
export function wallTimeToInstant(fields: { year: number; month: number; day: number; hour?: number; minute?: number; second?: number; ms?: number }, timezone: string): Date {
  const asUtc = Date.UTC(fields.year, fields.month - 1, fields.day, fields.hour ?? 0, fields.minute ?? 0, fields.second ?? 0, fields.ms ?? 0);
  // Try the offsets in force a day either side; the earliest one that reads back right wins.
  const candidates = [...new Set([offsetMs(asUtc - 86_400_000, timezone), offsetMs(asUtc, timezone), offsetMs(asUtc + 86_400_000, timezone)])]
    .map((off) => asUtc - off)
    .sort((a, b) => a - b);
  for (const t of candidates) if (offsetMs(t, timezone) === asUtc - t) return new Date(t);
  // In a gap no offset reads back: the offset before the jump moves the time past the gap
  // (02:30 on a spring-forward day in New York is 03:30 EDT).
  return new Date(asUtc - Math.min(...candidates.map((t) => asUtc - t)));
}

/**
 * Reads a backfill bound: a `Date`; an ISO timestamp with `Z` or an offset; a local
 * `YYYY-MM-DDTHH:mm[:ss]` in the schedule's zone; or a date `YYYY-MM-DD` in the schedule's
 * zone, which as an end bound means the whole day (up to the next midnight, exclusive).
 *
 * @throws ValidationError naming the value.
 */
export function parseScheduleTime(value: Date | string, timezone: string, edge: "start" | "end", what: string): Date {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new ValidationError(`${what} is an invalid Date`);
    return value;
  }
  if (typeof value !== "string") throw new ValidationError(`${what} must be a Date or a string like "2026-01-01", got ${String(value)}`);
  const text = value.trim();
  const day = DATE_ONLY.exec(text);
  if (day) {
    const [year, month, date] = [Number(day[1]), Number(day[2]), Number(day[3])];
    checkCalendar(year, month, date, text, what);
    if (edge === "start") return wallTimeToInstant({ year, month, day: date }, timezone);
    const next = new Date(Date.UTC(year, month - 1, date + 1));
    return new Date(wallTimeToInstant({ year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate() }, timezone).getTime() - 1);
  }
  const local = LOCAL.exec(text);
  if (local) {
    const [year, month, date] = [Number(local[1]), Number(local[2]), Number(local[3])];
    checkCalendar(year, month, date, text, what);
    return wallTimeToInstant(
      { year, month, day: date, hour: Number(local[4]), minute: Number(local[5]), second: Number(local[6] ?? 0), ms: Number((local[7] ?? "0").padEnd(3, "0")) },
      timezone,
    );
  }
  const parsed = Date.parse(text);
  if (/^\d{4}-\d{2}-\d{2}T/.test(text) && !Number.isNaN(parsed)) return new Date(parsed);
  throw new ValidationError(`${what} ${JSON.stringify(value)} is not a date: use 2026-01-01, 2026-01-01T06:00 (in the schedule's zone) or an ISO time with Z or an offset`);
}

function checkCalendar(year: number, month: number, day: number, text: string, what: string): void {
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) {
    throw new ValidationError(`${what} ${JSON.stringify(text)} is not a calendar date`);
  }
}

/** `2026-03-08 03:00 EDT`: an instant as the zone's wall clock shows it (seconds when not zero). */
export function formatInZone(at: Date, timezone: string): string {
  const p = wallClock(at, timezone);
  const seconds = p.second === "00" ? "" : `:${p.second}`;
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}${seconds} ${p.timeZoneName ?? timezone}`;
}
