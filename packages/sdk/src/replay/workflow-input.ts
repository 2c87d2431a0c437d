import type { AnyWorkflow } from "../workflow-types.js";

/**
 * What the workflow function receives: the stored (JSON) input parsed again by the
 * workflow's schema — deterministic, so `z.coerce.date()` or defaults give the same values
 * on every replay — and, for a scheduled workflow without a schema, `scheduledAt` as a Date.
 * A stored input that today's schema rejects fails the run with that ValidationError.
 */
export function workflowInput(workflow: AnyWorkflow, stored: unknown): unknown {
  if (workflow.options.input) return workflow.parseInput(stored);
  const scheduledAt = (stored as { scheduledAt?: unknown } | null)?.scheduledAt;
  if (workflow.options.schedule && typeof scheduledAt === "string") {
    const at = new Date(scheduledAt);
    if (!Number.isNaN(at.getTime())) return { ...(stored as object), scheduledAt: at };
  }
  return stored;
}
