import { ValidationError } from "./errors.js";

/**
 * Anything with a `parse` method: a zod schema, or your own. When it also carries Standard
 * Schema types (zod does), `In` is what callers pass before parsing (defaults applied by
 * the schema are optional there).
 */
export interface Schema<T, In = T> {
  /** Returns the value, parsed, or throws; a throw becomes a `ValidationError` listing the issues. */
  parse(value: unknown): T;
  readonly "~standard"?: { readonly types?: { readonly input: In; readonly output: T } | undefined };
}

/**
 * Runs a schema's `parse`, turning its failure into a `ValidationError` that lists the issues.
 */
export function parseWith<T>(schema: Schema<T, unknown> | undefined, value: unknown, what: string): T {
  if (!schema) return value as T;
  try {
    return schema.parse(value);
  } catch (error) {
    throw new ValidationError(`invalid ${what}: ${describeIssues(error)}`, { cause: error, data: issuesOf(error) });
  }
}

interface Issue {
  path?: readonly PropertyKey[];
  message?: string;
}

function issuesOf(error: unknown): { issues: { path: string; message: string }[] } | undefined {
  const issues = (error as { issues?: Issue[] } | null)?.issues;
  if (!Array.isArray(issues)) return undefined;
  return { issues: issues.map((i) => ({ path: (i.path ?? []).map(String).join("."), message: String(i.message ?? "invalid") })) };
}

function describeIssues(error: unknown): string {
  const found = issuesOf(error);
  if (!found) return error instanceof Error ? error.message : String(error);
  const shown = found.issues.slice(0, 5).map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
  const more = found.issues.length > 5 ? ` (and ${found.issues.length - 5} more)` : "";
  return shown.join("; ") + more;
}
