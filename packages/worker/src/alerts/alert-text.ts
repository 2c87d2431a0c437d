import type { Alert, AlertNotification } from "@reprise/sdk";

/** `nightly-etl › extract`, or the workflow alone. */
export function where(alert: Alert): string {
  return alert.stepName ? `${alert.workflowName} › ${alert.stepName}` : alert.workflowName;
}

/** A one-line title: `HIGH: nightly-etl › extract failed: Error` (prefixed for an escalation or a resolution). */
export function title(alert: Alert, notification: AlertNotification): string {
  const what = `${alert.severity.toUpperCase()}: ${where(alert)}: ${alert.errorName}`;
  if (notification === "escalated") return `ESCALATED ${what}`;
  if (notification === "resolved") return `RESOLVED ${what}`;
  return what;
}

/** What happened to the alert, for the top of a message. */
export function headline(alert: Alert, notification: AlertNotification): string {
  const times = alert.count === 1 ? "once" : `${alert.count} times`;
  if (notification === "escalated") {
    return `Not acknowledged since ${alert.firstSeenAt.toISOString()}: escalated (seen ${times}).`;
  }
  if (notification === "resolved") {
    return `Resolved${alert.resolvedAt ? ` at ${alert.resolvedAt.toISOString()}` : ""} (seen ${times}).`;
  }
  return `Alert rule "${alert.rule}" fired (${alert.status}, seen ${times}).`;
}

/** The CLI line that acknowledges it. */
export function ackCommand(alert: Alert): string {
  return `npx reprise alerts ack ${alert.id}`;
}

/** Cuts `text` to `max` characters (with an ellipsis). */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
