import type { Store } from "@reprise/store";
import type { WorkerLogger } from "../logger.js";
import type { ResolvedAlerts } from "./alerts-options.js";
import { AlertDispatcher } from "./dispatcher.js";
import { AlertEvaluator, ruleRegistrations, type EvaluationReport } from "./evaluator.js";

/** How often a monitor says it has its rules (their facts are captured while one was seen within a day). */
const REGISTER_MS = 60_000;

/**
 * The alerting of one worker: every `interval` it tries to take the locks of its rules and
 * evaluate the facts the log's triggers captured for them (for each rule one worker of the
 * database does at a time; the others find it held and skip it), then sends the due
 * deliveries of its channels. Nothing here touches the runs this worker executes.
 */
export class AlertMonitor {
  private readonly evaluator: AlertEvaluator;
  private readonly dispatcher: AlertDispatcher;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private lastRegistered = -Infinity;
  private readonly ruleIds: string[];

  constructor(
    private readonly store: Store,
    private readonly alerts: ResolvedAlerts,
    private readonly id: string,
    private readonly logger: WorkerLogger,
    onDeliveryAttempt?: (labels: { workflow: string; channel: string; outcome: string }) => void,
  ) {
    this.evaluator = new AlertEvaluator(store, alerts, logger);
    this.dispatcher = new AlertDispatcher(store, alerts, id, logger, onDeliveryAttempt);
    this.ruleIds = alerts.rules.map((r) => r.id);
  }

  /**
   * Registers the rules before the worker claims anything, so that failures of its own
   * first runs are captured, then starts the loop.
   */
  async start(): Promise<void> {
    await this.register().catch((error: unknown) => this.logger.warn(`alerts: could not register the rules: ${(error as Error).message}`));
    this.loop ??= this.run();
  }

  /** Stops the loop and waits for the deliveries in flight (each bounded by `deliveryTimeout`). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.loop;
    await this.dispatcher.idle();
  }

  /**
   * One evaluation now, if no other process is evaluating: what it did, or undefined when
   * the lock was held elsewhere.
   */
  async evaluate(): Promise<EvaluationReport | undefined> {
    const result = await this.store.alerts.evaluate(this.ruleIds, (tx, locks) => this.evaluator.evaluate(tx, locks));
    return result.ran ? result.value : undefined;
  }

  private async register(): Promise<void> {
    await this.store.alerts.register(ruleRegistrations(this.alerts.rules));
    this.lastRegistered = performance.now();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      let again = false;
      try {
        if (performance.now() - this.lastRegistered >= REGISTER_MS) await this.register();
        const report = await this.evaluate();
        again = report?.full ?? false;
        await this.dispatcher.tick();
        failures = 0;
      } catch (error) {
        failures++;
        this.logger.warn(`alerts: evaluation failed, retrying: ${(error as Error).message}`);
      }
      if (this.stopped) break;
      if (again) continue;
      const interval = this.alerts.intervalMs;
      const wait = failures ? Math.min(interval * 10, 100 * 2 ** failures) : interval * (0.9 + Math.random() * 0.2);
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
