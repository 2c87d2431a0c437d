import { Worker } from "../worker.js";
import { consoleLogger, LOG_FORMATS, LOG_LEVELS } from "../logger.js";
import { UsageError } from "./cli-error.js";
import { resolveConnection } from "./connection.js";
import { entryAlerts } from "./entry-alerts.js";
import { intFlag, parseFlags } from "./flags.js";
import { loadWorkflows } from "./load-entry.js";

/** A flag that takes one of `choices`, or a one-line error listing them. */
function choice<T extends string>(value: string | undefined, choices: readonly T[], name: string): T | undefined {
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) throw new UsageError(`--${name} must be one of ${choices.join(", ")}, got "${value}"`);
  return value as T;
}

/**
 * `reprise worker <entry>`: a production worker, with the alert rules the entry exports as
 * `alerts`; stops gracefully on SIGTERM/SIGINT (twice: at once).
 */
export async function workerCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, {
    concurrency: { type: "string" },
    queues: { type: "string" },
    "lease-duration": { type: "string" },
    "poll-interval": { type: "string" },
    "log-level": { type: "string" },
    "log-format": { type: "string" },
    "metrics-port": { type: "string" },
    "metrics-host": { type: "string" },
  });
  const level = choice(values["log-level"], LOG_LEVELS, "log-level");
  const format = choice(values["log-format"], LOG_FORMATS, "log-format");
  const file = positionals[0];
  if (!file) throw new UsageError("usage: reprise worker <entry> (a file that exports your workflows)");
  const { connectionString, schema } = resolveConnection(values);
  const entry = await loadWorkflows(file);
  const concurrency = intFlag(values.concurrency, "concurrency");
  const alerts = entryAlerts(entry);
  const metricsPort = intFlag(values["metrics-port"], "metrics-port");
  if (values["metrics-host"] && metricsPort === undefined) throw new UsageError("--metrics-host needs --metrics-port");
  const logger = consoleLogger({ ...(level ? { level } : {}), ...(format ? { format } : {}) });
  const worker = new Worker({
    connectionString,
    ...(schema ? { schema } : {}),
    workflows: entry.workflows,
    ...(values.queues ? { queues: values.queues.split(",").map((q) => q.trim()) } : {}),
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(values["lease-duration"] ? { leaseDuration: values["lease-duration"] } : {}),
    ...(values["poll-interval"] ? { pollInterval: values["poll-interval"] } : {}),
    ...(alerts ? { alerts } : {}),
    ...(metricsPort !== undefined ? { metrics: { port: metricsPort, ...(values["metrics-host"] ? { host: values["metrics-host"] } : {}) } } : {}),
    handleSignals: true,
    logger,
  });
  await worker.start();
  if (worker.metricsUrl) logger.info(`metrics at ${worker.metricsUrl}`, { url: worker.metricsUrl });
  await worker.closed;
}
