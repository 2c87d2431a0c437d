import { ValidationError } from "./errors.js";
import { unstorableIn } from "./json.js";

const NEW_ID = /^[A-Za-z0-9][A-Za-z0-9_.:\-/@+=]{0,254}$/;
const MAX_ID_LENGTH = 255;

/**
 * Checks a run id given to look a run up (status, signal, cancel, retry, fork, history, …):
 * a non-empty string of at most 255 characters that Postgres can store. Anything else is a
 * `ValidationError` naming what was given — never coerced to `"[object Object]"` nor sent
 * to the database to fail there. An id that passes but names no run is `RunNotFoundError`.
 */
export function runIdOf(value: unknown, what = "run id"): string {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_ID_LENGTH) {
    throw new ValidationError(`${what} must be a non-empty string of at most ${MAX_ID_LENGTH} characters, got ${describe(value)}`);
  }
  const unstorable = unstorableIn(value);
  if (unstorable) throw new ValidationError(`${what} ${JSON.stringify(value)} is invalid: it holds ${unstorable}`);
  return value;
}

/** Checks the id of a run about to be created (`start`, `fork`): letters, digits and `_ . : - / @ + =`. */
export function newRunId(value: unknown): string {
  if (typeof value !== "string" || !NEW_ID.test(value)) {
    throw new ValidationError(`run id ${describe(value)} is invalid: use 1-255 letters, digits and _ . : - / @ + =`);
  }
  return value;
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || typeof value !== "object") return String(value);
  return Array.isArray(value) ? "an array" : "an object";
}
