import { createHash } from "node:crypto";
import { toMillisOrUndefined } from "./duration.js";
import { ValidationError } from "./errors.js";
import { resolveRetryPolicy } from "./retry.js";
import { queue as defineQueue } from "./queue.js";
import { resolveScheduleSpec } from "./schedule/resolve-spec.js";
import { parseWith } from "./schema.js";
import type { AnyWorkflow, Workflow, WorkflowFunction, WorkflowOptions } from "./workflow-types.js";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:\-/]{0,199}$/;
const registry = new Map<string, AnyWorkflow>();

/**
 * Defines a durable workflow.
 *
 * ```ts
 * export const greet = workflow({ name: "greet", input: z.object({ who: z.string() }) }, async (ctx, { who }) => {
 *   const text = await ctx.step("compose", () => `hello ${who}`);
 *   await ctx.step("send", () => mailer.send(text));
 *   return text;
 * });
 * ```
 */
export function workflow<I = unknown, O = unknown, In = I>(options: WorkflowOptions<I, O, In>, fn: WorkflowFunction<I, O>): Workflow<I, O, In> {
  if (typeof options?.name !== "string" || !NAME.test(options.name)) {
    throw new ValidationError(
      `workflow name ${JSON.stringify(options?.name)} is invalid: use 1-200 letters, digits and _ . : - /, starting with a letter or digit`,
    );
  }
  if (typeof fn !== "function") throw new ValidationError(`workflow "${options.name}" needs a function`);
  const queueDefinition = typeof options.queue === "object" && options.queue !== null ? options.queue : undefined;
  const queue = queueDefinition ? queueDefinition.name : (options.queue ?? "default");
  if (typeof queue !== "string" || !NAME.test(queue)) {
    throw new ValidationError(`workflow "${options.name}": queue name ${JSON.stringify(queue)} is invalid`);
  }
  if (queueDefinition) defineQueue(queueDefinition.name); // a hand-made object must still be a valid queue
  // Resolve once so a bad policy or duration fails at definition time, not mid-run.
  resolveRetryPolicy(options.retry);
  const timeoutMs = toMillisOrUndefined(options.timeout);
  if (options.schedule !== undefined) resolveScheduleSpec(options.schedule, `workflow "${options.name}"`);
  const def: Workflow<I, O, In> = Object.freeze({
    name: options.name,
    queue,
    queueDefinition,
    options,
    fn,
    fingerprint: createHash("sha256").update(fn.toString()).digest("hex").slice(0, 16),
    timeoutMs,
    parseInput: (input: unknown) => parseWith(options.input, input, `input of workflow "${options.name}"`),
  });
  registry.set(def.name, def);
  return def;
}


/** The most recent definition with this name in this process, if any (used to validate signals). */
export function findWorkflow(name: string): Workflow<unknown, unknown> | undefined {
  return registry.get(name);
}
