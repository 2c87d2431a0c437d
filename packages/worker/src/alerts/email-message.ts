import { createHash } from "node:crypto";
import type { Alert } from "@reprise/sdk";
import { ackCommand, headline, title } from "./alert-text.js";
import type { AlertDelivery } from "./channel.js";

/** What an alert's email is made of (nodemailer's message fields). */
export interface AlertEmail {
  subject: string;
  text: string;
  html: string;
  messageId: string;
  inReplyTo?: string;
  references: string[];
  headers: Record<string, string>;
}

/**
 * One email per notification, threaded by the alert's key: every message of the same rule
 * and key (the alerts of every window, their escalations and resolutions) names the same
 * thread root in `References`, and a follow-up of one alert answers its first message
 * (`In-Reply-To`), so mail clients show one conversation per problem. The subject stays
 * the same within a thread ("Re: " on follow-ups), as clients that thread by subject want.
 */
export function alertEmail(alert: Alert, delivery: AlertDelivery, from: string, prefix: string): AlertEmail {
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1] ?? "reprise.local";
  const thread = createHash("sha256").update(`${alert.rule}\u0000${alert.key}`).digest("hex").slice(0, 24);
  const root = `<alerts.${thread}@${domain}>`;
  const opened = `<alert.${alert.id}.${thread}@${domain}>`;
  const subject = `${prefix} ${alert.severity.toUpperCase()}: ${alert.workflowName}${alert.stepName ? ` › ${alert.stepName}` : ""}: ${alert.errorName}`;
  const followUp = delivery.notification !== "opened";
  const rows: [string, string][] = [
    ["Severity", alert.severity],
    ["Workflow", alert.workflowName],
    ...(alert.stepName ? ([["Step", `${alert.stepName}${alert.attempt > 0 ? ` (attempt ${alert.attempt})` : ""}`]] as [string, string][]) : []),
    ["Run", alert.runId],
    ...(alert.runUrl ? ([["Run page", alert.runUrl]] as [string, string][]) : []),
    ["Error", `${alert.errorName}: ${alert.message}`],
    ["Seen", `${alert.count === 1 ? "once" : `${alert.count} times`}, first ${alert.firstSeenAt.toISOString()}, last ${alert.lastSeenAt.toISOString()}`],
    ["Status", `${alert.status}${alert.acknowledgedBy ? ` (acknowledged by ${alert.acknowledgedBy})` : ""}`],
    ...(alert.runbookUrl ? ([["Runbook", alert.runbookUrl]] as [string, string][]) : []),
    ["Rule", `${alert.rule} (key ${alert.key})`],
  ];
  const top = `${title(alert, delivery.notification)}\n${headline(alert, delivery.notification)}`;
  const logs = alert.lastLogLines.length > 0 ? alert.lastLogLines : ["(no log lines)"];
  const text = [
    top,
    "",
    ...rows.map(([k, v]) => `${`${k}:`.padEnd(10)} ${v}`),
    "",
    "Last log lines:",
    ...logs.map((l) => `  ${l}`),
    "",
    ...(delivery.notification === "resolved" ? [] : [`Acknowledge: ${ackCommand(alert)}`]),
    `Idempotency key: ${delivery.idempotencyKey}`,
    "",
  ].join("\n");
  const html = [
    `<!doctype html><html><body style="font-family:sans-serif">`,
    `<h2 style="margin:0 0 4px">${esc(title(alert, delivery.notification))}</h2>`,
    `<p style="margin:0 0 12px">${esc(headline(alert, delivery.notification))}</p>`,
    `<table cellpadding="4" style="border-collapse:collapse">`,
    ...rows.map(([k, v]) => `<tr><th align="left" valign="top">${esc(k)}</th><td>${/^https?:\/\//.test(v) ? `<a href="${esc(v)}">${esc(v)}</a>` : esc(v)}</td></tr>`),
    `</table>`,
    `<h3>Last log lines</h3>`,
    `<pre style="background:#f4f4f4;padding:8px">${esc(logs.join("\n"))}</pre>`,
    delivery.notification === "resolved" ? "" : `<p>Acknowledge: <code>${esc(ackCommand(alert))}</code></p>`,
    `<p style="color:#888;font-size:small">Idempotency key ${esc(delivery.idempotencyKey)}</p>`,
    `</body></html>`,
  ].join("\n");
  return {
    subject: followUp ? `Re: ${subject}` : subject,
    text,
    html,
    messageId: followUp ? `<alert.${alert.id}.${delivery.notification}.${thread}@${domain}>` : opened,
    ...(followUp ? { inReplyTo: opened } : {}),
    references: followUp ? [root, opened] : [root],
    headers: { "X-Reprise-Alert": alert.id, "X-Reprise-Idempotency-Key": delivery.idempotencyKey },
  };
}

function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
