import { readFileSync } from "node:fs";
import { alertsCommand } from "./alerts.js";
import { UsageError } from "./cli-error.js";
import { dashboardCommand } from "./dashboard-command.js";
import { devCommand } from "./dev.js";
import { dlqCommand } from "./dlq.js";
import { emitCommand, eventsCommand } from "./events.js";
import { describeFailure } from "./errors-out.js";
import { migrateCommand } from "./migrate-command.js";
import { replayCommand } from "./replay-command.js";
import { runsCommand } from "./runs.js";
import { schedulesCommand } from "./schedules.js";
import { versionsCommand } from "./versions.js";
import { statsCommand } from "./stats.js";
import { workerCommand } from "./worker-command.js";

const HELP = `reprise — durable workflows on Postgres

Usage:
  reprise dev [entry] [--port 54329]           embedded Postgres in .reprise/, a worker for entry's workflows
  reprise worker <entry> [--concurrency N] [--metrics-port 9464 [--metrics-host H]]
                                               a production worker (DATABASE_URL); Prometheus at /metrics
  reprise migrate [--app-role ROLE]            apply the store's migrations (--app-role: grant ROLE what running needs, no way to change the log)
  reprise runs list [--status S] [--workflow W] [--limit N]
  reprise runs show <id>                       the run's timeline: steps, attempts, durations, errors, the step in flight
  reprise runs logs <id> [--follow] [--step S] [--limit N] [--json]
                                               a run's ctx.log lines; --follow prints new ones until the run ends
  reprise runs start <workflow> [json] [--id ID] [--entry file] [--delay 10s] [--priority N] [--force]
  reprise runs retry <id> | cancel <id> [--reason R] | fork <id> --from <step> [--id ID]
  reprise runs signal <id> <name> [json] [--entry file]   (--entry: check the payload with the workflow's schema)
  reprise dlq list [--workflow W] [--run R]    items ctx.map dead-lettered
  reprise dlq retry <id>                       redrive one: it runs again, its map's other items keep their results
  reprise schedules list [--workflow W]        next fire times (in each schedule's zone), last outcome, paused
  reprise schedules show <id>                  the timetable and the recent slots: when each run started, how long it took
  reprise schedules create <id> --workflow W (--cron EXPR | --every 1h) [--timezone TZ] [--catchup none|latest|all]
                           [--overlap allow|skip|buffer-one|cancel-other] [--input json] [--paused]
  reprise schedules pause <id> | resume <id> | trigger <id> | delete <id>
  reprise schedules backfill <id> --from 2026-01-01 --to 2026-01-07 [--batch-size 500] [--entry file]
  reprise emit <name> [json] [--id ID] [--entry file]   emit an event: starts each workflow declared with on: name, once per event id
  reprise events list [--name N] [--limit N] [--json]   emitted events and the runs each started (or why it started none)
  reprise events show <id>                     one event: its payload and runs
  reprise versions [--json]                    deployment versions: open runs (pinned ones), live workers; when an old version can go
  reprise alerts list [--status open|acknowledged|resolved] [--json]
                                               alerts of the workers' alert rules, with each channel's delivery state
  reprise alerts ack <id> [--by NAME]          acknowledge: someone is on it, it does not escalate
  reprise alerts resolve <id>                  resolve it: the next occurrence opens a new alert
  reprise stats [--since 7d] [--workflow W] [--json]
                                               success rate, retries, time to recovery, p50/p95 durations per workflow
  reprise replay <id | history.json> [--entry file] [--until N] [--export out.json] [--break-on-failure] [--inspect]
                                               replay a run against today's code, from the database or a file
  reprise replay --workflow <name> --since 7d [--entry file]
                                               the deploy gate: fails if a recent run would diverge
  reprise dashboard [--port 7777] [--host 127.0.0.1] [--token T] [--entry file]
                                               the web dashboard (any host but loopback needs a token)

Every command takes --database-url (default: DATABASE_URL, then the database of a
\`reprise dev\` running in this directory), --schema (default: reprise) and --verbose.`;

type Command = (args: string[]) => Promise<void>;

const commands: Record<string, Command> = {
  dev: devCommand,
  worker: workerCommand,
  migrate: migrateCommand,
  runs: runsCommand,
  dlq: dlqCommand,
  schedules: schedulesCommand,
  alerts: alertsCommand,
  stats: statsCommand,
  replay: replayCommand,
  emit: emitCommand,
  events: eventsCommand,
  versions: versionsCommand,
  dashboard: dashboardCommand,
};


/** Runs the CLI; returns the exit code. Failures print one line (a stack only with --verbose). */
export async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes("--verbose");
  const args = argv.filter((a) => a !== "--verbose");
  const [name, ...rest] = args;
  try {
    if (!name || name === "help" || name === "--help" || name === "-h") {
      console.log(HELP);
      return name ? 0 : 2;
    }
    if (name === "--version" || name === "-v") {
      const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
      console.log(pkg.version);
      return 0;
    }
    const command = commands[name];
    if (!command) throw new UsageError(`unknown command "${name}" (see reprise --help)`);
    await command(rest);
    return 0;
  } catch (error) {
    const { line, code } = describeFailure(error);
    console.error(`reprise: ${line}`);
    if (verbose && error instanceof Error && error.stack) console.error(error.stack);
    return code;
  }
}
