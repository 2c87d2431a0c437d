import type { AnyWorkflow } from "@reprise/sdk";
import type { DeclaredWorkflow, Store } from "@reprise/store";
import type { WorkerLogger } from "../logger.js";

/**
 * Writes the workflows a worker runs into the registry at its start, with the events that
 * start them (`workflow({ on })`), in one statement — as the scheduler writes declared
 * schedules. The registry is what a start by definition is checked against, and what
 * `emit()` in SQL starts runs from. A draining worker (an older version than the newest
 * live one) does not write: the newest code's declarations stand during a deploy.
 */
export async function declareWorkflows(store: Store, workflows: readonly AnyWorkflow[], version: string | undefined, logger: WorkerLogger): Promise<void> {
  const rows: DeclaredWorkflow[] = workflows.map((wf) => ({
    name: wf.name,
    queue: wf.queue,
    priority: wf.options.priority ?? 0,
    timeoutMs: wf.timeoutMs,
    fingerprint: wf.fingerprint,
    versioning: wf.versioning,
    hasInputSchema: wf.options.input !== undefined,
    version,
    triggers: wf.triggers,
  }));
  const changes = await store.fleet.declare(rows);
  for (const change of changes) {
    logger.info(`trigger ${change.change === "added" ? "declared" : "dropped"}: event "${change.event}" ${change.change === "added" ? "starts" : "no longer starts"} workflow "${change.workflow}"`);
  }
}
