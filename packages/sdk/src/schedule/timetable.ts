import { Cron } from "croner";
import { ValidationError } from "../errors.js";

/**
 * The instants a schedule fires at. For cron, croner does the calendar arithmetic in the
 * schedule's IANA zone; an interval (`every`) fires at whole multiples of it since the Unix
 * epoch, so every scheduler computes the same slots without any shared state.
 */
export interface Timetable {
  /** The first slot strictly after `t`, or null when there is none. */
  next(t: Date): Date | null;
  /** The latest slot at or before `t`, or null. */
  latest(t: Date): Date | null;
  /** The slots from `from` to `to`, both inclusive, at most `limit` of them. */
  between(from: Date, to: Date, limit: number): Date[];
}

const cache = new Map<string, Timetable>();
const CACHE_LIMIT = 10_000;

/**
 * The timetable of a (validated) cron expression or interval. Compiled timetables are
 * cached: a tick over a thousand schedules does not parse a thousand expressions.
 */
export function timetableOf(spec: { cron?: string | null | undefined; everyMs?: number | null | undefined; timezone: string }): Timetable {
  const key = spec.cron ? `c ${spec.timezone} ${spec.cron}` : `e ${spec.everyMs}`;
  let table = cache.get(key);
  if (!table) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    table = spec.cron ? cronTimetable(compileCron(spec.cron, spec.timezone, "schedule")) : everyTimetable(spec.everyMs!);
    cache.set(key, table);
  }
  return table;
}

/**
 * Parses a cron expression for a zone with croner.
 *
 * `fixedTimeRule: "no-wildcard"` makes every expression whose second, minute and hour fields
 * are plain values or lists (`30 2 * * *`, `0 2,14 * * *`) a fixed-time job, as in Vixie
 * cron: on a spring-forward day a time in the gap runs once at the first valid time after
 * it, and a time that occurs twice on a fall-back day runs once. Expressions with a wildcard
 * or step in those fields (`0 * * * *`) follow real time instead: no run for the hour that
 * does not exist, one for each of the two hours that share a wall-clock time.
 *
 * @throws ValidationError naming the expression (or the zone) when croner refuses it, or
 *   when it can never fire (`0 0 30 2 *`).
 */
export function compileCron(expression: string, timezone: string, where: string): Cron {
  let cron: Cron;
  try {
    cron = new Cron(expression, { timezone, paused: true, mode: "5-or-6-parts", fixedTimeRule: "no-wildcard" });
  } catch (error) {
    const reason = (error as Error).message.replace(/^CronPattern: /, "");
    throw new ValidationError(`${where}: invalid cron expression ${JSON.stringify(expression)}: ${reason}`, {
      cause: error,
      data: { cron: expression },
    });
  }
  let next: Date | null;
  try {
    next = cron.nextRun(new Date());
  } catch (error) {
    throw new ValidationError(`${where}: cannot use time zone ${JSON.stringify(timezone)}: ${(error as Error).message}`, {
      cause: error,
      data: { timezone },
    });
  }
  if (!next) throw new ValidationError(`${where}: cron expression ${JSON.stringify(expression)} never fires`, { data: { cron: expression } });
  return cron;
}

function cronTimetable(cron: Cron): Timetable {
  // A fleet of schedules tends to share expressions and cursors ("@hourly", all due at 10:00):
  // a tick asks the same question many times, and croner takes ~0.1 ms to answer it.
  const memo = new Map<number, Date | null>();
  const next = (t: Date) => {
    const key = t.getTime();
    let found = memo.get(key);
    if (found === undefined) {
      if (memo.size >= 256) memo.clear();
      found = cron.nextRun(t);
      memo.set(key, found);
    }
    return found === null ? null : new Date(found);
  };
  return {
    next,
    // croner includes a run earlier in the same second as the reference: 1 ms past `t`
    // makes a slot exactly at `t` count, and nothing after it.
    latest: (t) => cron.previousRuns(1, new Date(t.getTime() + 1))[0] ?? null,
    between(from, to, limit) {
      const out: Date[] = [];
      for (let s = next(new Date(from.getTime() - 1)); s && s <= to && out.length < limit; s = next(s)) out.push(s);
      return out;
    },
  };
}

function everyTimetable(everyMs: number): Timetable {
  return {
    next: (t) => new Date((Math.floor(t.getTime() / everyMs) + 1) * everyMs),
    latest: (t) => new Date(Math.floor(t.getTime() / everyMs) * everyMs),
    between(from, to, limit) {
      const out: Date[] = [];
      for (let s = Math.ceil(from.getTime() / everyMs) * everyMs; s <= to.getTime() && out.length < limit; s += everyMs) out.push(new Date(s));
      return out;
    },
  };
}
