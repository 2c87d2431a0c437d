import { Option, type Command } from "commander";
import { Worker } from "../worker.js";
import { consoleLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "../logger.js";
import { UsageError } from "./cli-error.js";
import { action, type ActionInput } from "./command-action.js";
import { resolveConnection } from "./connection.js";
import { entryAlerts } from "./entry-alerts.js";
import { integer } from "./flags.js";
import { loadWorkflows } from "./load-entry.js";

/**
 * `reprise worker <entry>`: a production worker, with the alert rules the entry exports as
 * `alerts`; stops gracefully on SIGTERM/SIGINT (twice: at once).
 */
export function workerCommand(command: Command): void {
  command
    .description("a production worker for the workflows entry exports (DATABASE_URL); SIGTERM stops it gracefully")
    .argument("<entry>", "the file that exports your workflows (and, as `alerts`, its alert rules)")
    .option("--concurrency <n>", "runs it executes at once (default: 10)", integer({ min: 1 }))
    .option("--queues <names>", "the queues it takes runs from, comma-separated (default: every queue of its workflows)")
    .option("--lease-duration <duration>", "how long a claimed run stays its own without a heartbeat (default: 30s)")
    .option("--poll-interval <duration>", "how often it looks for runs when no notification comes (default: 1s)")
    .addOption(new Option("--log-level <level>", "the least severe lines it prints").choices(LOG_LEVELS).default("info"))
    .addOption(new Option("--log-format <format>", "text lines, or one JSON object a line for a log aggregator").choices(LOG_FORMATS).default("text"))
    .option("--metrics-port <port>", "serve Prometheus metrics at /metrics on this port", integer({ min: 0, max: 65_535 }))
    .option("--metrics-host <host>", "the address the metrics server listens on (with --metrics-port)")
    .action(action(worker));
}

interface WorkerFlags {
  concurrency?: number;
  queues?: string;
  "lease-duration"?: string;
  "poll-interval"?: string;
  "log-level": LogLevel;
  "log-format": LogFormat;
  "metrics-port"?: number;
  "metrics-host"?: string;
}

async function worker({ values, positionals: [file] }: ActionInput<WorkerFlags>): Promise<void> {
  const { connectionString, schema } = resolveConnection(values);
  const entry = await loadWorkflows(file!);
  const alerts = entryAlerts(entry);
  const metricsPort = values["metrics-port"];
  if (values["metrics-host"] && metricsPort === undefined) throw new UsageError("--metrics-host needs --metrics-port");
  const logger = consoleLogger({ level: values["log-level"], format: values["log-format"] });
  const worker = new Worker({
    connectionString,
    ...(schema ? { schema } : {}),
    workflows: entry.workflows,
    ...(values.queues ? { queues: values.queues.split(",").map((q) => q.trim()) } : {}),
    ...(values.concurrency !== undefined ? { concurrency: values.concurrency } : {}),
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
