import { parseArgs } from "node:util";
import { UsageError } from "./cli-error.js";

const CONNECTION = { "database-url": { type: "string" }, schema: { type: "string" } } as const;

type FlagSpec = Record<string, { type: "string" | "boolean" }>;
type FlagValues<O extends FlagSpec> = { "database-url"?: string; schema?: string } & {
  [K in keyof O]?: O[K]["type"] extends "boolean" ? boolean : string;
};

/** parseArgs with the connection flags every command takes, and one-line errors. */
export function parseFlags<O extends FlagSpec>(args: string[], options: O): { values: FlagValues<O>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options: { ...CONNECTION, ...options }, allowPositionals: true, strict: true });
    return { values: values as FlagValues<O>, positionals };
  } catch (error) {
    throw new UsageError((error as Error).message.split("\n")[0]!);
  }
}

/** Parses a JSON argument, or fails with a message naming it. */
export function parseJsonArg(text: string | undefined, what: string): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`${what} is not valid JSON: ${(error as Error).message}`);
  }
}

/** An integer flag, or a one-line error. */
export function intFlag(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new UsageError(`--${name} must be an integer, got "${value}"`);
  return n;
}
