import type { Alert, AlertNotification } from "@reprise/sdk";

/** What a channel is told besides the alert itself. */
export interface AlertDelivery {
  /** Why: the alert opened, escalated (unacknowledged after `escalateAfter`), or was resolved. */
  notification: AlertNotification;
  /**
   * The same on every attempt of this delivery, by any worker (also after a crash between
   * sending and recording it): pass it on so that the receiver can drop a repeat.
   */
  idempotencyKey: string;
  /** The channel's name in `alerts.channels`. */
  channel: string;
  /** 1 for the first try. */
  attempt: number;
  /** Aborted when the delivery's time (`deliveryTimeout`) is up. */
  signal: AbortSignal;
}

/**
 * Where alerts go: `webhook()`, `email()`, `consoleChannel()`, or any function. A channel
 * fails by throwing (or rejecting); the delivery is then retried with backoff, and an error
 * with `retryable: false` gives up at once. Never blocks runs or other channels.
 *
 * ```ts
 * const audit: AlertChannel = async (alert, { idempotencyKey }) => {
 *   await db.insert("alert_log", { key: idempotencyKey, alert }).onConflictDoNothing();
 * };
 * ```
 */
export type AlertChannel = (alert: Alert, delivery: AlertDelivery) => unknown;
