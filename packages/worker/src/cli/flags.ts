import { parseArgs } from "node:util";
import { InvalidArgumentError } from "commander";
import { UsageError } from "./cli-error.js";

const CONNECTION = { "database-url": { type: "string" }, schema: { type: "string" } } as const;

type FlagSpec = Record<string, { type: "string" | "boolean" }>;
type FlagValues<O extends FlagSpec> = { "database-url"?: string; schema?: string } & {
  [K in keyof O]?: O[K]["type"] extends "boolean" ? boolean : string;
};

/**
 * parseArgs with the connection flags every command takes, and one-line errors: how
 * commands were written before main.ts declared them with commander (see there how to
 * convert one).
 */
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
  if (!Number.isSafeInteger(n)) throw new UsageError(`--${name} must be an integer, got "${value}"`);
  return n;
}

/** The range of a Postgres `integer` column (priorities). */
export const INT4 = { min: -2_147_483_648, max: 2_147_483_647 } as const;

/**
 * An option's parser for an integer in a range: `.option("--limit <n>", "…", integer({ min: 1 }), 30)`.
 * A value out of range is refused here, before it can reach the database as one it cannot store.
 */
export function integer(range: { min?: number; max?: number } = {}): (value: string) => number {
  const { min, max } = range;
  const what =
    min !== undefined && max !== undefined ? `an integer from ${min} to ${max}` : min !== undefined ? `an integer of at least ${min}` : max !== undefined ? `an integer of at most ${max}` : "an integer";
  return (value) => {
    const n = Number(value);
    if (!/^\s*[-+]?\d+\s*$/.test(value) || !Number.isSafeInteger(n) || (min !== undefined && n < min) || (max !== undefined && n > max)) {
      // Said after the option's name: "--limit must be an integer of at least 1, got "0"".
      throw new InvalidArgumentError(`must be ${what}, got "${value}"`);
    }
    return n;
  };
}
