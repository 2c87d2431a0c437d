import type { Store } from "@reprise/store";
import type { DatabaseClock } from "./clock.js";
import type { Committer } from "./committer.js";
import type { WorkerLogger } from "./logger.js";
import type { WorkerMetrics } from "./metrics.js";
import type { ResolvedWorkerOptions } from "./options.js";
import type { WorkerTracing } from "./tracing.js";

/** What a worker shares with the runs it executes. */
export interface WorkerRuntime {
  readonly store: Store;
  readonly committer: Committer;
  readonly clock: DatabaseClock;
  readonly logger: WorkerLogger;
  readonly workerId: string;
  readonly leaseMs: number;
  readonly options: ResolvedWorkerOptions;
  /** Undefined with `metrics: false`. */
  readonly metrics: WorkerMetrics | undefined;
  /** Undefined without `@opentelemetry/api`, or with `tracing: false`. */
  readonly tracing: WorkerTracing | undefined;
}
