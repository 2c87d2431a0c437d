import { toMillis, type Duration, type AnyWorkflow } from "@reprise/sdk";
import { cancelledError, newId } from "@reprise/sdk/engine";
import type { Store } from "@reprise/store";
import { silentLogger, type WorkerLogger } from "../logger.js";
import { syncDeclaredSchedules } from "./declared-schedules.js";
import { planTick } from "./plan-tick.js";

/** Options of {@link Scheduler}. */
export interface SchedulerOptions {
  store: Store;
  /** The workflows whose schedules this scheduler fires (and whose declared schedules it writes). */
  workflows: readonly AnyWorkflow[];
  /**
   * How often to look for due slots.
   * @default "1s"
   */
  interval?: Duration;
  /**
   * Schedules claimed per tick statement; a full batch is followed by another tick at once.
   * @default 1000
   */
  batchSize?: number;
  /**
   * How long a tick's claim holds: a scheduler that dies mid-tick leaves its schedules to
   * the others after this.
   * @default "30s"
   */
  leaseDuration?: Duration;
  /** @default `scheduler:${ulid}` */
  id?: string;
  /** @default silent */
  logger?: WorkerLogger;
}

/** What one tick did. */
export interface TickReport {
  /** The tick's time (the database's, unless `now` was given); undefined when nothing was claimed. */
  at: Date | undefined;
  /** Schedules claimed. */
  claimed: number;
  /** Run ids created. */
  started: string[];
  /** Slots whose run existed already (another scheduler, a backfill, a crashed tick). */
  existed: number;
  skipped: number;
  buffered: number;
  invalid: number;
  /** Runs cancelled by overlap `"cancel-other"`. */
  cancelled: string[];
  /** The batch was full: more schedules may be due. */
  full: boolean;
}

/**
 * Fires schedules: each tick claims the schedules that are due (or new, or have a buffered
 * slot that may start), computes their slots in memory, creates all their runs with one
 * statement and moves all their cursors with another. Any number of schedulers may run on
 * one database: a slot's run id is derived from the schedule and the slot, so however ticks
 * race, crash or repeat, a slot is one run.
 *
 * Every `Worker` runs one (unless `scheduler: false`). Tests and tools can drive ticks
 * themselves with a chosen time:
 *
 * ```ts
 * const scheduler = new Scheduler({ store, workflows: [nightly] });
 * await scheduler.tick({ now: new Date("2026-03-08T07:00:00Z") });
 * ```
 */
export class Scheduler {
  readonly id: string;
  private readonly store: Store;
  private readonly workflows: ReadonlyMap<string, AnyWorkflow>;
  private readonly intervalMs: number;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly logger: WorkerLogger;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;

  constructor(options: SchedulerOptions) {
    this.store = options.store;
    this.workflows = new Map(options.workflows.map((wf) => [wf.name, wf]));
    this.intervalMs = toMillis(options.interval ?? "1s");
    this.batchSize = options.batchSize ?? 1000;
    this.leaseMs = toMillis(options.leaseDuration ?? "30s");
    this.id = options.id ?? `scheduler:${newId()}`;
    this.logger = options.logger ?? silentLogger;
  }

  /** Writes the schedules the workflows declare (`workflow({ schedule })`); the code wins. */
  syncDeclared(): Promise<void> {
    return syncDeclaredSchedules(this.store, [...this.workflows.values()], this.logger);
  }

  /** Ticks every `interval` until `stop()`. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Stops ticking; resolves once a tick in progress has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.loop;
  }

  /**
   * One tick at `now` (default: the database's clock): three statements (claim, create runs,
   * advance) whatever the number of schedules up to `batchSize`, plus one cancel per
   * `"cancel-other"` run it replaces.
   */
  async tick(options: { now?: Date } = {}): Promise<TickReport> {
    const { schedules, tickAt } = await this.store.schedules.claim({
      now: options.now,
      workflows: [...this.workflows.keys()],
      limit: this.batchSize,
      owner: this.id,
      leaseMs: this.leaseMs,
    });
    const report: TickReport = { at: tickAt, claimed: schedules.length, started: [], existed: 0, skipped: 0, buffered: 0, invalid: 0, cancelled: [], full: false };
    if (schedules.length === 0) return report;
    report.full = schedules.length >= this.batchSize;
    const plan = planTick(schedules, tickAt!, this.workflows);
    const created = await this.store.startRuns(plan.runs);
    await this.store.schedules.advance(this.id, plan.advances, plan.slots);
    report.started = plan.runs.filter((r) => created.has(r.id)).map((r) => r.id);
    report.existed = plan.runs.length - report.started.length;
    for (const slot of plan.slots) {
      if (slot.outcome === "skipped") report.skipped++;
      else if (slot.outcome === "buffered") report.buffered++;
      else if (slot.outcome === "invalid") {
        report.invalid++;
        this.logger.error(`schedule "${slot.scheduleId}": slot ${slot.slotAt.toISOString()} not started: ${slot.reason}`);
      }
    }
    for (const { scheduleId, error } of plan.errors) {
      this.logger.error(`schedule "${scheduleId}" cannot be planned, retrying in a minute: ${error.message}`);
    }
    for (const [id, first] of plan.missed) {
      this.logger.info(`schedule "${id}": skipped slots from ${first.toISOString()} that came due while no scheduler ran (catch-up policy)`);
    }
    for (const c of plan.cancels) {
      const reason = `schedule "${c.scheduleId}" started the slot of ${c.slotAt.toISOString()} (overlap: cancel-other)`;
      const error = JSON.stringify(cancelledError(c.runId, reason));
      try {
        const result = await this.store.cancelRun({ runId: c.runId, reason, error });
        if (result.outcome === "cancelled" || result.outcome === "requested") report.cancelled.push(c.runId);
      } catch (thrown) {
        this.logger.warn(`schedule "${c.scheduleId}": could not cancel run ${c.runId}: ${(thrown as Error).message}`);
      }
    }
    return report;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      let again = false;
      try {
        again = (await this.tick()).full;
        failures = 0;
      } catch (error) {
        failures++;
        this.logger.warn(`scheduler tick failed: ${(error as Error).message}`);
      }
      if (this.stopped) break;
      if (again) continue;
      const wait = failures ? Math.min(this.intervalMs * 10, 100 * 2 ** failures) : this.intervalMs * (0.9 + Math.random() * 0.2);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = undefined;
    }
  }
}
