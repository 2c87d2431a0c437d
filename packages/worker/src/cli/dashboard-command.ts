import { serveDashboard } from "../dashboard/serve-dashboard.js";
import { onShutdownSignals } from "../shutdown.js";
import { openStore } from "./connection.js";
import { intFlag, parseFlags } from "./flags.js";
import { loadWorkflows } from "./load-entry.js";

/**
 * `reprise dashboard [--port 7777] [--host 127.0.0.1] [--token T] [--entry file]`: serves the
 * dashboard until Ctrl-C. Any host but loopback needs a token (`--token` or
 * REPRISE_DASHBOARD_TOKEN). With `--entry`, signals sent from the page are checked against
 * the schemas of the entry's workflows before they are stored.
 */
export async function dashboardCommand(args: string[]): Promise<void> {
  const { values } = parseFlags(args, { port: { type: "string" }, host: { type: "string" }, token: { type: "string" }, entry: { type: "string" } });
  const port = intFlag(values.port, "port") ?? 7777;
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
