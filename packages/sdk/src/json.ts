import { SerializationError } from "./errors.js";

/** A value as it is stored: JSON. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function describe(value: unknown): string {
  if (typeof value === "bigint") return "a BigInt";
  if (typeof value === "function") return "a function";
  if (typeof value === "symbol") return "a symbol";
  if (typeof value === "number") return String(value);
  const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
  return ctor ? `an instance of ${ctor}` : "an object without a prototype";
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null || Array.isArray(value);
}

/**
 * Serialises `value` to JSON text, refusing what JSON would silently change or drop:
 * functions, symbols, BigInts, NaN and Infinity, and class instances (a `Map` would become
 * `{}`). Objects with a `toJSON` method (a `Date`) are stored as its result. `undefined`
 * at the top level is stored as no value.
 *
 * @throws SerializationError naming what was found and where (`what` says whose value it is).
 */
export function toJsonText(value: unknown, what: string): string | undefined {
  if (value === undefined) return undefined;
  // Primitives need no walk (most step results are small and flat).
  if (typeof value === "string") {
    checkString(value, what, "value");
    return JSON.stringify(value);
  }
  if (value === null || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value))) {
    return JSON.stringify(value);
  }
  // The replacer sees one key at a time; remember each container's path to name the culprit.
  const paths = new WeakMap<object, string>();
  const replacer = function (this: unknown, key: string, converted: unknown): unknown {
    const holder = this as Record<string, unknown> | undefined;
    const base = (holder && paths.get(holder)) ?? "";
    const path = key === "" ? "value" : Array.isArray(holder) ? `${base}[${key}]` : `${base}.${key}`;
    const bad = () => new SerializationError(`${what} is not JSON-serialisable: ${describe(converted)} at ${path}`);
    if (key !== "") checkString(key, what, `the key of ${path}`);
    switch (typeof converted) {
      case "string":
        checkString(converted, what, path);
        return converted;
      case "function":
      case "symbol":
      case "bigint":
        throw bad();
      case "number":
        if (!Number.isFinite(converted)) throw bad();
        return converted;
      case "object":
        if (converted === null) return null;
        // A toJSON method (Date) has already run; what is left must be a plain object or array.
        if (!isPlain(converted)) throw bad();
        paths.set(converted, path);
        return converted;
      default:
        return converted;
    }
  };
  try {
    return JSON.stringify(value, replacer);
  } catch (error) {
    if (error instanceof SerializationError) throw error;
    // Circular structures and throwing toJSON methods land here.
    throw new SerializationError(`${what} is not JSON-serialisable: ${(error as Error).message}`, { cause: error });
  }
}

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, "g");

/**
 * Postgres refuses the NUL character in jsonb and text, and a lone UTF-16 surrogate in
 * jsonb: such a string would make the append fail after the step ran, every time it ran.
 */
function checkString(text: string, what: string, where: string): void {
  const unstorable = unstorableIn(text);
  if (unstorable) throw new SerializationError(`${what} cannot be stored: a string with ${unstorable} at ${where}`);
}

/** What in `text` Postgres would refuse to store (a NUL, a lone surrogate), or undefined. */
export function unstorableIn(text: string): string | undefined {
  if (text.includes("\u0000")) return "a NUL character (\\u0000)";
  if (LONE_SURROGATE.test(text)) return "a lone UTF-16 surrogate";
  return undefined;
}

/** Replaces what Postgres cannot store in text (NUL, lone surrogates) with U+FFFD — for log lines. */
export function storableText(text: string): string {
  return text.replaceAll("\u0000", "\uFFFD").replace(LONE_SURROGATES, "\uFFFD");
}

/**
 * The JSON text of `fields` with each of `raw` spliced in as already-serialised JSON text
 * (a step result, a run's output): a value is serialised once, never parsed back to be
 * embedded. `undefined` entries are left out.
 */
export function rawJsonFields(fields: object, raw: Record<string, string | undefined>): string {
  let text = JSON.stringify(fields);
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    text = `${text.slice(0, -1)}${text.length > 2 ? "," : ""}${JSON.stringify(key)}:${value}}`;
  }
  return text;
}

/** Parses stored JSON text back (`undefined` stays `undefined`). */
export function fromJsonText<T = unknown>(text: string | undefined): T {
  return (text === undefined ? undefined : JSON.parse(text)) as T;
}
