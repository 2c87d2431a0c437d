/**
 * The `reprise` CLI, on commander: each command is declared once (arguments, options with
 * their descriptions, defaults and choices), and its `--help`, the top-level help, "did
 * you mean" suggestions and the checks of arguments and choices come from that declaration.
 *
 * Adding a command — or converting one written as `(args: string[]) => Promise<void>` on
 * `parseFlags` — takes its file and one line here:
 *
 * ```ts
 * // emit.ts: declare it on the Command that main() made for it, and keep the old body.
 * export function emitCommand(command: Command): void {
 *   command
 *     .description("delivers an event to the runs waiting for it")
 *     .argument("<name>", "the event's name")            // was positionals[0]
 *     .argument("[json]", "its payload, as JSON")        // was positionals[1]
 *     .option("--id <id>", "an id that makes a second emit of it a no-op")   // was { id: { type: "string" } }
 *     .action(action<{ id?: string }>(async ({ values, positionals }) => {
 *       const [name, json] = positionals;   // values: the flags by name, `values["database-url"]` too
 *       …the body as it was after parseFlags…
 *     }));
 * }
 * // main.ts, in `commands`:  emit: emitCommand,
 * ```
 *
 * A group (`reprise events list`) declares its commands on the one it gets:
 * `command.description("…"); command.command("list").description("…").option(…).action(…)`.
 * Booleans are `.option("--json", "…")`; a default is the last argument of `.option()`; a
 * choice, `.addOption(new Option("--status <status>", "…").choices(STATUSES))`; a number,
 * `.option("--limit <n>", "…", integer({ min: 1 }), 30)` (flags.ts), which `values` then holds
 * as a number; a required flag, `.requiredOption()`.
 * `--database-url`, `--schema` and `--verbose` are the program's: every command has them.
 * Missing arguments, unknown options and refused choices print one line and exit 2 before
 * the action runs; a `UsageError` thrown by the action does the same, any other error
 * exits 1 with one line (see errors-out.ts).
 */
import { readFileSync } from "node:fs";
import { alertsCommand } from "./alerts.js";
import { dashboardCommand } from "./dashboard-command.js";
import { devCommand } from "./dev.js";
import { dlqCommand } from "./dlq.js";
import { emitCommand, eventsCommand } from "./events.js";
import { describeFailure } from "./errors-out.js";
import { migrateCommand } from "./migrate-command.js";
import { createProgram, type DefineCommand } from "./program.js";
import { replayCommand } from "./replay-command.js";
import { runsCommand } from "./runs.js";
import { schedulesCommand } from "./schedules.js";
import { statsCommand } from "./stats.js";
import { versionsCommand } from "./versions.js";
import { ExitEarly } from "./usage-errors.js";
import { workerCommand } from "./worker-command.js";

/** Every command, in the order the top-level help lists them. */
const commands: Record<string, DefineCommand> = {
  dev: devCommand,
  worker: workerCommand,
  migrate: migrateCommand,
  runs: runsCommand,
  dlq: dlqCommand,
  schedules: schedulesCommand,
  emit: emitCommand,
  events: eventsCommand,
  versions: versionsCommand,
  alerts: alertsCommand,
  stats: statsCommand,
  replay: replayCommand,
  dashboard: dashboardCommand,
};

/** Runs the CLI; returns the exit code. Failures print one line (a stack only with --verbose). */
export async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes("--verbose");
  try {
    await createProgram(commands, version()).parseAsync(argv, { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof ExitEarly) return error.code;
    const { line, code } = describeFailure(error);
    console.error(`reprise: ${line}`);
    if (verbose && error instanceof Error && error.stack) console.error(error.stack);
    return code;
  }
}

function version(): string {
  return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
}
