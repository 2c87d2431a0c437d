import type { Command } from "commander";
import { serveDashboard } from "../dashboard/serve-dashboard.js";
import { onShutdownSignals } from "../shutdown.js";
import { action, type ActionInput } from "./command-action.js";
import { openStore } from "./connection.js";
import { integer } from "./flags.js";
import { loadWorkflows } from "./load-entry.js";

/**
 * `reprise dashboard [--port 7777] [--host 127.0.0.1] [--token T]`: serves the dashboard
 * until Ctrl-C. Any host but loopback needs a token (`--token` or REPRISE_DASHBOARD_TOKEN).
 */
export function dashboardCommand(command: Command): void {
  command
    .description("serves the web dashboard until Ctrl-C (any host but loopback needs a token)")
    .option("--port <port>", "the port it listens on (0: any free one)", integer({ min: 0, max: 65_535 }), 7777)
    .option("--host <host>", "the address it listens on", "127.0.0.1")
    .option("--token <token>", "the token a browser must give (default: REPRISE_DASHBOARD_TOKEN)")
    .option("--entry <file>", "check signals sent from the page against the schemas of this entry's workflows")
    .action(action(dashboard));
}

async function dashboard({ values }: ActionInput<{ port: number; host: string; token?: string; entry?: string }>): Promise<void> {
  const { port } = values;
  if (values.entry) await loadWorkflows(values.entry);
  const store = await openStore(values);
  try {
    const served = await serveDashboard({ store, port, ...(values.host ? { host: values.host } : {}), ...(values.token ? { token: values.token } : {}) });
    console.log(`Reprise dashboard on ${served.url}${values.token || process.env.REPRISE_DASHBOARD_TOKEN ? " (token required)" : ""}`);
    await new Promise<void>((resolve) => {
      const remove = onShutdownSignals(
        () => resolve(),
        () => resolve(),
      );
      served.server.once("close", () => {
        remove();
        resolve();
      });
    });
    await served.close();
  } finally {
    await store.close();
  }
}
