import { hostname } from "node:os";
import { queue as defineQueue, toMillis, ValidationError, type Duration, type QueueDefinition, type AnyWorkflow, type PayloadOptions } from "@reprise/sdk";
import { newId, resolvePayloadLimits, type PayloadLimits } from "@reprise/sdk/engine";
import type { Store } from "@reprise/store";
import { resolveAlertsOptions, type AlertsOptions, type ResolvedAlerts } from "./alerts/alerts-options.js";
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
  workflows: readonly AnyWorkflow[];
  /**
   * Queues to take runs from: names, or `queue()` definitions with limits (global
   * concurrency, per-worker concurrency, rate limit).
   * @default every queue of the given workflows
   */
  queues?: readonly (string | QueueDefinition)[];
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
   * How long a workflow's onFailure hook may run before it is given up (and logged).
   * @default "1m"
   */
  hookTimeout?: Duration;
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
  /**
   * This deployment's version (a build id, a date, a git sha). A run records the version of
   * the worker that first runs it; a `versioning: "pinned"` workflow's runs are continued
   * only by workers of their version. New runs go to the newest version with a live worker;
   * workers of older versions drain: they only continue their version's pinned runs.
   * @default process.env.REPRISE_VERSION, else none (the worker takes any unpinned run)
   */
  version?: string;
  /**
   * Large values: a step result, output or child input over `inlineLimit` is stored out of
   * line (read back when a replay reaches it), one over `maxSize` fails its step with
   * `SerializationError`.
   * @default { inlineLimit: 262144, maxSize: 67108864 }
   */
  payloads?: PayloadOptions;
  /**
   * Alert rules and the channels they notify. Any number of workers may have them: each
   * failure is evaluated once, by one of them, and each notification delivered once per
   * channel. Workers without `alerts` neither evaluate nor deliver.
   * @default none
   */
  alerts?: AlertsOptions;
  /**
   * How often the worker writes what its running steps are doing: their `ctx.log` lines so
   * far and which step attempts are in flight (`runs show`, `RunInfo.currentStep`). One
   * statement for all its runs, never part of a step's own commit; a crashed attempt's
   * lines are in the database up to this long before it died.
   * @default "1s"
   */
  progressInterval?: Duration;
  /**
   * Prometheus metrics (prom-client), counted in the process: `worker.metricsRegistry`
   * has them; with `port`, the worker also serves them at `/metrics`. `false` counts nothing.
   * @default {} (counted, not served)
   */
  metrics?: MetricsOptions | false;
  /**
   * Emit OpenTelemetry spans (`reprise.run`, `reprise.step`) through `@opentelemetry/api`,
   * when the application has it installed and registered a tracer provider.
   * @default true
   */
  tracing?: boolean;
}

/** Options of a worker's Prometheus metrics. */
export interface MetricsOptions {
  /** Serve `/metrics` over HTTP on this port (0: any free port, see `worker.metricsUrl`). @default no server */
  port?: number;
  /**
   * The address to listen on. Anything but loopback exposes the metrics to the network.
   * @default "127.0.0.1"
   */
  host?: string;
}

/** {@link WorkerOptions} with defaults applied and durations in milliseconds. */
export interface ResolvedWorkerOptions {
  readonly workflows: ReadonlyMap<string, AnyWorkflow>;
  readonly queues: readonly string[];
  /** Limits of the queues that have them. */
  readonly queueLimits: ReadonlyMap<string, QueueDefinition>;
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
  readonly hookTimeoutMs: number;
  readonly scheduler: boolean;
  readonly schedulerIntervalMs: number;
  readonly version: string | undefined;
  readonly payloads: PayloadLimits;
  readonly alerts: ResolvedAlerts | undefined;
  readonly progressIntervalMs: number;
  /** `undefined`: nothing is counted. */
  readonly metrics: { readonly port: number | undefined; readonly host: string } | undefined;
  readonly tracing: boolean;
}

const VERSION = /^[A-Za-z0-9][A-Za-z0-9_.:\-+/@]{0,99}$/;

export function resolveWorkerOptions(options: WorkerOptions): ResolvedWorkerOptions {
  if (!options || (!options.connectionString && !options.store)) {
    throw new WorkerConfigError("new Worker() needs a connectionString or a store");
  }
  if (!Array.isArray(options.workflows) || options.workflows.length === 0) {
    throw new WorkerConfigError("new Worker() needs at least one workflow");
  }
  const workflows = new Map<string, AnyWorkflow>();
  for (const wf of options.workflows) {
    if (!wf || typeof wf.name !== "string" || typeof wf.fn !== "function") {
      throw new WorkerConfigError(`workflows must be created with workflow(), got ${String(wf)}`);
    }
    if (workflows.has(wf.name) && workflows.get(wf.name) !== wf) {
      throw new WorkerConfigError(`two workflows are named "${wf.name}": workflow names must be unique in a worker`);
    }
    workflows.set(wf.name, wf);
  }
  const queueLimits = new Map<string, QueueDefinition>();
  const addLimits = (definition: QueueDefinition) => {
    const known = queueLimits.get(definition.name);
    if (known && JSON.stringify(known) !== JSON.stringify(definition)) {
      throw new WorkerConfigError(`queue "${definition.name}" is defined twice with different limits`);
    }
    queueLimits.set(definition.name, definition);
  };
  for (const wf of workflows.values()) if (wf.queueDefinition) addLimits(wf.queueDefinition);
  const given = options.queues?.map((q) => {
    if (typeof q === "string") return q;
    addLimits(defineQueue(q.name, { concurrency: q.concurrency, workerConcurrency: q.workerConcurrency, ...(q.rateLimit ? { rateLimit: { limit: q.rateLimit.limit, period: q.rateLimit.periodMs } } : {}) }));
    return q.name;
  });
  const queues = [...new Set(given ?? [...workflows.values()].map((wf) => wf.queue))];
  if (queues.length === 0) throw new WorkerConfigError("the worker has no queue to take runs from");
  const concurrency = options.concurrency ?? 10;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new WorkerConfigError(`concurrency must be an integer >= 1, got ${String(concurrency)}`);
  const leaseMs = toMillis(options.leaseDuration ?? "30s");
  if (leaseMs < 100) throw new WorkerConfigError(`leaseDuration must be at least 100ms, got ${leaseMs}ms`);
  const heartbeatMs = options.heartbeatInterval === undefined ? Math.floor(leaseMs / 3) : toMillis(options.heartbeatInterval);
  if (heartbeatMs >= leaseMs) throw new WorkerConfigError("heartbeatInterval must be shorter than leaseDuration");
  const maxInflightCommits = options.maxInflightCommits ?? 4;
  const version = options.version ?? (process.env.REPRISE_VERSION || undefined);
  if (version !== undefined && (typeof version !== "string" || !VERSION.test(version))) {
    throw new WorkerConfigError(`version ${JSON.stringify(version)} is invalid: use 1-100 letters, digits and _ . : - + / @, starting with a letter or digit`);
  }
  let payloads: PayloadLimits;
  try {
    payloads = resolvePayloadLimits(options.payloads, "new Worker()");
  } catch (error) {
    if (error instanceof ValidationError) throw new WorkerConfigError(error.message);
    throw error;
  }
  const progressIntervalMs = toMillis(options.progressInterval ?? "1s");
  if (progressIntervalMs < 10) throw new WorkerConfigError(`progressInterval must be at least 10ms, got ${progressIntervalMs}ms`);
  const metrics = options.metrics === false ? undefined : resolveMetricsOptions(options.metrics ?? {});
  return Object.freeze({
    workflows,
    queues,
    queueLimits,
    concurrency,
    leaseMs,
    heartbeatMs,
    pollMs: toMillis(options.pollInterval ?? "1s"),
    suspendAfterMs: toMillis(options.suspendAfter ?? "2s"),
    shutdownGraceMs: toMillis(options.shutdownGrace ?? "30s"),
    migrate: options.migrate ?? true,
    handleSignals: options.handleSignals ?? false,
    logger: options.logger ?? consoleLogger(),
    workerId: options.workerId ?? `${hostname()}:${process.pid}:${newId()}`,
    maxInflightCommits,
    hookTimeoutMs: toMillis(options.hookTimeout ?? "1m"),
    scheduler: options.scheduler ?? true,
    schedulerIntervalMs: toMillis(options.schedulerInterval ?? "1s"),
    version,
    payloads,
    alerts: options.alerts === undefined ? undefined : resolveAlertsOptions(options.alerts),
    progressIntervalMs,
    metrics,
    tracing: options.tracing ?? true,
  });
}

function resolveMetricsOptions(options: MetricsOptions): { port: number | undefined; host: string } {
  const { port, host = "127.0.0.1" } = options;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
    throw new WorkerConfigError(`metrics.port must be a port number (0-65535), got ${String(port)}`);
  }
  if (typeof host !== "string" || host.length === 0) throw new WorkerConfigError(`metrics.host must be a host name or address, got ${String(host)}`);
  return Object.freeze({ port, host });
}
