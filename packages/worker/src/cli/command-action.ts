import type { Command } from "commander";
import type { ConnectionFlags } from "./connection.js";

/** What every command's action gets: the flags the program takes, on top of its own. */
export type GlobalFlags = ConnectionFlags & { verbose?: boolean | undefined };

/** An action's input: flags by their long name (`values["batch-size"]`), and its arguments. */
export interface ActionInput<V> {
  values: V & GlobalFlags;
  positionals: string[];
  command: Command;
}

/**
 * Adapts an action to commander: its options, this command's and its ancestors' (the
 * connection flags), keyed as they are typed (`database-url`, not commander's
 * `databaseUrl`; `--no-dashboard` as `dashboard: false`), and its arguments.
 *
 * ```ts
 * command.argument("<id>").option("--by <name>").action(action<{ by?: string }>(async ({ values, positionals }) => …));
 * ```
 */
export function action<V extends object = object>(fn: (input: ActionInput<V>) => Promise<void>): (...args: unknown[]) => Promise<void> {
  return async (...args) => {
    const command = args[args.length - 1] as Command;
    await fn({ values: flagValues(command) as V & GlobalFlags, positionals: [...command.args], command });
  };
}

function flagValues(command: Command): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (let c: Command | null = command; c; c = c.parent) {
    const opts = c.opts();
    for (const option of c.options) {
      const key = option.negate ? option.name().replace(/^no-/, "") : option.name();
      if (!(key in values)) values[key] = opts[option.attributeName()];
    }
  }
  return values;
}
