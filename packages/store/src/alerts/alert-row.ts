import type { AlertRecord, DeliveryRecord } from "./alert-records.js";

/** The columns of an alert as {@link toAlertRecord} reads them. */
export const ALERT_COLUMNS = [
  "id",
  "rule",
  "key",
  "severity",
  "status",
  "workflow",
  "step",
  "run_id",
  "error_name",
  "message",
  "attempt",
  "last_log_lines",
  "runbook_url",
  "run_url",
  "first_seen_at",
  "last_seen_at",
  "count",
  "escalate_at",
  "escalate_to",
  "escalated_at",
  "acknowledged_by",
  "acknowledged_at",
  "auto_resolve",
  "resolve_notify",
  "resolved_at",
] as const;

/** {@link ALERT_COLUMNS} for `SELECT` and `RETURNING` in hand-written SQL (prefix: a table alias). */
export function alertColumns(prefix = ""): string {
  return ALERT_COLUMNS.map((c) => (prefix ? `${prefix}.${c}` : c)).join(", ");
}

/** An alert row as node-postgres returns it. */
export interface AlertRow {
  id: string;
  rule: string;
  key: string;
  severity: string;
  status: string;
  workflow: string;
  step: string | null;
  run_id: string;
  error_name: string;
  message: string;
  attempt: number;
  last_log_lines: string[];
  runbook_url: string | null;
  run_url: string | null;
  first_seen_at: Date;
  last_seen_at: Date;
  count: number;
  escalate_at: Date | null;
  escalate_to: string[];
  escalated_at: Date | null;
  acknowledged_by: string | null;
  acknowledged_at: Date | null;
  auto_resolve: boolean;
  resolve_notify: string[];
  resolved_at: Date | null;
}

export function toAlertRecord(r: AlertRow): AlertRecord {
  return {
    id: String(r.id),
    rule: r.rule,
    key: r.key,
    severity: r.severity,
    status: r.status,
    workflow: r.workflow,
    step: r.step,
    runId: r.run_id,
    errorName: r.error_name,
    message: r.message,
    attempt: r.attempt,
    lastLogLines: r.last_log_lines,
    runbookUrl: r.runbook_url,
    runUrl: r.run_url,
    firstSeenAt: r.first_seen_at,
    lastSeenAt: r.last_seen_at,
    count: r.count,
    escalateAt: r.escalate_at,
    escalateTo: r.escalate_to,
    escalatedAt: r.escalated_at,
    acknowledgedBy: r.acknowledged_by,
    acknowledgedAt: r.acknowledged_at,
    autoResolve: r.auto_resolve,
    resolveNotify: r.resolve_notify,
    resolvedAt: r.resolved_at,
  };
}

/** The columns of a delivery as {@link toDeliveryRecord} reads them. */
export const DELIVERY_COLUMNS = [
  "id",
  "alert_id",
  "channel",
  "notification",
  "idempotency_key",
  "status",
  "attempts",
  "next_attempt_at",
  "last_error",
  "delivered_at",
  "created_at",
] as const;

/** {@link DELIVERY_COLUMNS} for hand-written SQL (prefix: a table alias). */
export function deliveryColumns(prefix = ""): string {
  return DELIVERY_COLUMNS.map((c) => (prefix ? `${prefix}.${c}` : c)).join(", ");
}

export interface DeliveryRow {
  id: string;
  alert_id: string;
  channel: string;
  notification: string;
  idempotency_key: string;
  status: string;
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
  delivered_at: Date | null;
  created_at: Date;
}

export function toDeliveryRecord(r: DeliveryRow): DeliveryRecord {
  return {
    id: String(r.id),
    alertId: String(r.alert_id),
    channel: r.channel,
    notification: r.notification,
    idempotencyKey: r.idempotency_key,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    deliveredAt: r.delivered_at,
    createdAt: r.created_at,
  };
}
