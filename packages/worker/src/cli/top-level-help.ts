import type { Command, Help } from "commander";
import { commandPath, flagSummary } from "./usage-line.js";

/**
 * `reprise --help`: every command (each command of a group on its own line) with its
 * arguments and flags, what it does, and the flags every command takes.
 */
export function topLevelHelp(program: Command, helper: Help): string {
  const width = Math.max(60, helper.helpWidth ?? 80);
  const lines = [program.description(), "", `Usage: ${program.name()} <command> [options]`, "", "Commands:"];
  for (const command of leaves(program)) {
    const name = commandPath(command).slice(program.name().length + 1);
    // A flag and its value stay on one line: `[--status STATUS]`.
    const words = [name, ...(flagSummary(command).match(/\[[^\]]*\]|<[^>]*>|\S+/g) ?? [])];
    lines.push(...wrap(words, width, 2, 3 + name.length));
    lines.push(...wrap((command.summary() || command.description()).split(" "), width, 4, 4));
  }
  const options = helper.visibleOptions(program);
  const termWidth = Math.max(...options.map((o) => helper.optionTerm(o).length));
  lines.push("", "Every command takes:");
  for (const option of options) lines.push(helper.formatItem(helper.optionTerm(option), termWidth, helper.optionDescription(option), helper));
  lines.push("", `${program.name()} <command> --help shows a command's arguments and options in full.`, "");
  return lines.join("\n");
}

function leaves(command: Command): Command[] {
  return command.commands.flatMap((c) => (c.commands.length > 0 ? leaves(c) : [c]));
}

/** Wraps `words` to `width`: the first line indented by `first`, the others by `rest`. */
function wrap(words: string[], width: number, first: number, rest: number): string[] {
  const lines: string[] = [];
  let line = " ".repeat(first);
  let empty = true;
  for (const word of words) {
    if (!empty && line.length + 1 + word.length > width) {
      lines.push(line);
      line = " ".repeat(rest);
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(line);
  return lines;
}
