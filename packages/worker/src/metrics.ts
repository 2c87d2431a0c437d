import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { QueueDepth, Store } from "@reprise/store";
import type { WorkerLogger } from "./logger.js";

/** What one workflow's runs count, with their label values bound once (see {@link WorkerMetrics.of}). */
export interface WorkflowMetrics {
  runStarted(): void;
  runEnded(status: "completed" | "failed" | "cancelled", seconds: number | undefined): void;
  stepAttempt(outcome: "succeeded" | "failed" | "abandoned", seconds: number, retrying: boolean): void;
  /** A step succeeded after failed attempts: from its first failure to now. */
  recovered(seconds: number): void;
  leaseLost(): void;
}

const STEP_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];
const RUN_BUCKETS = [0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 86_400];
const RECOVERY_BUCKETS = [0.1, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 86_400];

/** The queue gauges' numbers are read once per scrape (both gauges share one query). */
const QUEUE_SAMPLE_REUSE_MS = 500;

/**
 * A worker's Prometheus metrics, in a registry of its own (two workers in one process do
 * not clash). Everything a run does is counted in memory as it happens — the hot path pays
 * no round trip, and label children are bound once per workflow so that a step costs a few
 * increments. The queue gauges are computed when scraped (a collect callback): one
 * query per scrape, of the whole cluster's backlog, and none at all when nobody scrapes,
 * where a periodic query would load the database for nothing between scrapes.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly runsStarted: Counter<"workflow">;
  private readonly runsEnded: Counter<"workflow" | "status">;
  private readonly stepAttempts: Counter<"workflow" | "outcome">;
  private readonly stepRetries: Counter<"workflow">;
  private readonly stepDuration: Histogram<"workflow" | "outcome">;
  private readonly runDuration: Histogram<"workflow" | "status">;
  private readonly timeToRecovery: Histogram<"workflow">;
  private readonly leasesLost: Counter<"workflow">;
  private readonly alertsSent: Counter<"workflow" | "channel" | "outcome">;
  private readonly bound = new Map<string, WorkflowMetrics>();
  private sample: { at: number; depths: Promise<Map<string, QueueDepth>> } | undefined;

  constructor(private readonly deps: { store: Store; queues: readonly string[]; logger: WorkerLogger }) {
    const registers = [this.registry];
    this.runsStarted = new Counter({ name: "reprise_runs_started_total", help: "Runs this worker started for the first time.", labelNames: ["workflow"], registers });
    this.runsEnded = new Counter({
      name: "reprise_runs_ended_total",
      help: "Runs that ended on this worker, by status (completed, failed, cancelled).",
      labelNames: ["workflow", "status"],
      registers,
    });
    this.stepAttempts = new Counter({
      name: "reprise_step_attempts_total",
      help: "Step attempts run by this worker, by outcome (succeeded, failed, abandoned: the run stopped under it).",
      labelNames: ["workflow", "outcome"],
      registers,
    });
    this.stepRetries = new Counter({ name: "reprise_step_retries_total", help: "Failed step attempts that will be tried again.", labelNames: ["workflow"], registers });
    this.stepDuration = new Histogram({
      name: "reprise_step_duration_seconds",
      help: "How long step attempts ran, by outcome.",
      labelNames: ["workflow", "outcome"],
      buckets: STEP_BUCKETS,
      registers,
    });
    this.runDuration = new Histogram({
      name: "reprise_run_duration_seconds",
      help: "From a run's first start to its end, for the runs that ended on this worker.",
      labelNames: ["workflow", "status"],
      buckets: RUN_BUCKETS,
      registers,
    });
    this.timeToRecovery = new Histogram({
      name: "reprise_time_to_recovery_seconds",
      help: "From a step's first failed attempt to the attempt that succeeded (cluster-wide run-level recovery: reprise stats).",
      labelNames: ["workflow"],
      buckets: RECOVERY_BUCKETS,
      registers,
    });
    this.leasesLost = new Counter({
      name: "reprise_leases_lost_total",
      help: "Runs this worker had to stop because it no longer held their lease.",
      labelNames: ["workflow"],
      registers,
    });
    this.alertsSent = new Counter({
      name: "reprise_alerts_sent_total",
      help: "Alert deliveries by channel and outcome.",
      labelNames: ["workflow", "channel", "outcome"],
      registers,
    });
    const depth = (queue: string) => this.depths().then((d) => d.get(queue));
    const queues = deps.queues;
    new Gauge({
      name: "reprise_queue_ready",
      help: "Runs of the queue that are due and claimable now (all workers' view: the database's).",
      labelNames: ["queue"],
      registers,
      async collect() {
        for (const queue of queues) {
          const d = await depth(queue);
          if (d) this.set({ queue }, d.ready);
        }
      },
    });
    new Gauge({
      name: "reprise_queue_lag_seconds",
      help: "How long the oldest claimable run of the queue has been due (0 when none is waiting).",
      labelNames: ["queue"],
      registers,
      async collect() {
        for (const queue of queues) {
          const d = await depth(queue);
          if (d) this.set({ queue }, d.lagSeconds);
        }
      },
    });
  }

  /** The metrics of one workflow's runs (label children bound once, reused by every run). */
  of(workflow: string): WorkflowMetrics {
    let found = this.bound.get(workflow);
    if (found) return found;
    const started = this.runsStarted.labels({ workflow });
    const ended = { completed: this.runsEnded.labels({ workflow, status: "completed" }), failed: this.runsEnded.labels({ workflow, status: "failed" }), cancelled: this.runsEnded.labels({ workflow, status: "cancelled" }) };
    const runTime = { completed: this.runDuration.labels({ workflow, status: "completed" }), failed: this.runDuration.labels({ workflow, status: "failed" }), cancelled: this.runDuration.labels({ workflow, status: "cancelled" }) };
    const attempts = { succeeded: this.stepAttempts.labels({ workflow, outcome: "succeeded" }), failed: this.stepAttempts.labels({ workflow, outcome: "failed" }), abandoned: this.stepAttempts.labels({ workflow, outcome: "abandoned" }) };
    const stepTime = { succeeded: this.stepDuration.labels({ workflow, outcome: "succeeded" }), failed: this.stepDuration.labels({ workflow, outcome: "failed" }), abandoned: this.stepDuration.labels({ workflow, outcome: "abandoned" }) };
    const retries = this.stepRetries.labels({ workflow });
    const recovery = this.timeToRecovery.labels({ workflow });
    const lost = this.leasesLost.labels({ workflow });
    // Every series a workflow can have starts at 0, so that rate() and alerts on the first
    // failure see it move from 0 rather than appear.
    for (const counter of [started, retries, lost, ...Object.values(ended), ...Object.values(attempts)]) counter.inc(0);
    for (const status of ["completed", "failed", "cancelled"] as const) this.runDuration.zero({ workflow, status });
    for (const outcome of ["succeeded", "failed", "abandoned"] as const) this.stepDuration.zero({ workflow, outcome });
    this.timeToRecovery.zero({ workflow });
    found = {
      runStarted: () => started.inc(),
      runEnded(status, seconds) {
        ended[status].inc();
        if (seconds !== undefined && seconds >= 0) runTime[status].observe(seconds);
      },
      stepAttempt(outcome, seconds, retrying) {
        attempts[outcome].inc();
        stepTime[outcome].observe(seconds);
        if (retrying) retries.inc();
      },
      recovered: (seconds) => recovery.observe(Math.max(0, seconds)),
      leaseLost: () => lost.inc(),
    };
    this.bound.set(workflow, found);
    return found;
  }

  /** Counts one alert delivery (the alerts' outbox reports each attempt). */
  alertSent(labels: { workflow: string; channel: string; outcome: string }): void {
    this.alertsSent.inc(labels);
  }

  /** One query per scrape for both queue gauges; a failed one keeps the last values shown. */
  private depths(): Promise<Map<string, QueueDepth>> {
    const now = Date.now();
    if (this.sample && now - this.sample.at < QUEUE_SAMPLE_REUSE_MS) return this.sample.depths;
    const depths = this.deps.store.queueDepths(this.deps.queues).then(
      (rows) => new Map(rows.map((r) => [r.queue, r])),
      (error: unknown) => {
        this.deps.logger.warn(`metrics: could not read the queues' backlog: ${(error as Error).message}`);
        return new Map<string, QueueDepth>();
      },
    );
    this.sample = { at: now, depths };
    return depths;
  }
}
