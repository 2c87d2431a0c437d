import { isConnectionError } from "@reprise/store";
import { UsageError } from "./cli-error.js";

/** The one line a failed command prints (and its exit code). */
export function describeFailure(error: unknown): { line: string; code: number } {
  if (error instanceof UsageError) return { line: firstLine(error.message), code: 2 };
  const e = error as { message?: string; cause?: unknown; code?: unknown };
  const root = (e?.cause as { code?: unknown; message?: string } | undefined) ?? e;
  if (isConnectionError(root) || isConnectionError(error)) {
    const code = typeof root?.code === "string" ? ` (${root.code})` : "";
    return { line: `cannot reach the database${code}: ${firstLine(root?.message ?? String(error))}`, code: 1 };
  }
  const sqlState = typeof root?.code === "string" && /^[0-9A-Z]{5}$/.test(root.code) ? root.code : undefined;
  // Invalid authorization (28…), no such database (3D000): it answered, and refused.
  if (sqlState && (sqlState.startsWith("28") || sqlState === "3D000")) {
    return { line: `the database refused the connection (${sqlState}): ${firstLine(root?.message ?? "")}`, code: 1 };
  }
  // A data exception (22…: a number out of range, text that is no bigint) is a value the
  // CLI should have refused before sending it; Postgres' words for it would only puzzle.
  if (sqlState?.startsWith("22")) {
    return { line: `the database refused a value that reprise should have checked first (SQLSTATE ${sqlState}): please report it (--verbose shows the database's message)`, code: 1 };
  }
  return { line: firstLine(e?.message ?? String(error)), code: 1 };
}

function firstLine(text: string): string {
  return text.split("\n")[0]!.trim();
}
