import { toJsonText } from "../json.js";
import type { AnyWorkflow } from "../workflow.js";

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
  workflow: AnyWorkflow | undefined,
  where: string,
): string | undefined {
  const base = fixed && typeof fixed === "object" && !Array.isArray(fixed) ? (fixed as Record<string, unknown>) : {};
  const input = { ...base, scheduledAt: slot.toISOString() };
  const parsed = workflow ? workflow.parseInput(input) : input;
  return toJsonText(parsed, where);
}
