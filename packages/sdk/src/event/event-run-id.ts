import { createHash } from "node:crypto";

/**
 * The id of the run an event starts for a workflow: `evt:<event id>:<workflow>`, or, when
 * that would pass the 255 characters of a run id, `evt:` and the SHA-256 of both. `emit()`
 * in SQL derives the same (migration 0009), so an event started from SQL and again from a
 * client is still one run per workflow.
 */
export function eventRunId(eventId: string, workflow: string): string {
  const plain = `evt:${eventId}:${workflow}`;
  if (plain.length <= 255) return plain;
  return `evt:${createHash("sha256").update(`${eventId}\n${workflow}`, "utf8").digest("hex")}`;
}
