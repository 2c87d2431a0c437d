import { userInfo } from "node:os";
import { type AlertDeliveryInfo, type AlertInfo, type AlertStatus } from "@reprise/sdk";
import { Option, type Command } from "commander";
import { action, type ActionInput } from "./command-action.js";
import { integer } from "./flags.js";
import { cut, style, table } from "./style.js";
import { withClient } from "./with-client.js";

const STATUSES: readonly AlertStatus[] = ["open", "acknowledged", "resolved"];

/** `reprise alerts list [--status S] [--json]`, `alerts ack <id> [--by NAME]`, `alerts resolve <id>`. */
export function alertsCommand(alerts: Command): void {
  alerts.description("the alerts of the workers' alert rules: list, acknowledge, resolve");
  alerts
    .command("list")
    .description("alerts with each channel's delivery state, newest first")
    .addOption(new Option("--status <status>", "only alerts in this state").choices(STATUSES))
    .option("--limit <n>", "at most this many", integer({ min: 1 }))
    .option("--json", "print them as JSON")
    .action(action(list));
  alerts
    .command("ack")
    .description("acknowledge: someone is on it, it does not escalate")
    .argument("<id>", "the alert's id")
    .option("--by <name>", "who is on it (default: $USER)")
    .action(action(ack));
  alerts
    .command("resolve")
    .description("resolve it: the next occurrence opens a new alert")
    .argument("<id>", "the alert's id")
    .action(
      action(async ({ values, positionals: [id] }) => {
        await withClient(values, async (client) => {
          await client.alerts.resolve(id!);
          console.log(`alert ${id} resolved`);
        });
      }),
    );
}

const SEVERITY_STYLE = { info: style.blue, warning: style.yellow, high: style.red, critical: (t: string) => style.bold(style.red(t)) } as const;

function statusText(a: AlertInfo): string {
  if (a.status === "open") return a.escalatedAt ? style.red("open, escalated") : style.red("open");
  if (a.status === "acknowledged") return style.yellow(`acknowledged${a.acknowledgedBy ? ` by ${a.acknowledgedBy}` : ""}`);
  return style.green("resolved");
}

/** `team ✓ · oncall failing ×4: HTTP 503 …`: every channel's state, the failing ones with why. */
function deliveriesText(deliveries: readonly AlertDeliveryInfo[]): string {
  if (deliveries.length === 0) return style.dim("none");
  return deliveries
    .map((d) => {
      const what = d.notification === "opened" ? d.channel : `${d.channel} (${d.notification})`;
      if (d.status === "delivered") return style.green(`${what} ✓`);
      if (d.status === "pending") return `${what} pending`;
      const why = d.lastError ? `: ${d.lastError.length > 60 ? `${d.lastError.slice(0, 59)}…` : d.lastError}` : "";
      return style.red(`${what} ${d.status === "failing" ? "failing" : "gave up"} ×${d.attempts}${why}`);
    })
    .join(" · ");
}

async function list({ values }: ActionInput<{ status?: AlertStatus; limit?: number; json?: boolean }>): Promise<void> {
  const { status, limit } = values;
  await withClient(values, async (client) => {
    const alerts = await client.alerts.list({ ...(status ? { status } : {}), ...(limit !== undefined ? { limit } : {}) });
    if (values.json) {
      console.log(JSON.stringify(alerts, null, 2));
      return;
    }
    if (alerts.length === 0) {
      console.log(status ? `no ${status} alerts` : "no alerts");
      return;
    }
    const rows = alerts.map((a) => [
      a.id,
      statusText(a),
      SEVERITY_STYLE[a.severity](a.severity),
      a.rule,
      a.stepName ? `${a.workflowName} › ${a.stepName}` : a.workflowName,
      cut(`${a.errorName}: ${a.message}`, 60),
      `×${a.count}`,
      a.lastSeenAt.toISOString(),
      deliveriesText(a.deliveries),
    ]);
    console.log(table(rows, { header: ["id", "status", "severity", "rule", "where", "error", "count", "last seen", "deliveries"] }));
  });
}

async function ack({ values, positionals: [id] }: ActionInput<{ by?: string }>): Promise<void> {
  const by = values.by ?? defaultUser();
  await withClient(values, async (client) => {
    const alert = await client.alerts.ack(id!, by === undefined ? {} : { by });
    if (alert.status === "resolved") console.log(`alert ${id} is resolved already`);
    else console.log(`alert ${id} acknowledged${alert.acknowledgedBy ? ` by ${alert.acknowledgedBy}` : ""}: it will not escalate`);
  });
}

function defaultUser(): string | undefined {
  try {
    return process.env.USER ?? userInfo().username;
  } catch {
    return undefined;
  }
}
