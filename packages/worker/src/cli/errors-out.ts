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
  return { line: firstLine(e?.message ?? String(error)), code: 1 };
}

function firstLine(text: string): string {
  return text.split("\n")[0]!.trim();
}
