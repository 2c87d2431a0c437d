import type { Command, Option } from "commander";

/** `reprise runs list`: a command's name after its parents'. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/**
 * `<id> [--by NAME]`: a command's arguments and its own options (the connection flags are
 * the program's), as its usage line, the top-level help and usage errors print them. A
 * group of commands is `<list|show|…> …`.
 */
export function flagSummary(command: Command): string {
  if (command.commands.length > 0) return `<${command.commands.map((c) => c.name()).join("|")}> …`;
  const args = command.registeredArguments.map((a) => {
    const name = `${a.name()}${a.variadic ? "..." : ""}`;
    return a.required ? `<${name}>` : `[${name}]`;
  });
  return [...args, ...command.options.filter((o) => !o.hidden).map(optionSummary)].join(" ");
}

/** `[--status STATUS]`, `[--catchup none|latest|all]`, `[--port 54329]` (its default), `--from DATE` (required). */
function optionSummary(option: Option): string {
  const flag = option.long ?? option.short ?? option.flags;
  let text = flag;
  if (option.required || option.optional) {
    const choices = option.argChoices;
    const value =
      choices && choices.join("|").length <= 36
        ? choices.join("|")
        : option.defaultValue !== undefined && typeof option.defaultValue !== "boolean"
          ? String(option.defaultValue)
          : (/[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1] ?? "value").toUpperCase();
    text = `${flag} ${value}`;
  }
  return option.mandatory ? text : `[${text}]`;
}
