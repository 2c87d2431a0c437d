import { EventKind, type DeadLetteredPayload } from "../events.js";
import { StepFailedError } from "../errors.js";
import { serializeError } from "../error-codec.js";
import { toJsonText } from "../json.js";
import type { DeadLetter, MapOptions, MapResult, StepContext } from "../workflow-types.js";
import type { ExecutionCore as Execution } from "./execution-core.js";
import { findKind } from "./history-index.js";
import { runStep } from "./step.js";

/**
 * `ctx.map`: one durable step per item at positions reserved up front (item i at base + i),
 * so positions do not depend on completion order; at most `concurrency` items in flight.
 */
export async function runMap<T, R>(
  ex: Execution,
  name: string,
  items: readonly T[],
  fn: (item: T, index: number, ctx: StepContext) => R | Promise<R>,
  options: MapOptions,
): Promise<MapResult<T, R>> {
  if (!Array.isArray(items)) throw new TypeError(`ctx.map("${name}") needs an array of items`);
  const concurrency = options.concurrency ?? 10;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new TypeError(`ctx.map("${name}"): concurrency must be an integer >= 1, got ${String(options.concurrency)}`);
  }
  const deadLetter = options.onItemFailure === "dead-letter";
  const base = ex.takePosition(items.length);
  const results: (R | undefined)[] = new Array<R | undefined>(items.length).fill(undefined);
  const deadLettered: DeadLetter<T>[] = [];
  const failures: { index: number; error: unknown }[] = [];
  let next = 0;

  const lane = async (): Promise<void> => {
    while (next < items.length && failures.length === 0) {
      const index = next++;
      const position = base + index;
      const item = items[index] as T;
      try {
        results[index] = await runStep<R>(ex, position, `${name}[${index}]`, (stepCtx) => fn(item, index, stepCtx), {
          ...(options.retry ? { retry: options.retry } : {}),
          ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
          ...(options.retryIf ? { retryIf: options.retryIf } : {}),
        });
      } catch (error) {
        if (deadLetter && error instanceof StepFailedError) deadLettered.push(recordDeadLetter(ex, position, name, index, item, error));
        else failures.push({ index, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  if (failures.length > 0) {
    failures.sort((a, b) => a.index - b.index);
    throw failures[0]!.error;
  }
  deadLettered.sort((a, b) => a.index - b.index);
  return { results, deadLettered };
}

function recordDeadLetter<T>(ex: Execution, position: number, map: string, index: number, item: T, error: StepFailedError): DeadLetter<T> {
  const recorded = findKind(ex.history.at(position), EventKind.DeadLettered);
  if (recorded) {
    const payload = recorded.payload as DeadLetteredPayload;
    return { runId: ex.runId, workflowName: ex.workflow.name, map, index, item, error: payload.error, createdAt: recorded.createdAt };
  }
  const serialized = serializeError(error.cause);
  let itemText: string | undefined;
  try {
    itemText = toJsonText(item, `item ${index} of map "${map}"`);
  } catch {
    itemText = JSON.stringify(String(item));
  }
  ex.record(EventKind.DeadLettered, position, `${map}[${index}]`, { map, index, error: serialized }, { item: itemText });
  return { runId: ex.runId, workflowName: ex.workflow.name, map, index, item, error: serialized };
}
