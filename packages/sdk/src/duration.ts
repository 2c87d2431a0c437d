/**
 * A length of time: a number of milliseconds, or a string such as `"250ms"`, `"30s"`,
 * `"5m"`, `"2h"`, `"1d"`, or a combination like `"1h30m"`.
 */
export type Duration = number | string;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/**
 * Converts a {@link Duration} to milliseconds.
 *
 * @throws TypeError naming the value when it is not a duration.
 *
 * ```ts
 * toMillis("1h30m"); // 5_400_000
 * ```
 */
export function toMillis(duration: Duration): number {
  if (typeof duration === "number") {
    if (Number.isFinite(duration) && duration >= 0) return duration;
    throw new TypeError(`invalid duration ${String(duration)}: expected a non-negative finite number of milliseconds`);
  }
  if (typeof duration === "string") {
    const text = duration.trim();
    if (WHOLE.test(text)) {
      let total = 0;
      for (const [, amount, unit] of text.matchAll(PART)) total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
      return total;
    }
  }
  throw new TypeError(
    `invalid duration ${JSON.stringify(duration)}: expected milliseconds or a string like "250ms", "30s", "5m", "2h", "1d", "1h30m"`,
  );
}

/** Like {@link toMillis}, but passes `undefined` through. */
export function toMillisOrUndefined(duration: Duration | undefined): number | undefined {
  return duration === undefined ? undefined : toMillis(duration);
}

/** Formats milliseconds for people: `850ms`, `1.2s`, `3m05s`, `2h10m`, `7d00h`. */
export function formatMillis(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 0) return `-${formatMillis(-ms)}`;
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 2 : 1)}s`;
  // Rounded once, then split, so that 59.6 s past a minute reads 2m00s, not 1m60s.
  const seconds = Math.round(ms / 1_000);
  const pad = (n: number) => String(n).padStart(2, "0");
  if (seconds < 3_600) return `${Math.floor(seconds / 60)}m${pad(seconds % 60)}s`;
  const minutes = Math.round(ms / 60_000);
  if (minutes < 24 * 60) return `${Math.floor(minutes / 60)}h${pad(minutes % 60)}m`;
  const hours = Math.round(ms / 3_600_000);
  return `${Math.floor(hours / 24)}d${pad(hours % 24)}h`;
}
