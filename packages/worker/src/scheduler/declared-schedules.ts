import { type AnyWorkflow } from "@reprise/sdk";
import { resolveScheduleSpec, scheduleRow } from "@reprise/sdk/engine";
import type { ScheduleRow, Store } from "@reprise/store";
import type { WorkerLogger } from "../logger.js";

/**
 * Writes the schedules declared with `workflow({ schedule })` at a worker's start, in one
 * statement. The schedule's id is the workflow's name. The code's definition wins on every
 * start (a `client.schedules.update` of it lasts until the next worker start); the pause
 * state and the cursor are kept, so a restarted fleet still catches up what it missed. A
 * schedule created through the API under the same id is left alone, with a warning.
 * Removing `schedule` from the code does not delete the row: `reprise schedules delete <id>`.
 */
export async function syncDeclaredSchedules(store: Store, workflows: readonly AnyWorkflow[], logger: WorkerLogger): Promise<void> {
  const rows: ScheduleRow[] = [];
  for (const wf of workflows) {
    const declared = wf.options.schedule;
    if (!declared) continue;
    const spec = resolveScheduleSpec(declared, `workflow "${wf.name}"`);
    rows.push(scheduleRow(wf.name, wf.name, wf.queue, spec));
  }
  if (rows.length === 0) return;
  const outcomes = await store.schedules.syncDeclared(rows);
  for (const [id, outcome] of outcomes) {
    if (outcome === "conflict") {
      logger.warn(`workflow "${id}" declares a schedule, but a schedule "${id}" was created through the API: leaving that one as it is`);
    } else {
      logger.info(`schedule "${id}" ${outcome} from the code`);
    }
  }
}
