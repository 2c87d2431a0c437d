import { toMillis, type Duration } from "./duration.js";
import { CircuitOpenError, RetryableError, ValidationError } from "./errors.js";

/** How a failed step is retried. Every field is optional. */
export interface RetryPolicy {
  /**
   * Total tries including the first; `1` means no retry.
   * @default 3 (or one more than `delays.length` when `delays` is given)
   */
  maxAttempts?: number;
  /** Delay before the first retry. @default "1s" */
  initialDelay?: Duration;
  /** How the delay grows. @default "exponential" */
  backoff?: "exponential" | "fixed" | "linear";
  /** Growth factor for exponential backoff. @default 2 */
  factor?: number;
  /** Cap on a computed delay. @default "5m" */
  maxDelay?: Duration;
  /** Fraction (0..1) of the delay added at random. @default 0.2 */
  jitter?: number;
  /** Explicit delays before retry 1, 2, …; the last repeats. Wins over `backoff` when given. */
  delays?: Duration[];
}

/** A {@link RetryPolicy} with every default applied and durations in milliseconds. */
export interface ResolvedRetryPolicy {
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly backoff: "exponential" | "fixed" | "linear";
  readonly factor: number;
  readonly maxDelayMs: number;
  readonly jitter: number;
  readonly delaysMs: readonly number[] | undefined;
}

const BACKOFFS = ["exponential", "fixed", "linear"] as const;

/**
 * Applies defaults to a policy; fields of `override` win over those of `base` one by one
 * (a step's `retry` over its workflow's).
 *
 * @throws ValidationError on a field out of range.
 */
export function resolveRetryPolicy(base?: RetryPolicy, override?: RetryPolicy): ResolvedRetryPolicy {
  const p: RetryPolicy = { ...base, ...override };
  const delaysMs = p.delays?.map(toMillis);
  const maxAttempts = p.maxAttempts ?? (delaysMs ? delaysMs.length + 1 : 3);
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new ValidationError(`retry.maxAttempts must be an integer >= 1, got ${String(p.maxAttempts)}`);
  }
  const backoff = p.backoff ?? "exponential";
  if (!BACKOFFS.includes(backoff)) {
    throw new ValidationError(`retry.backoff must be one of ${BACKOFFS.join(", ")}, got ${String(backoff)}`);
  }
  const factor = p.factor ?? 2;
  if (!(factor > 0) || !Number.isFinite(factor)) throw new ValidationError(`retry.factor must be a positive number, got ${String(p.factor)}`);
  const jitter = p.jitter ?? 0.2;
  if (!(jitter >= 0 && jitter <= 1)) throw new ValidationError(`retry.jitter must be between 0 and 1, got ${String(p.jitter)}`);
  return Object.freeze({
    maxAttempts,
    initialDelayMs: toMillis(p.initialDelay ?? "1s"),
    backoff,
    factor,
    maxDelayMs: toMillis(p.maxDelay ?? "5m"),
    jitter,
    delaysMs: delaysMs ? Object.freeze(delaysMs) : undefined,
  });
}

/**
 * The delay before retry `n` (1 after the first failure): explicit `delays` when given,
 * else the backoff capped by `maxDelay`; then plus `random() * jitter * delay`.
 * A `RetryableError` with `retryAfter`, or a `CircuitOpenError` (the breaker's remaining
 * cool-down), overrides all of it.
 */
export function retryDelayMs(policy: ResolvedRetryPolicy, n: number, error: unknown, random: () => number = Math.random): number {
  if ((error instanceof RetryableError || error instanceof CircuitOpenError) && error.retryAfterMs !== undefined) return error.retryAfterMs;
  let delay: number;
  if (policy.delaysMs && policy.delaysMs.length > 0) {
    delay = policy.delaysMs[Math.min(n, policy.delaysMs.length) - 1]!;
  } else if (policy.backoff === "fixed") {
    delay = policy.initialDelayMs;
  } else if (policy.backoff === "linear") {
    delay = Math.min(policy.maxDelayMs, policy.initialDelayMs * n);
  } else {
    delay = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** (n - 1));
  }
  return delay + random() * policy.jitter * delay;
}

/** Why a failed attempt is or is not retried. */
export type RetryDecision = { retry: true; delayMs: number } | { retry: false; reason: "non-retryable" | "validation" | "retryIf" | "exhausted" };

/**
 * Classification, first match wins: an error with `retryable === false` (a
 * `NonRetryableError`) → no retry; a validation failure → no retry; `retryIf` when given;
 * otherwise retry while attempts remain.
 */
export function decideRetry(
  policy: ResolvedRetryPolicy,
  error: unknown,
  attempt: number,
  retryIf?: (error: unknown, attempt: number) => boolean,
): RetryDecision {
  if ((error as { retryable?: unknown } | null)?.retryable === false) {
    return { retry: false, reason: error instanceof ValidationError ? "validation" : "non-retryable" };
  }
  if (error instanceof ValidationError) return { retry: false, reason: "validation" };
  if (retryIf && !retryIf(error, attempt)) return { retry: false, reason: "retryIf" };
  if (attempt >= policy.maxAttempts) return { retry: false, reason: "exhausted" };
  return { retry: true, delayMs: retryDelayMs(policy, attempt, error) };
}
