import { toJsonText } from "../json.js";
import type { AnyWorkflowRef } from "../workflow-types.js";

/**
 * The run id of a schedule's slot: `sched:<scheduleId>:<slot as ISO-8601 UTC>`. Every
 * scheduler, backfill and retry derives the same id for the same slot, and starting an
 * existing id creates nothing, so a slot is one run whatever happens.
 */
export function slotRunId(scheduleId: string, slot: Date): string {
  return `sched:${scheduleId}:${slot.toISOString()}`;
}

/**
 * The input of a slot's run: the schedule's fixed input plus `scheduledAt`, the slot as an
 * ISO-8601 string (run inputs are JSON). Validated by the workflow's input schema when the
 * definition is known here.
 *
 * @returns JSON text.
 * @throws ValidationError when the workflow's schema refuses it.
 */
export function scheduledInput(
  fixed: unknown,
  slot: Date,
  workflow: AnyWorkflowRef | undefined,
  where: string,
): string | undefined {
  const base = fixed && typeof fixed === "object" && !Array.isArray(fixed) ? (fixed as Record<string, unknown>) : {};
  const input = { ...base, scheduledAt: slot.toISOString() };
  const parsed = workflow ? workflow.parseInput(input) : input;
  return toJsonText(parsed, where);
}

/**
 * The run a schedule starts for a slot: its id derived from the slot, the schedule's queue
 * (else the workflow's), and the workflow's priority, timeout and fingerprint when its
 * definition is known here.
 *
 * @param input the slot's input as JSON text (see {@link scheduledInput})
 */
export function slotRun(
  schedule: { id: string; workflow: string; queue: string | null },
  slot: Date,
  input: string | undefined,
  workflow: AnyWorkflowRef | undefined,
): { id: string; workflow: string; queue: string; input: string | undefined; priority: number | undefined; timeoutMs: number | undefined; fingerprint: string | undefined } {
  return {
    id: slotRunId(schedule.id, slot),
    workflow: schedule.workflow,
    queue: schedule.queue ?? workflow?.queue ?? "default",
    input,
    priority: workflow?.options.priority,
    timeoutMs: workflow?.timeoutMs,
    fingerprint: workflow?.fingerprint,
  };
}
