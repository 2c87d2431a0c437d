import type { Alert } from "@reprise/sdk";
import { ackCommand, clip, headline, title, where } from "./alert-text.js";
import type { AlertDelivery } from "./channel.js";

const ICON = { info: ":information_source:", warning: ":warning:", high: ":rotating_light:", critical: ":fire:" } as const;

/** Slack's limits: a header's text, a section's text, a field. */
const HEADER_MAX = 150;
const SECTION_MAX = 3000;
const FIELD_MAX = 2000;

/** Slack mrkdwn escapes only these three. */
function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function code(text: string, max: number): string {
  return "```" + clip(escape(text).replace(/```/g, "ˋˋˋ"), max - 6) + "```";
}

/**
 * A Slack incoming-webhook message with blocks: a header, the severity, workflow, step,
 * run and count as fields, the error, the last log lines, and buttons to the runbook and
 * the run. `text` is the notification's fallback (and what a screen reader says).
 */
export function slackMessage(alert: Alert, delivery: AlertDelivery): Record<string, unknown> {
  const icon = delivery.notification === "resolved" ? ":white_check_mark:" : ICON[alert.severity];
  const run = alert.runUrl ? `<${alert.runUrl}|${escape(alert.runId)}>` : `\`${escape(alert.runId)}\``;
  const fields = [
    `*Severity*\n${alert.severity}`,
    `*Workflow*\n${escape(alert.workflowName)}`,
    `*Step*\n${alert.stepName ? escape(alert.stepName) : "–"}${alert.attempt > 0 ? ` (attempt ${alert.attempt})` : ""}`,
    `*Run*\n${run}`,
    `*Seen*\n${alert.count === 1 ? "once" : `${alert.count} times`} since ${alert.firstSeenAt.toISOString()}`,
    `*Status*\n${alert.status}${alert.acknowledgedBy ? ` (by ${escape(alert.acknowledgedBy)})` : ""}`,
  ].map((text) => ({ type: "mrkdwn", text: clip(text, FIELD_MAX) }));
  const blocks: Record<string, unknown>[] = [
    { type: "header", text: { type: "plain_text", text: clip(`${title(alert, delivery.notification)}`, HEADER_MAX), emoji: true } },
    { type: "section", text: { type: "mrkdwn", text: clip(`${icon} ${escape(headline(alert, delivery.notification))}`, SECTION_MAX) } },
    { type: "section", fields },
    { type: "section", text: { type: "mrkdwn", text: `*Error*\n${code(`${alert.errorName}: ${alert.message}`, SECTION_MAX - 12)}` } },
  ];
  if (alert.lastLogLines.length > 0) {
    blocks.push({ type: "section", text: { type: "mrkdwn", text: `*Last log lines*\n${code(alert.lastLogLines.join("\n"), SECTION_MAX - 20)}` } });
  }
  const buttons: Record<string, unknown>[] = [];
  if (alert.runbookUrl) buttons.push({ type: "button", text: { type: "plain_text", text: "Runbook" }, url: alert.runbookUrl, action_id: "runbook" });
  if (alert.runUrl) buttons.push({ type: "button", text: { type: "plain_text", text: "Open the run" }, url: alert.runUrl, action_id: "run" });
  if (buttons.length > 0) blocks.push({ type: "actions", elements: buttons });
  blocks.push({
    type: "context",
    elements: [
      {
        type: "mrkdwn",
        text: clip(`alert ${alert.id} · rule \`${escape(alert.rule)}\` · key \`${escape(alert.key)}\` · \`${ackCommand(alert)}\` · idempotency key ${delivery.idempotencyKey}`, SECTION_MAX),
      },
    ],
  });
  return { text: clip(`${icon} ${title(alert, delivery.notification)} in ${where(alert)}: ${alert.message}`, SECTION_MAX), blocks };
}
