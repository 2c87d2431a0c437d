import type { Command, CommanderError, Option } from "commander";
import { UsageError } from "./cli-error.js";
import { commandPath, flagSummary } from "./usage-line.js";

/** Ends a parse that has nothing to report: help or the version was printed. */
export class ExitEarly extends Error {
  override name = "ExitEarly";
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/**
 * What a commander error becomes (it is thrown from the `exitOverride` of `command`, the
 * command it arose in): help and version are an early exit; every mistake in the command
 * line a {@link UsageError} of one line, said as Reprise's own messages say things.
 */
export function commandLineOutcome(error: CommanderError, command: Command): Error {
  if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return new ExitEarly(0);
  // `help` with no command: 0; a group called without one of its commands: 1.
  if (error.code === "commander.help" && error.exitCode === 0) return new ExitEarly(0);
  if (error.code === "commander.help" && !command.parent) {
    console.log(command.helpInformation().trimEnd());
    return new ExitEarly(2);
  }
  return new UsageError(usageErrorLine(error, command));
}

function usageErrorLine(error: CommanderError, command: Command): string {
  const path = commandPath(command);
  const usage = `usage: ${path} ${flagSummary(command)}`;
  const [first = "", suggestion] = error.message.replace(/^error: /, "").split("\n");
  // "(Did you mean --status?)"
  const didYouMean = suggestion ? ` (${suggestion.replace(/^\((.*)\)$/, "$1").replace(/^Did/, "did")})` : "";
  switch (error.code) {
    case "commander.missingArgument":
    case "commander.help":
      return usage;
    case "commander.unknownCommand":
      return `${first}${didYouMean}; ${usage}`;
    case "commander.unknownOption":
      return didYouMean ? `${first}${didYouMean}` : `${first}; see ${path} --help`;
    case "commander.excessArguments":
      return `unexpected argument '${command.args[command.registeredArguments.length] ?? ""}'; ${usage}`;
    case "commander.missingMandatoryOptionValue":
      return `${path.replace(/^\S+ /, "")} needs ${command.options.filter((o) => o.mandatory).map((o) => o.long).join(" and ")}`;
    case "commander.optionMissingArgument":
      return first.replace(/ argument missing$/, " needs a value");
    case "commander.invalidArgument":
      return invalidValue(first, command);
    default:
      return first;
  }
}

/**
 * `--status must be one of open, acknowledged, resolved, got "closed"` for a value that
 * `.choices()` refused; `--limit must be an integer…` for one an option's parser refused
 * (its reason follows the option's name, see `integer()`).
 */
function invalidValue(message: string, command: Command): string {
  const refused = /^option '(.+?)' argument '(.*)' is invalid\. (.*)$/s.exec(message);
  const option = refused && optionsOf(command).find((o) => o.flags === refused[1]);
  if (refused && option) {
    const [, , value, reason] = refused;
    if (option.argChoices && reason!.startsWith("Allowed choices are")) return `${option.long} must be one of ${option.argChoices.join(", ")}, got "${value}"`;
    return `${option.long} ${reason}`;
  }
  return /is invalid(?: for argument '[^']*')?\. (.*)$/s.exec(message)?.[1] ?? message;
}

function optionsOf(command: Command): Option[] {
  const options: Option[] = [];
  for (let c: Command | null = command; c; c = c.parent) options.push(...c.options);
  return options;
}
