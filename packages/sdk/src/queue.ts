import { toMillis, type Duration } from "./duration.js";
import { ValidationError } from "./errors.js";

/** Flow control of a queue. Every worker taking from the queue should be given the same. */
export interface QueueOptions {
  /** Runs of this queue executing at once across all workers. @default unlimited */
  concurrency?: number;
  /** Runs of this queue executing at once in one worker. @default the worker's concurrency */
  workerConcurrency?: number;
  /**
   * At most `limit` claims (a run starting, or resuming after a wait) in any window of
   * `period`, across all workers.
   */
  rateLimit?: { limit: number; period: Duration };
}

/** A named queue with its limits, for `workflow({ queue })` and `new Worker({ queues })`. */
export interface QueueDefinition {
  readonly name: string;
  readonly concurrency: number | undefined;
  readonly workerConcurrency: number | undefined;
  readonly rateLimit: { readonly limit: number; readonly periodMs: number } | undefined;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:\-/]{0,199}$/;

function positiveInteger(value: number | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1) throw new ValidationError(`${what} must be an integer >= 1, got ${String(value)}`);
  return value;
}

/**
 * Defines a queue with limits that hold across every worker.
 *
 * ```ts
 * const payments = queue("payments", { concurrency: 3, rateLimit: { limit: 100, period: "1m" } });
 * export const charge = workflow({ name: "charge", queue: payments }, async (ctx) => { … });
 * ```
 */
export function queue(name: string, options: QueueOptions = {}): QueueDefinition {
  if (typeof name !== "string" || !NAME.test(name)) throw new ValidationError(`queue name ${JSON.stringify(name)} is invalid`);
  const rate = options.rateLimit;
  return Object.freeze({
    name,
    concurrency: positiveInteger(options.concurrency, `queue "${name}": concurrency`),
    workerConcurrency: positiveInteger(options.workerConcurrency, `queue "${name}": workerConcurrency`),
    rateLimit: rate
      ? Object.freeze({
          limit: positiveInteger(rate.limit, `queue "${name}": rateLimit.limit`)!,
          periodMs: Math.max(1, toMillis(rate.period)),
        })
      : undefined,
  });
}

/** True when the queue needs the serialised claim (a limit shared by all workers). */
export function hasSharedLimit(definition: QueueDefinition): boolean {
  return definition.concurrency !== undefined || definition.rateLimit !== undefined;
}
