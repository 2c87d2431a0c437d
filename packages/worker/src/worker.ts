import { hasSharedLimit } from "@reprise/sdk/engine";
import { Registry } from "prom-client";
import { createStore, isConnectionError, type ClaimedRun, type Listener, type LoadedHistory, type SharedLimits, type Store } from "@reprise/store";
import { AlertMonitor } from "./alerts/alert-monitor.js";
import { ClaimLoop } from "./claim-loop.js";
import { DatabaseClock } from "./clock.js";
import { Committer } from "./committer.js";
import { LeaseLostError } from "./errors.js";
import { Heartbeat } from "./heartbeat.js";
import { LiveProgress } from "./live-progress.js";
import { WorkerMetrics } from "./metrics.js";
import { serveMetrics, type MetricsServer } from "./metrics-server.js";
import { resolveWorkerOptions, type ResolvedWorkerOptions, type WorkerOptions } from "./options.js";
import { RunTask } from "./run-task.js";
import type { WorkerRuntime } from "./runtime.js";
import { Scheduler } from "./scheduler/scheduler.js";
import { declareWorkflows } from "./fleet/declared-workflows.js";
import { Presence } from "./fleet/presence.js";
import { onShutdownSignals } from "./shutdown.js";
import { WorkerTracing } from "./tracing.js";

/**
 * The process that claims runs from Postgres and executes them. Many workers (processes,
 * machines) share one database; a run is executed by one worker at a time, and a worker
 * that dies loses its leases to the others, which continue its runs from their histories.
 *
 * ```ts
 * const worker = new Worker({ connectionString: process.env.DATABASE_URL, workflows: [pingService] });
 * await worker.start();
 * process.on("SIGTERM", () => worker.stop());
 * ```
 */
export class Worker {
  /** This worker's identity in leases (`lease_owner`). */
  readonly id: string;
  private readonly options: ResolvedWorkerOptions;
  private readonly store: Store;
  private readonly ownsStore: boolean;
  private readonly runtime: WorkerRuntime;
  private readonly tasks = new Map<string, RunTask>();
  private readonly claimLoop: ClaimLoop;
  private readonly heartbeat: Heartbeat;
  private readonly scheduler: Scheduler | undefined;
  private readonly alertMonitor: AlertMonitor | undefined;
  private readonly metrics: WorkerMetrics | undefined;
  private emptyRegistry: Registry | undefined;
  private metricsServer: MetricsServer | undefined;
  private readonly progress: LiveProgress;
  private listener: Listener | undefined;
  private state: "new" | "starting" | "running" | "stopping" | "stopped" = "new";
  private stopped: Promise<void> | undefined;
  private removeSignalHandlers: (() => void) | undefined;
  private idleWaiters: (() => void)[] = [];
  private starting: Promise<void> | undefined;
  private readonly perQueue = new Map<string, number>();
  private readonly workflowNames: string[];
  /** Those run `versioning: "pinned"`. */
  private readonly pinnedNames: string[];
  private readonly presence: Presence;
  private queueCursor = 0;
  private markClosed!: () => void;
  /** Resolves once the worker has stopped (by `stop()` or a shutdown signal). */
  readonly closed: Promise<void> = new Promise((resolve) => (this.markClosed = resolve));

  constructor(options: WorkerOptions) {
    this.options = resolveWorkerOptions(options);
    this.id = this.options.workerId;
    this.workflowNames = [...this.options.workflows.keys()];
    this.pinnedNames = [...this.options.workflows.values()].filter((wf) => wf.versioning === "pinned").map((wf) => wf.name);
    this.ownsStore = !options.store;
    this.store =
      options.store ??
      createStore({ connectionString: options.connectionString!, ...(options.schema ? { schema: options.schema } : {}), poolSize: 10 });
    const logger = this.options.logger;
    this.metrics = this.options.metrics ? new WorkerMetrics({ store: this.store, queues: this.options.queues, logger }) : undefined;
    this.runtime = {
      store: this.store,
      committer: new Committer(this.store, this.id, {
        maxInflight: this.options.maxInflightCommits,
        retryForMs: this.options.leaseMs,
        onError: (error) => logger.warn(`commit failed, retrying: ${(error as Error).message}`),
      }),
      clock: new DatabaseClock(),
      logger,
      workerId: this.id,
      leaseMs: this.options.leaseMs,
      options: this.options,
      metrics: this.metrics,
      tracing: WorkerTracing.create(this.options.tracing),
    };
    this.progress = new LiveProgress(this.runtime, this.tasks, this.options.progressIntervalMs);
    this.claimLoop = new ClaimLoop({
      capacity: () => (this.state === "running" ? this.options.concurrency - this.tasks.size : 0),
      claim: (limit) => this.claim(limit),
      pollMs: this.options.pollMs,
      onError: (error) => logger.warn(`claim failed: ${(error as Error).message}`),
    });
    this.heartbeat = new Heartbeat(this.runtime, this.tasks, this.options.heartbeatMs);
    this.presence = new Presence(
      this.store,
      { id: this.id, version: this.options.version, workflows: this.workflowNames, queues: this.options.queues, leaseMs: this.options.leaseMs },
      this.options.heartbeatMs,
      logger,
      (draining) => {
        // Back to the newest version (the newer one's workers are gone): this code's
        // declarations are the registry's again.
        if (!draining) void this.declare().catch((error: unknown) => logger.warn(`could not declare workflows: ${(error as Error).message}`));
        this.claimLoop.notify();
      },
    );
    if (this.options.scheduler) {
      this.scheduler = new Scheduler({
        store: this.store,
        workflows: [...this.options.workflows.values()],
        interval: this.options.schedulerIntervalMs,
        leaseDuration: this.options.leaseMs,
        id: this.id,
        logger,
      });
    }
    if (this.options.alerts) {
      const metrics = this.metrics;
      this.alertMonitor = new AlertMonitor(this.store, this.options.alerts, this.id, logger, metrics ? (labels) => metrics.alertSent(labels) : undefined);
    }
  }

  /** Runs in flight in this process. */
  get inFlight(): number {
    return this.tasks.size;
  }

  /** This worker's deployment version (`version`, else `REPRISE_VERSION`), if any. */
  get version(): string | undefined {
    return this.options.version;
  }

  /**
   * True while a newer version than this worker's has a live worker: this one then only
   * continues the pinned runs of its own version (and can go once `reprise versions` shows
   * its version with no open run).
   */
  get draining(): boolean {
    return this.presence.draining;
  }

  /**
   * This worker's Prometheus metrics (prom-client), to serve from an application's own
   * endpoint; empty with `metrics: false`. Each worker has a registry of its own.
   *
   * ```ts
   * app.get("/metrics", async (_req, res) => res.type(worker.metricsRegistry.contentType).send(await worker.metricsRegistry.metrics()));
   * ```
   */
  get metricsRegistry(): Registry {
    return this.metrics?.registry ?? (this.emptyRegistry ??= new Registry());
  }

  /** Where `/metrics` is served (with `metrics: { port }`, once started), e.g. `http://127.0.0.1:9464/metrics`. */
  get metricsUrl(): string | undefined {
    return this.metricsServer?.url;
  }

  /** Migrates (unless `migrate: false`), starts listening and claiming. */
  start(): Promise<void> {
    if (this.state !== "new") throw new Error(`worker ${this.id} was already started`);
    this.state = "starting";
    this.starting = this.begin();
    return this.starting;
  }

  /**
   * A worker started while the database restarts (a deploy beside a failover, a chaos run)
   * waits for it, with backoff, for up to a lease duration (at least 10 s), instead of
   * failing its start: it has claimed nothing yet, so there is nothing to lose by waiting.
   */
  private async whileUnreachable<T>(fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + Math.max(10_000, this.options.leaseMs);
    for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
      try {
        return await fn();
      } catch (error) {
        if (!isConnectionError(error) || Date.now() + delay > deadline || this.state !== "starting") throw error;
        this.options.logger.warn(`the database is unreachable while starting, retrying in ${delay} ms: ${(error as Error).message}`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private async begin(): Promise<void> {
    if (this.options.migrate) await this.whileUnreachable(() => this.store.migrate());
    const serve = this.options.metrics;
    if (this.metrics && serve?.port !== undefined) this.metricsServer = await serveMetrics(this.metrics.registry, { port: serve.port, host: serve.host });
    try {
      await this.whileUnreachable(() => this.presence.join());
      if (!this.presence.draining) await this.whileUnreachable(() => this.declare());
      await this.whileUnreachable(async () => void (await this.scheduler?.syncDeclared()));
    } catch (error) {
      // A worker that does not start must not keep a port open (nor the process alive).
      await this.metricsServer?.close();
      this.metricsServer = undefined;
      throw error;
    }
    await this.sampleClock();
    // Before the first claim: failures of the first runs are captured for the rules.
    await this.alertMonitor?.start();
    // stop() was called while this was getting ready: it waits for this, then cleans up.
    if (this.state !== "starting") return;
    if (this.store.canListen) {
      this.listener = this.store.listen({
        onNotify: (payload) => this.onNotify(payload),
        onConnect: () => this.claimLoop.notify(),
        onError: (error) => this.options.logger.warn(`LISTEN connection lost, reconnecting: ${error.message}`),
      });
    }
    this.heartbeat.start();
    this.presence.start();
    this.progress.start();
    this.state = "running";
    this.claimLoop.start();
    this.scheduler?.start();
    if (this.options.handleSignals) {
      this.removeSignalHandlers = onShutdownSignals(
        () => void this.stop(),
        () => void this.stop({ force: true }),
      );
    }
    this.options.logger.info(`worker ${this.id} started`, {
      queues: this.options.queues,
      workflows: [...this.options.workflows.keys()],
      ...(this.options.version ? { version: this.options.version } : {}),
    });
  }

  /** Writes this worker's workflows and their triggers into the registry. */
  private declare(): Promise<void> {
    return declareWorkflows(this.store, [...this.options.workflows.values()], this.options.version, this.options.logger);
  }

  /**
   * Stops gracefully: no new claims; in-flight steps get `shutdownGrace` to finish and be
   * recorded, then every run is handed back so another worker continues it at once. With
   * `force`, in-flight steps are aborted right away.
   */
  stop(options: { force?: boolean } = {}): Promise<void> {
    if (options.force) for (const task of this.tasks.values()) task.forceStop();
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  private async shutdown(): Promise<void> {
    if (this.state === "new") {
      this.state = "stopped";
      if (this.ownsStore) await this.store.close();
      this.markClosed();
      return;
    }
    this.state = "stopping";
    await this.starting?.catch(() => undefined);
    await this.scheduler?.stop();
    await this.claimLoop.stop();
    for (const task of this.tasks.values()) task.handBack();
    const graceOver = new Promise<"grace">((resolve) => {
      const timer = setTimeout(() => resolve("grace"), this.options.shutdownGraceMs);
      timer.unref();
    });
    if ((await Promise.race([this.idle(), graceOver])) === "grace") {
      this.options.logger.warn(`shutdown grace of ${this.options.shutdownGraceMs}ms is over: aborting ${this.tasks.size} run(s)`);
      for (const task of this.tasks.values()) task.forceStop();
      await this.idle();
    }
    await this.progress.stop();
    await this.runtime.committer.idle();
    this.runtime.committer.close();
    // Last: the runs' final failures are recorded, and the alerts they raise may still go out.
    await this.alertMonitor?.stop();
    this.heartbeat.stop();
    await this.presence.leave();
    await this.metricsServer?.close();
    await this.listener?.close();
    this.removeSignalHandlers?.();
    if (this.ownsStore) await this.store.close();
    this.state = "stopped";
    this.options.logger.info(`worker ${this.id} stopped`);
    this.markClosed();
  }

  /**
   * Reads the database clock before the first claim, twice: the first read pays for a new
   * connection and is a poor sample; the second, on a warm one, is a good one. Claims and
   * heartbeats refine it later, so a database out of reach is no reason to fail here.
   */
  private async sampleClock(): Promise<void> {
    try {
      for (let i = 0; i < 2; i++) {
        const sentAt = Date.now();
        const dbNow = await this.store.now();
        this.runtime.clock.observe(dbNow, sentAt, Date.now());
      }
    } catch {
      // The claim loop reports an unreachable database.
    }
  }

  /** Resolves when no run is in flight. */
  private idle(): Promise<void> {
    if (this.tasks.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private onNotify(payload: string): void {
    if (payload.startsWith("q:")) {
      if (this.options.queues.includes(payload.slice(2))) this.claimLoop.notify();
    } else if (payload.startsWith("c:")) {
      // A cancel request for a run we hold: the heartbeat reads it (with all our leases).
      if (this.tasks.has(payload.slice(2))) this.heartbeat.beatSoon();
    }
  }

  /**
   * Claims up to `limit` runs, queue by queue (starting from a different queue each time so
   * that none starves), within each queue's per-worker and shared limits.
   */
  private async claim(limit: number): Promise<number> {
    const queues = this.options.queues;
    const start = this.queueCursor++ % queues.length;
    let total = 0;
    for (let i = 0; i < queues.length && total < limit; i++) {
      const queue = queues[(start + i) % queues.length]!;
      const limits = this.options.queueLimits.get(queue);
      const local = limits?.workerConcurrency === undefined ? Infinity : limits.workerConcurrency - (this.perQueue.get(queue) ?? 0);
      const want = Math.min(limit - total, local);
      if (want <= 0) continue;
      total += await this.claimFrom(queue, want, limits && hasSharedLimit(limits) ? limits : undefined);
    }
    return total;
  }

  private async claimFrom(queue: string, limit: number, limits: SharedLimits | undefined): Promise<number> {
    const sentAt = Date.now();
    const claimed = await this.store.claimRuns(
      {
        queue,
        workflows: this.workflowNames,
        limit,
        owner: this.id,
        leaseMs: this.options.leaseMs,
        version: this.options.version,
        pinned: this.pinnedNames,
        draining: this.presence.draining,
      },
      limits,
    );
    if (claimed.length === 0) return 0;
    this.runtime.clock.observe(claimed[0]!.dbNow, sentAt, Date.now());
    const resumed = claimed.filter((c) => c.resumed).map((c) => c.id);
    let histories = new Map<string, LoadedHistory>();
    try {
      if (resumed.length > 0) histories = await this.store.loadHistories(resumed);
    } catch (error) {
      // Without their histories these runs cannot go on here; their leases lapse and
      // another worker (or this one) takes them again.
      this.options.logger.warn(`could not load histories: ${(error as Error).message}`);
      const keep = claimed.filter((c) => !c.resumed);
      for (const c of keep) this.launch(c, undefined, sentAt);
      return claimed.length;
    }
    for (const c of claimed) this.launch(c, histories.get(c.id), sentAt);
    return claimed.length;
  }

  private launch(claimed: ClaimedRun, loaded: LoadedHistory | undefined, claimedAt: number): void {
    const workflow = this.options.workflows.get(claimed.workflow)!;
    // This worker may claim a run it is still executing: its own lease lapsed (a long GC
    // pause, the database out of reach) and it won the run back. The older execution holds
    // a stale epoch and must stop before the new one replays.
    const stale = this.tasks.get(claimed.id);
    if (stale) stale.leaseLost(new LeaseLostError(claimed.id, "this worker claimed it again with a newer lease"));
    const task = new RunTask(this.runtime, claimed, workflow, loaded, claimedAt);
    this.tasks.set(claimed.id, task);
    this.perQueue.set(claimed.queue, (this.perQueue.get(claimed.queue) ?? 0) + 1);
    if (this.state !== "running") task.handBack();
    void task.run().finally(() => {
      this.perQueue.set(claimed.queue, (this.perQueue.get(claimed.queue) ?? 1) - 1);
      if (this.tasks.get(claimed.id) === task) this.tasks.delete(claimed.id);
      if (this.tasks.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      this.claimLoop.slotFreed();
    });
  }
}

