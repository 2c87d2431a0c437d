import { userInfo } from "node:os";
import { Client, type AlertDeliveryInfo, type AlertInfo, type AlertStatus } from "@reprise/sdk";
import { UsageError } from "./cli-error.js";
import { openStore, type ConnectionFlags } from "./connection.js";
import { intFlag, parseFlags } from "./flags.js";
import { style, table } from "./style.js";

const STATUSES: readonly AlertStatus[] = ["open", "acknowledged", "resolved"];

/** `reprise alerts list [--status S] [--json]`, `alerts ack <id> [--by NAME]`, `alerts resolve <id>`. */
export async function alertsCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const command = sub ? SUBCOMMANDS[sub] : undefined;
  if (!command) throw new UsageError(`usage: reprise alerts <${Object.keys(SUBCOMMANDS).join("|")}> …`);
  await command(rest);
}

async function withClient<T>(flags: ConnectionFlags, fn: (client: Client) => Promise<T>): Promise<T> {
  const store = await openStore(flags);
  try {
    return await fn(new Client({ store, migrate: false }));
  } finally {
    await store.close();
  }
}

function oneId(positionals: string[], usage: string): string {
  const id = positionals[0];
  if (!id || positionals.length > 1) throw new UsageError(`usage: reprise alerts ${usage}`);
  return id;
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

const SUBCOMMANDS: Record<string, (args: string[]) => Promise<void>> = {
  async list(args) {
    const { values, positionals } = parseFlags(args, { status: { type: "string" }, json: { type: "boolean" }, limit: { type: "string" } });
    if (positionals.length > 0) throw new UsageError("usage: reprise alerts list [--status open|acknowledged|resolved] [--json] [--limit N]");
    const status = values.status as AlertStatus | undefined;
    if (status !== undefined && !STATUSES.includes(status)) throw new UsageError(`--status must be one of ${STATUSES.join(", ")}, got "${status}"`);
    const limit = intFlag(values.limit, "limit");
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
        `${a.errorName}: ${a.message}`.slice(0, 60),
        `×${a.count}`,
        a.lastSeenAt.toISOString(),
        deliveriesText(a.deliveries),
      ]);
      console.log(table(rows, { header: ["id", "status", "severity", "rule", "where", "error", "count", "last seen", "deliveries"] }));
    });
  },

  async ack(args) {
    const { values, positionals } = parseFlags(args, { by: { type: "string" } });
    const id = oneId(positionals, "ack <id> [--by NAME]");
    const by = values.by ?? defaultUser();
    await withClient(values, async (client) => {
      const alert = await client.alerts.ack(id, by === undefined ? {} : { by });
      if (alert.status === "resolved") console.log(`alert ${id} is resolved already`);
      else console.log(`alert ${id} acknowledged${alert.acknowledgedBy ? ` by ${alert.acknowledgedBy}` : ""}: it will not escalate`);
    });
  },

  async resolve(args) {
    const { values, positionals } = parseFlags(args, {});
    const id = oneId(positionals, "resolve <id>");
    await withClient(values, async (client) => {
      await client.alerts.resolve(id);
      console.log(`alert ${id} resolved`);
    });
  },
};

function defaultUser(): string | undefined {
  try {
    return process.env.USER ?? userInfo().username;
  } catch {
    return undefined;
  }
}
