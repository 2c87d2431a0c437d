import type { AlertRecord, DeliveryRecord } from "@reprise/store";

/** How urgent an alert is, lowest first. */
export type AlertSeverity = "info" | "warning" | "high" | "critical";

/** An alert's lifecycle: open until someone acknowledges it, resolved by hand or by `autoResolve`. */
export type AlertStatus = "open" | "acknowledged" | "resolved";

/** What an alert rule listens for. */
export type AlertEvent = "run.failed" | "step.failed" | "step.retrying" | "run.late" | "breaker.opened";

/** Why a channel is told about an alert: it opened, it escalated, or it was resolved. */
export type AlertNotification = "opened" | "escalated" | "resolved";

/**
 * An alert: what a channel receives, and what `client.alerts.list()` describes (with its
 * deliveries). Occurrences of the same rule and key inside the rule's `dedupWindow` are one
 * alert whose `count` grows; what it says about the failure is from its first occurrence.
 */
export interface Alert {
  id: string;
  /** The rule's id. */
  rule: string;
  severity: AlertSeverity;
  status: AlertStatus;
  /** What occurrences must share to be one alert (the rule's `dedupBy`). */
  key: string;
  workflowName: string;
  stepName?: string;
  runId: string;
  /** The failure's error class (the step's own error for a step failure; `RunLate`, `CircuitOpenError`). */
  errorName: string;
  message: string;
  /** The attempt that failed (a step's attempts when it gave up; 0 when the run never started). */
  attempt: number;
  /** The run's last log lines when the alert opened, oldest first. */
  lastLogLines: string[];
  runbookUrl?: string;
  /** `${dashboardUrl}/runs/${runId}` when the worker was given a `dashboardUrl`. */
  runUrl?: string;
  firstSeenAt: Date;
  lastSeenAt: Date;
  count: number;
  escalatedAt?: Date;
  acknowledgedBy?: string;
  resolvedAt?: Date;
}

/** One notification of an alert to one channel, from the delivery outbox. */
export interface AlertDeliveryInfo {
  channel: string;
  notification: AlertNotification;
  /**
   * `pending`: not tried yet; `failing`: tried and failed, retried with backoff;
   * `delivered`; `failed`: given up after the last retry.
   */
  status: "pending" | "failing" | "delivered" | "failed";
  attempts: number;
  /** Sent with every attempt (the `Idempotency-Key` header of a webhook), the same after a crash. */
  idempotencyKey: string;
  lastError?: string;
  nextAttemptAt?: Date;
  deliveredAt?: Date;
}

/** An alert as `client.alerts` describes it: the {@link Alert}, when it was acknowledged, and its deliveries. */
export interface AlertInfo extends Alert {
  acknowledgedAt?: Date;
  deliveries: AlertDeliveryInfo[];
}

/** Filters of `client.alerts.list`. */
export interface ListAlertsOptions {
  status?: AlertStatus;
  /** @default 100 */
  limit?: number;
}

/** The alert a stored row describes. */
export function toAlert(row: AlertRecord): Alert {
  const alert: Alert = {
    id: row.id,
    rule: row.rule,
    severity: row.severity as AlertSeverity,
    status: row.status as AlertStatus,
    key: row.key,
    workflowName: row.workflow,
    runId: row.runId,
    errorName: row.errorName,
    message: row.message,
    attempt: row.attempt,
    lastLogLines: row.lastLogLines,
    firstSeenAt: row.firstSeenAt,
    lastSeenAt: row.lastSeenAt,
    count: row.count,
  };
  if (row.step !== null) alert.stepName = row.step;
  if (row.runbookUrl !== null) alert.runbookUrl = row.runbookUrl;
  if (row.runUrl !== null) alert.runUrl = row.runUrl;
  if (row.escalatedAt) alert.escalatedAt = row.escalatedAt;
  if (row.acknowledgedBy !== null) alert.acknowledgedBy = row.acknowledgedBy;
  if (row.resolvedAt) alert.resolvedAt = row.resolvedAt;
  return alert;
}

export function toDeliveryInfo(row: DeliveryRecord): AlertDeliveryInfo {
  const status = row.status === "pending" ? (row.attempts > 0 && row.lastError !== null ? "failing" : "pending") : (row.status as "delivered" | "failed");
  const info: AlertDeliveryInfo = {
    channel: row.channel,
    notification: row.notification as AlertNotification,
    status,
    attempts: row.attempts,
    idempotencyKey: row.idempotencyKey,
  };
  if (row.lastError !== null && row.status !== "delivered") info.lastError = row.lastError;
  if (row.status === "pending") info.nextAttemptAt = row.nextAttemptAt;
  if (row.deliveredAt) info.deliveredAt = row.deliveredAt;
  return info;
}

export function toAlertInfo(row: AlertRecord, deliveries: readonly DeliveryRecord[]): AlertInfo {
  const info: AlertInfo = { ...toAlert(row), deliveries: deliveries.filter((d) => d.alertId === row.id).map(toDeliveryInfo) };
  if (row.acknowledgedAt) info.acknowledgedAt = row.acknowledgedAt;
  return info;
}
