import { Command, Help } from "commander";
import { topLevelHelp } from "./top-level-help.js";
import { commandLineOutcome } from "./usage-errors.js";
import { flagSummary } from "./usage-line.js";

/** Declares a command on the `Command` made for it: description, arguments, options, action. */
export type DefineCommand = (command: Command) => void;

/**
 * The `reprise` program: the flags every command takes, help generated from each
 * command's definition, and commander's errors turned into exceptions (never
 * `process.exit`) so that `main()` returns the exit code.
 */
export function createProgram(commands: Readonly<Record<string, DefineCommand>>, version: string): Command {
  const program = new Command("reprise")
    .description("reprise — durable workflows on Postgres")
    .option("--database-url <url>", "the database (default: DATABASE_URL, then the database of a `reprise dev` running in this directory)")
    .option("--schema <name>", 'the schema of Reprise\'s tables (default: REPRISE_SCHEMA, then "reprise")')
    .option("--verbose", "print a failure's stack too")
    .version(version, "-v, --version", "print the version")
    .helpOption("-h, --help", "print this help")
    .showSuggestionAfterError(true)
    // Help goes where the commands' output goes; commander's errors are printed by main(), in one line.
    .configureOutput({
      writeOut: (text) => console.log(text.replace(/\n$/, "")),
      writeErr: () => undefined,
      outputError: () => undefined,
      // Wrapped to the terminal; else to COLUMNS (as tables are), else 80.
      getOutHelpWidth: () => (process.stdout.isTTY ? process.stdout.columns : Number(process.env.COLUMNS) || 80),
    })
    .configureHelp({
      showGlobalOptions: true,
      formatHelp: (command, helper) => (command.parent ? Help.prototype.formatHelp.call(helper, command, helper) : topLevelHelp(command, helper)),
    });
  for (const [name, define] of Object.entries(commands)) define(program.command(name));
  for (const command of [program, ...descendants(program)]) {
    if (command.parent) command.usage(command.commands.length > 0 ? "<command> [options]" : flagSummary(command));
    command.exitOverride((error) => {
      throw commandLineOutcome(error, command);
    });
  }
  return program;
}

function descendants(command: Command): Command[] {
  return command.commands.flatMap((c) => [c, ...descendants(c)]);
}
