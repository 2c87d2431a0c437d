import { hostname } from "node:os";
import { toMillis, type Duration, type Workflow } from "@reprise/sdk";
import type { Store } from "@reprise/store";
import { ulid } from "ulid";
import { WorkerConfigError } from "./errors.js";
import { consoleLogger, type WorkerLogger } from "./logger.js";

/** Options of {@link Worker}. */
export interface WorkerOptions {
  /** Postgres connection string. Either this or `store`. */
  connectionString?: string;
  /** A store from `createStore()` (the worker does not close it). LISTEN needs its connectionString. */
  store?: Store;
  /**
   * Postgres schema of Reprise's tables.
   * @default "reprise"
   */
  schema?: string;
  /** The workflows this worker runs. */
  workflows: readonly Workflow<any, any>[];
  /**
   * Queues to take runs from.
   * @default every queue of the given workflows
   */
  queues?: readonly string[];
  /**
   * Runs in flight in this process.
   * @default 10
   */
  concurrency?: number;
  /**
   * How long a claim holds without a heartbeat: a crashed worker's runs are picked up after this.
   * @default "30s"
   */
  leaseDuration?: Duration;
  /**
   * How often leases are renewed (all in one statement).
   * @default a third of leaseDuration
   */
  heartbeatInterval?: Duration;
  /**
   * How often to look for runnable runs when no NOTIFY arrives (timers, retries, lost notifications).
   * @default "1s"
   */
  pollInterval?: Duration;
  /**
   * Waits (sleeps, retry delays) up to this long stay in the process; longer ones suspend
   * the run and free its slot.
   * @default "2s"
   */
  suspendAfter?: Duration;
  /**
   * How long `stop()` lets in-flight steps finish before it aborts them and hands their runs back.
   * @default "30s"
   */
  shutdownGrace?: Duration;
  /**
   * Apply the store's migrations at start.
   * @default true
   */
  migrate?: boolean;
  /**
   * Stop gracefully on the first SIGTERM/SIGINT and at once on the second.
   * @default false
   */
  handleSignals?: boolean;
  /** Where the worker reports (and where `ctx.log` lines are shown). @default the console */
  logger?: WorkerLogger;
  /** @default `${hostname}:${pid}:${ulid}` */
  workerId?: string;
  /**
   * Concurrent commit statements; requests made meanwhile are grouped into the next one.
   * @default 4
   */
  maxInflightCommits?: number;
  /**
   * Run a scheduler: write the schedules the workflows declare at start, and fire the slots
   * of the schedules of these workflows (any number of workers may; each slot is one run).
   * @default true
   */
  scheduler?: boolean;
  /**
   * How often the scheduler looks for due slots.
   * @default "1s"
   */
  schedulerInterval?: Duration;
}

/** {@link WorkerOptions} with defaults applied and durations in milliseconds. */
export interface ResolvedWorkerOptions {
  readonly workflows: ReadonlyMap<string, Workflow<any, any>>;
  readonly queues: readonly string[];
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  readonly pollMs: number;
  readonly suspendAfterMs: number;
  readonly shutdownGraceMs: number;
  readonly migrate: boolean;
  readonly handleSignals: boolean;
  readonly logger: WorkerLogger;
  readonly workerId: string;
  readonly maxInflightCommits: number;
  readonly scheduler: boolean;
  readonly schedulerIntervalMs: number;
}

export function resolveWorkerOptions(options: WorkerOptions): ResolvedWorkerOptions {
  if (!options || (!options.connectionString && !options.store)) {
    throw new WorkerConfigError("new Worker() needs a connectionString or a store");
  }
  if (!Array.isArray(options.workflows) || options.workflows.length === 0) {
    throw new WorkerConfigError("new Worker() needs at least one workflow");
  }
  const workflows = new Map<string, Workflow<any, any>>();
  for (const wf of options.workflows) {
    if (!wf || typeof wf.name !== "string" || typeof wf.fn !== "function") {
      throw new WorkerConfigError(`workflows must be created with workflow(), got ${String(wf)}`);
    }
    if (workflows.has(wf.name) && workflows.get(wf.name) !== wf) {
      throw new WorkerConfigError(`two workflows are named "${wf.name}": workflow names must be unique in a worker`);
    }
    workflows.set(wf.name, wf);
  }
  const queues = options.queues ?? [...new Set([...workflows.values()].map((wf) => wf.queue))];
  if (queues.length === 0) throw new WorkerConfigError("the worker has no queue to take runs from");
  const concurrency = options.concurrency ?? 10;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new WorkerConfigError(`concurrency must be an integer >= 1, got ${String(concurrency)}`);
  const leaseMs = toMillis(options.leaseDuration ?? "30s");
  if (leaseMs < 100) throw new WorkerConfigError(`leaseDuration must be at least 100ms, got ${leaseMs}ms`);
  const heartbeatMs = options.heartbeatInterval === undefined ? Math.floor(leaseMs / 3) : toMillis(options.heartbeatInterval);
  if (heartbeatMs >= leaseMs) throw new WorkerConfigError("heartbeatInterval must be shorter than leaseDuration");
  const maxInflightCommits = options.maxInflightCommits ?? 4;
  return Object.freeze({
    workflows,
    queues,
    concurrency,
    leaseMs,
    heartbeatMs,
    pollMs: toMillis(options.pollInterval ?? "1s"),
    suspendAfterMs: toMillis(options.suspendAfter ?? "2s"),
    shutdownGraceMs: toMillis(options.shutdownGrace ?? "30s"),
    migrate: options.migrate ?? true,
    handleSignals: options.handleSignals ?? false,
    logger: options.logger ?? consoleLogger(),
    workerId: options.workerId ?? `${hostname()}:${process.pid}:${ulid()}`,
    maxInflightCommits,
    scheduler: options.scheduler ?? true,
    schedulerIntervalMs: toMillis(options.schedulerInterval ?? "1s"),
  });
}
