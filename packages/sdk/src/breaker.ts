import { toMillis, type Duration } from "./duration.js";
import { ValidationError } from "./errors.js";

/** Options of {@link circuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Shared identity: every worker using this name shares one state in Postgres. */
  name: string;
  /** Consecutive failures that open the breaker. @default 5 */
  failureThreshold?: number;
  /** How long it stays open before one trial call is let through. @default "1m" */
  resetAfter?: Duration;
}

/** A circuit breaker definition; its state lives in Postgres. */
export interface CircuitBreaker {
  readonly name: string;
  readonly failureThreshold: number;
  readonly resetAfterMs: number;
}

/**
 * Defines a circuit breaker shared by every worker.
 *
 * ```ts
 * const paymentsApi = circuitBreaker({ name: "payments-api", failureThreshold: 5, resetAfter: "1m" });
 * await ctx.step("charge", charge, { breaker: paymentsApi });
 * ```
 */
export function circuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  if (typeof options?.name !== "string" || options.name.length === 0) {
    throw new ValidationError("circuitBreaker needs a name");
  }
  const failureThreshold = options.failureThreshold ?? 5;
  if (!Number.isInteger(failureThreshold) || failureThreshold < 1) {
    throw new ValidationError(`circuitBreaker "${options.name}": failureThreshold must be an integer >= 1`);
  }
  return Object.freeze({ name: options.name, failureThreshold, resetAfterMs: toMillis(options.resetAfter ?? "1m") });
}
