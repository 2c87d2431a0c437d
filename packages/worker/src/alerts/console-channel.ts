import type { Alert } from "@reprise/sdk";
import { ackCommand, clip, where } from "./alert-text.js";
import type { AlertChannel, AlertDelivery } from "./channel.js";

/** Options of {@link consoleChannel}. */
export interface ConsoleChannelOptions {
  /** Where the line goes. @default stderr */
  write?: (line: string) => void;
}

/**
 * One readable line per notification, on stderr: what `reprise dev` shows.
 *
 * ```
 * [alert 3] HIGH opened: nightly-etl › extract: Error: 503 from the warehouse (seen 3 times, run 01J…) · npx reprise alerts ack 3
 * ```
 */
export function consoleChannel(options: ConsoleChannelOptions = {}): AlertChannel {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  return (alert, delivery) => write(consoleLine(alert, delivery));
}

export function consoleLine(alert: Alert, delivery: AlertDelivery): string {
  const seen = alert.count === 1 ? "seen once" : `seen ${alert.count} times`;
  const extra = [seen, `run ${alert.runId}`, ...(alert.runbookUrl ? [`runbook ${alert.runbookUrl}`] : [])].join(", ");
  const tail = delivery.notification === "resolved" ? "" : ` · ${ackCommand(alert)}`;
  return `[alert ${alert.id}] ${alert.severity.toUpperCase()} ${delivery.notification} (${alert.rule}): ${where(alert)}: ${alert.errorName}: ${clip(alert.message, 300)} (${extra})${tail}`;
}
