import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import type { AlertInfo, Client } from "@reprise/sdk";
import { consoleChannel, webhook, type AlertsOptions } from "@reprise/worker";
import { startReceiver } from "./receiver.js";
import { syncInvoices } from "./workflow.js";

export { syncInvoices };

/** The example's own webhook receiver (loopback only), which the `webhook` channels post to. */
export const receiver = await startReceiver();

/**
 * The alert rules `reprise dev` (and `reprise worker`) run this entry with:
 * - `invoices-failing`: every failed run, grouped — failures inside 10 minutes are one alert
 *   whose count grows, sent once;
 * - `invoices-down`: four failed runs in a row page (critical), and escalate to `oncall`
 *   unless someone acknowledges within 5 s (minutes in real life);
 * - both resolve themselves when a run completes again, and say so.
 */
export const alerts: AlertsOptions = {
  channels: {
    console: consoleChannel(),
    team: webhook(`${receiver.url}/team`, { format: "json" }),
    oncall: webhook(`${receiver.url}/oncall`, { format: "json" }),
  },
  rules: [
    {
      id: "invoices-failing",
      on: "run.failed",
      workflows: ["sync-invoices"],
      severity: "warning",
      notify: ["console", "team"],
      dedupWindow: "10m",
      autoResolve: true,
      notifyOnResolve: true,
    },
    {
      id: "invoices-down",
      on: "run.failed",
      workflows: ["sync-invoices"],
      consecutiveFailures: 4,
      severity: "critical",
      notify: ["console", "team"],
      escalateAfter: "5s",
      escalateTo: ["console", "oncall"],
      autoResolve: true,
      notifyOnResolve: true,
    },
  ],
  runbookUrl: (alert) => `https://wiki.example.com/runbooks/${alert.workflowName}`,
  interval: "250ms",
};

/** The `reprise` CLI of the installed @reprise/worker. */
const cli = join(dirname(createRequire(import.meta.url).resolve("@reprise/worker")), "..", "bin", "reprise.js");

/** Runs `npx reprise <args>` against the dev database and shows what it printed. */
async function reprise(args: string[], databaseUrl: string, log: (line: string) => void): Promise<void> {
  log(`$ npx reprise ${args.join(" ")}`);
  const { stdout } = await promisify(execFile)(process.execPath, [cli, ...args, "--database-url", databaseUrl]);
  for (const line of stdout.trimEnd().split("\n")) log(`  ${line}`);
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const sent = (a: AlertInfo | undefined) => a !== undefined && a.deliveries.length > 0 && a.deliveries.every((d) => d.status === "delivered");

/**
 * Called by `reprise dev examples/alerting/index.ts`: the API goes down, three runs fail
 * (one alert, count 3), a fourth fails (a page, which escalates unless acknowledged), it is
 * acknowledged with the CLI (no escalation), the API comes back and the next run resolves
 * both alerts. `ack: false` leaves the page unacknowledged, to see it escalate.
 */
export async function dev(
  { client, databaseUrl, log }: { client: Client; databaseUrl: string; log: (line: string) => void },
  options: { ack?: boolean } = {},
): Promise<void> {
  const ack = options.ack ?? process.env.ALERTING_ACK !== "no";
  const alert = async (rule: string) => (await client.alerts.list({ limit: 10 })).find((a) => a.rule === rule && a.status !== "resolved");
  const fail = async (n: number) => {
    const handle = await client.start(syncInvoices, { healthy: false });
    await handle.result().catch(() => undefined);
    log(`    run ${n} failed: ${handle.id}`);
  };

  log("\n1. The accounting API is down. Three runs fail, one after the other:\n");
  for (let i = 1; i <= 3; i++) await fail(i);
  const grouped = await until(async () => {
    const a = await alert("invoices-failing");
    return a && a.count === 3 && sent(a) ? a : undefined;
  }, "three failures counted into one alert");
  log(`\n   One alert (${grouped.id}), count 3: the console and the team webhook were told once.\n`);
  await reprise(["alerts", "list"], databaseUrl, log);

  log("\n2. A fourth failure in a row: invoices-down pages (critical), and escalates to oncall in 5 s unless acknowledged.\n");
  await fail(4);
  const page = await until(async () => {
    const a = await alert("invoices-down");
    return a && sent(a) ? a : undefined;
  }, "the page");
  if (ack) {
    log("\n3. Someone is on it: acknowledge the page, and it does not escalate.\n");
    await reprise(["alerts", "ack", page.id, "--by", "you"], databaseUrl, log);
    await new Promise((r) => setTimeout(r, 6_000));
    const after = await client.alerts.get(page.id);
    log(`\n   6 s later: ${after.status}, ${after.escalatedAt ? "escalated" : "not escalated"}; oncall got nothing.\n`);
  } else {
    log("\n3. Nobody acknowledges it (ALERTING_ACK=no): after 5 s it escalates to oncall.\n");
    await until(async () => {
      const a = await client.alerts.get(page.id);
      return a.escalatedAt && sent(a) ? a : undefined;
    }, "the escalation");
    log("");
  }

  log("4. The API is back: the next run completes and resolves both alerts.\n");
  await client.run(syncInvoices, { healthy: true });
  await until(async () => {
    const all = await client.alerts.list({ limit: 10 });
    return [grouped.id, page.id].every((id) => all.find((a) => a.id === id)?.status === "resolved") && all.every((a) => a.deliveries.every((d) => d.status === "delivered"))
      ? all
      : undefined;
  }, "both alerts resolved");
  await reprise(["alerts", "list"], databaseUrl, log);
  log(`\nThe webhook receiver got ${receiver.received} notifications. Try the CLI: npx reprise alerts list --json. Ctrl-C stops the worker.\n`);
}
