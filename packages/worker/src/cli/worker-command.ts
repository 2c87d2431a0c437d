import { Worker } from "../worker.js";
import { consoleLogger } from "../logger.js";
import { UsageError } from "./cli-error.js";
import { resolveConnection } from "./connection.js";
import { intFlag, parseFlags } from "./flags.js";
import { loadWorkflows } from "./load-entry.js";

/** `reprise worker <entry>`: a production worker; stops gracefully on SIGTERM/SIGINT (twice: at once). */
export async function workerCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, {
    concurrency: { type: "string" },
    queues: { type: "string" },
    "lease-duration": { type: "string" },
    "poll-interval": { type: "string" },
    "log-level": { type: "string" },
    "metrics-port": { type: "string" },
    "metrics-host": { type: "string" },
  });
  const file = positionals[0];
  if (!file) throw new UsageError("usage: reprise worker <entry> (a file that exports your workflows)");
  const { connectionString, schema } = resolveConnection(values);
  const entry = await loadWorkflows(file);
  const concurrency = intFlag(values.concurrency, "concurrency");
  const level = values["log-level"] as "debug" | "info" | "warn" | "error" | undefined;
  const metricsPort = intFlag(values["metrics-port"], "metrics-port");
  if (values["metrics-host"] && metricsPort === undefined) throw new UsageError("--metrics-host needs --metrics-port");
  const worker = new Worker({
    connectionString,
    ...(schema ? { schema } : {}),
    workflows: entry.workflows,
    ...(values.queues ? { queues: values.queues.split(",").map((q) => q.trim()) } : {}),
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(values["lease-duration"] ? { leaseDuration: values["lease-duration"] } : {}),
    ...(values["poll-interval"] ? { pollInterval: values["poll-interval"] } : {}),
    ...(metricsPort !== undefined ? { metrics: { port: metricsPort, ...(values["metrics-host"] ? { host: values["metrics-host"] } : {}) } } : {}),
    handleSignals: true,
    logger: consoleLogger(level ? { level } : {}),
  });
  await worker.start();
  if (worker.metricsUrl) console.log(`[reprise] metrics at ${worker.metricsUrl}`);
  await worker.closed;
}
