import type { AlertNotification } from "@reprise/sdk";
import { retryDelayMs, toAlert, toError } from "@reprise/sdk/engine";
import type { ClaimedDelivery, DeliveryOutcome, Store } from "@reprise/store";
import type { WorkerLogger } from "../logger.js";
import type { ResolvedAlerts } from "./alerts-options.js";

/** Deliveries claimed per channel at a time. */
const PER_CHANNEL = 10;

/**
 * Sends the outbox's due deliveries to this worker's channels. Each channel is its own
 * lane: while a channel's batch is in flight that channel is not claimed again, and no
 * other channel waits for it, so one that hangs or keeps failing holds up nothing but
 * itself. A delivery is claimed with a lease of twice the delivery timeout: a worker that
 * dies mid-delivery leaves it due again soon after, for any worker, with the same key.
 */
export class AlertDispatcher {
  private readonly busy = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly channels: string[];

  constructor(
    private readonly store: Store,
    private readonly alerts: ResolvedAlerts,
    private readonly owner: string,
    private readonly logger: WorkerLogger,
    /** Counts each attempt (`reprise_alerts_sent_total{channel,outcome}`), when the worker counts. */
    private readonly onAttempt?: (labels: { workflow: string; channel: string; outcome: string }) => void,
  ) {
    this.channels = [...alerts.channels.keys()];
  }

  /** Claims due deliveries for the channels not busy, and starts sending them. */
  async tick(): Promise<number> {
    const idle = this.channels.filter((c) => !this.busy.has(c));
    if (idle.length === 0) return 0;
    const claimed = await this.store.alerts.claimDeliveries({
      owner: this.owner,
      channels: idle,
      perChannel: PER_CHANNEL,
      leaseMs: 2 * this.alerts.deliveryTimeoutMs,
    });
    const byChannel = new Map<string, ClaimedDelivery[]>();
    for (const d of claimed) byChannel.set(d.channel, [...(byChannel.get(d.channel) ?? []), d]);
    for (const [channel, batch] of byChannel) {
      this.busy.add(channel);
      const lane = Promise.all(batch.map((d) => this.send(d))).then(
        () => undefined,
        () => undefined,
      );
      this.inFlight.add(lane);
      void lane.finally(() => {
        this.busy.delete(channel);
        this.inFlight.delete(lane);
      });
    }
    return claimed.length;
  }

  /** Resolves when every delivery in flight has been sent (or has timed out) and recorded. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private async send(d: ClaimedDelivery): Promise<void> {
    const channel = this.alerts.channels.get(d.channel)!;
    const controller = new AbortController();
    const timeoutMs = this.alerts.deliveryTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new Error(`timed out after ${timeoutMs}ms`);
        controller.abort(error);
        reject(error);
      }, timeoutMs);
    });
    let outcome: DeliveryOutcome;
    try {
      const sent = Promise.resolve().then(() =>
        channel(toAlert(d.alert), {
          notification: d.notification as AlertNotification,
          idempotencyKey: d.idempotencyKey,
          channel: d.channel,
          attempt: d.attempts,
          signal: controller.signal,
        }),
      );
      sent.catch(() => undefined); // a channel failing after its timeout is nobody's business
      await Promise.race([sent, timedOut]);
      outcome = { outcome: "delivered" };
    } catch (thrown) {
      const error = toError(thrown);
      const message = `${error.name === "Error" ? "" : `${error.name}: `}${error.message}`.slice(0, 1000);
      const retryable = (error as { retryable?: unknown }).retryable !== false;
      if (!retryable || d.attempts >= this.alerts.deliveryRetry.maxAttempts) {
        outcome = { outcome: "failed", error: message };
        this.logger.error(`alert ${d.alert.id}: channel "${d.channel}" gave up after ${d.attempts} attempt(s): ${message}`, { alertId: d.alert.id, channel: d.channel });
      } else {
        outcome = { outcome: "retry", error: message, retryInMs: retryDelayMs(this.alerts.deliveryRetry, d.attempts, error) };
        this.logger.warn(`alert ${d.alert.id}: channel "${d.channel}" failed (attempt ${d.attempts}), retrying: ${message}`, { alertId: d.alert.id, channel: d.channel });
      }
    } finally {
      clearTimeout(timer);
    }
    this.onAttempt?.({ workflow: d.alert.workflow, channel: d.channel, outcome: outcome.outcome });
    try {
      await this.store.alerts.finishDelivery({ id: d.id, owner: this.owner, ...outcome });
    } catch (error) {
      // The claim lapses and the delivery is sent again, with the same idempotency key.
      this.logger.warn(`alert ${d.alert.id}: could not record the delivery to "${d.channel}": ${(error as Error).message}`);
    }
  }
}
