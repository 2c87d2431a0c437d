import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { Client } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { Option, type Command } from "commander";
import { serveDashboard, type ServedDashboard } from "../dashboard/serve-dashboard.js";
import { consoleLogger } from "../logger.js";
import { Worker } from "../worker.js";
import { onShutdownSignals } from "../shutdown.js";
import { UsageError } from "./cli-error.js";
import { action, type ActionInput } from "./command-action.js";
import { DEV_STATE_FILE } from "./connection.js";
import { devAlerts } from "./entry-alerts.js";
import { startDevPostgres } from "./embedded.js";
import { integer } from "./flags.js";
import { loadWorkflows } from "./load-entry.js";
import { style } from "./style.js";

/** Where `reprise dev` and `reprise replay` look for workflows when no entry is given. */
export const DEFAULT_ENTRIES = ["examples/index.ts", "examples/index.js", "src/workflows.ts", "workflows.ts"];

/** What `reprise dev` passes to an entry's exported `dev()` function, if it has one. */
export interface DevContext {
  client: Client;
  databaseUrl: string;
  log: (line: string) => void;
}

/**
 * `reprise dev [entry]`: starts (or reuses) an embedded Postgres kept under `.reprise/`,
 * migrates, runs a worker for the entry's workflows (with the alert rules the entry exports
 * as `alerts`, or failed runs shown on the console), and prints where things are. If the
 * entry exports `dev(context)`, it is called once the worker runs (examples use it to start
 * a demo run). Ctrl-C stops gracefully; a second Ctrl-C forces.
 */
export function devCommand(command: Command): void {
  command
    .description("embedded Postgres in .reprise/, a worker for entry's workflows and the dashboard; Ctrl-C stops")
    .argument("[entry]", `the file that exports your workflows (default: the first of ${DEFAULT_ENTRIES.join(", ")})`)
    .addOption(new Option("--port <port>", "the embedded Postgres' port; the next free one if another project's Postgres holds it").argParser(integer({ min: 1, max: 65_535 })).default(54329).env("REPRISE_DEV_PORT"))
    .option("--concurrency <n>", "runs the worker executes at once", integer({ min: 1 }), 10)
    .option("--dir <dir>", "where the database and dev.json are kept", ".reprise")
    .option("--dashboard-port <port>", "the dashboard's port (a free one if it is taken)", integer({ min: 0, max: 65_535 }), 7777)
    .option("--no-dashboard", "no dashboard")
    .action(action(dev));
}

interface DevFlags {
  port: number;
  concurrency: number;
  dir: string;
  "dashboard-port": number;
  dashboard: boolean;
}

async function dev({ values, positionals }: ActionInput<DevFlags>): Promise<void> {
  const file = positionals[0] ?? DEFAULT_ENTRIES.find((f) => existsSync(f));
  if (!file) throw new UsageError("pass the file that exports your workflows: reprise dev src/workflows.ts");
  const { port, dir, schema, concurrency } = values;
  const log = (line: string) => console.log(style.dim(`[dev] ${line}`));

  const entry = await loadWorkflows(file);
  const pg = await startDevPostgres({ dir, port, log });
  if (pg.reused) log("reusing the Postgres an earlier `reprise dev` left running");
  writeFileSync(join(dir, "dev.json"), JSON.stringify({ url: pg.url, pid: process.pid }, null, 2));

  const worker = new Worker({
    connectionString: pg.url,
    ...(schema ? { schema } : {}),
    workflows: entry.workflows,
    concurrency,
    // Short leases so that a run whose dev process was killed resumes within seconds.
    leaseDuration: "5s",
    pollInterval: "500ms",
    logger: consoleLogger({ level: "warn", runLevel: "info" }),
    // The entry's alert rules (its exported `alerts`), else every failed run on the console.
    alerts: devAlerts(entry),
  });
  await worker.start();
  const client = new Client({ connectionString: pg.url, ...(schema ? { schema } : {}), migrate: false });
  const dashboardStore = createStore({ connectionString: pg.url, ...(schema ? { schema } : {}), poolSize: 4 });
  let served: ServedDashboard | undefined;
  if (values.dashboard) {
    const dashboardPort = values["dashboard-port"];
    served = await serveDashboard({ store: dashboardStore, port: dashboardPort }).catch(async (error: unknown) => {
      if ((error as { code?: string }).code !== "EADDRINUSE") throw error;
      log(`port ${dashboardPort} is taken: the dashboard takes a free one`);
      return serveDashboard({ store: dashboardStore, port: 0 });
    });
  }

  const first = entry.workflows[0]!;
  console.log(
    [
      "",
      style.bold("Reprise dev"),
      `  Postgres   ${pg.url}  ${style.dim(`(data in ${join(dir, "pg")}, kept across restarts)`)}`,
      `  Entry      ${relative(process.cwd(), entry.path)}`,
      `  Workflows  ${entry.workflows.map((wf) => `${wf.name}${wf.queue === "default" ? "" : ` (queue ${wf.queue})`}`).join(", ")}`,
      `  Worker     ${worker.id}, concurrency ${concurrency}`,
      `  Dashboard  ${served ? style.bold(served.url) : style.dim("off (--no-dashboard)")}`,
      "",
      `  In another terminal (it finds this database through ${DEV_STATE_FILE}):`,
      `    npx reprise runs start ${first.name} '{...input}' --entry ${relative(process.cwd(), entry.path)}`,
      "    npx reprise runs list",
      "    npx reprise runs show <id>",
      "    npx reprise alerts list",
      "",
      style.dim("  Ctrl-C stops gracefully (in-flight steps finish, runs are handed back); twice forces."),
      "",
    ].join("\n"),
  );

  let stopping: Promise<void> | undefined;
  const stop = (force: boolean) => {
    if (force) void worker.stop({ force: true });
    stopping ??= (async () => {
      await worker.stop();
      await served?.close();
      await dashboardStore.close();
      await client.close();
      await pg.stop();
      rmSync(join(dir, "dev.json"), { force: true });
      log("stopped");
    })();
    return stopping;
  };
  const removeHandlers = onShutdownSignals(
    () => void stop(false),
    () => void stop(true),
  );

  const demo = entry.module.dev;
  if (typeof demo === "function") {
    try {
      await (demo as (ctx: DevContext) => unknown)({ client, databaseUrl: pg.url, log: (line) => console.log(line) });
    } catch (error) {
      console.error(style.red(`the entry's dev() failed: ${(error as Error).message}`));
    }
  }
  await worker.closed;
  await stopping;
  removeHandlers();
}
