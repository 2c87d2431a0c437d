import { createHash } from "node:crypto";
import { toMillisOrUndefined } from "./duration.js";
import { ValidationError } from "./errors.js";
import { checkEventName } from "./event/event-name.js";
import { resolveRetryPolicy } from "./retry.js";
import { queue as defineQueue } from "./queue.js";
import { resolveScheduleSpec } from "./schedule/resolve-spec.js";
import { parseWith } from "./schema.js";
import type {
  AnyWorkflowRef,
  ImplementationOptions,
  Versioning,
  Workflow,
  WorkflowContract,
  WorkflowDefinition,
  WorkflowFunction,
  WorkflowOptions,
  WorkflowRef,
} from "./workflow-types.js";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:\-/]{0,199}$/;
const VERSIONING: readonly Versioning[] = ["auto-upgrade", "pinned"];
/** The options a definition fixes: an implementation may not say otherwise. */
const CONTRACT_KEYS = ["name", "input", "output", "queue", "timeout", "priority", "signals"] as const;
const registry = new Map<string, AnyWorkflowRef>();

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
 *
 * Or implements a definition made with {@link defineWorkflow}, typed by it:
 *
 * ```ts
 * export const checkoutWorkflow = workflow(checkout, { retry: { maxAttempts: 5 } }, async (ctx, { orderId }) => …);
 * ```
 */
export function workflow<I, O, In>(definition: WorkflowDefinition<I, O, In>, fn: WorkflowFunction<I, O>): Workflow<I, O, In>;
export function workflow<I, O, In>(definition: WorkflowDefinition<I, O, In>, options: ImplementationOptions<I, O, In>, fn: WorkflowFunction<I, O>): Workflow<I, O, In>;
export function workflow<I = unknown, O = unknown, In = I>(options: WorkflowOptions<I, O, In>, fn: WorkflowFunction<I, O>): Workflow<I, O, In>;
export function workflow(
  first: WorkflowOptions<unknown, unknown, unknown> | WorkflowDefinition,
  second: WorkflowFunction<unknown, unknown> | ImplementationOptions<unknown, unknown, unknown>,
  third?: WorkflowFunction<unknown, unknown>,
): Workflow {
  if (isDefinition(first)) {
    const fn = typeof second === "function" ? second : third;
    return implement(first, fn, typeof second === "function" ? undefined : second);
  }
  return define(first, second as WorkflowFunction<unknown, unknown>);
}

/**
 * Declares a workflow's name and types (and its input schema) apart from its code, for a
 * service that starts runs without importing the worker's code. The worker implements it
 * with `workflow(definition, fn)` or `definition.implement(fn)`.
 *
 * ```ts
 * // shared/checkout.ts — imported by the web service and by the worker
 * export const checkout = defineWorkflow<{ orderId: string }, Receipt>({ name: "checkout", input: OrderSchema });
 * // web service
 * const receipt: Receipt = await client.run(checkout, { orderId: "A-1" });
 * ```
 *
 * Starting a definition whose name no worker has declared yet is an `UnknownWorkflowError`
 * (unless `allowUndeclared`): a run of it would wait for a worker that does not exist.
 */
export function defineWorkflow<I = unknown, O = unknown, In = I>(options: WorkflowContract<I, O, In>): WorkflowDefinition<I, O, In> {
  const contract = resolveContract(options);
  const definition: WorkflowDefinition<I, O, In> = Object.freeze({
    ...contract,
    options,
    fingerprint: undefined,
    implement: (fn: WorkflowFunction<I, O>, extra?: ImplementationOptions<I, O, In>) => implement(definition, fn, extra),
  });
  // An implementation of the name in this process says more (its signal schemas, its code).
  if (!isImplementation(registry.get(contract.name))) registry.set(contract.name, definition as AnyWorkflowRef);
  return definition;
}

function implement<I, O, In>(definition: WorkflowDefinition<I, O, In>, fn: WorkflowFunction<I, O> | undefined, extra: ImplementationOptions<I, O, In> | undefined): Workflow<I, O, In> {
  for (const key of CONTRACT_KEYS) {
    if (extra && key in extra) {
      throw new ValidationError(`workflow "${definition.name}": "${key}" belongs to its definition (defineWorkflow), not to its implementation`);
    }
  }
  return define({ ...(extra ?? {}), ...definition.options } as WorkflowOptions<I, O, In>, fn as WorkflowFunction<I, O>);
}

function define<I, O, In>(options: WorkflowOptions<I, O, In>, fn: WorkflowFunction<I, O>): Workflow<I, O, In> {
  const contract = resolveContract(options);
  if (typeof fn !== "function") throw new ValidationError(`workflow "${options.name}" needs a function`);
  // Resolve once so a bad policy or duration fails at definition time, not mid-run.
  resolveRetryPolicy(options.retry);
  if (options.schedule !== undefined) resolveScheduleSpec(options.schedule, `workflow "${options.name}"`);
  const where = `workflow "${options.name}"`;
  const on = options.on === undefined ? [] : typeof options.on === "string" ? [options.on] : options.on;
  if (!Array.isArray(on)) throw new ValidationError(`${where}: on must be an event name or a list of them, got ${JSON.stringify(options.on)}`);
  const triggers = [...new Set(on.map((name: unknown) => checkEventName(name, where)))];
  const versioning = options.versioning ?? "auto-upgrade";
  if (!VERSIONING.includes(versioning)) {
    throw new ValidationError(`${where}: versioning must be "auto-upgrade" or "pinned", got ${JSON.stringify(options.versioning)}`);
  }
  const def: Workflow<I, O, In> = Object.freeze({
    ...contract,
    options,
    fn,
    fingerprint: createHash("sha256").update(fn.toString()).digest("hex").slice(0, 16),
    triggers: Object.freeze(triggers),
    versioning,
  });
  registry.set(def.name, def as unknown as AnyWorkflowRef);
  return def;
}

/** What a definition and an implementation share: the checked name, queue, timeout and input parser. */
function resolveContract<I, O, In>(options: WorkflowContract<I, O, In>): Pick<WorkflowRef<I, O, In>, "name" | "queue" | "queueDefinition" | "timeoutMs" | "parseInput"> {
  if (typeof options?.name !== "string" || !NAME.test(options.name)) {
    throw new ValidationError(
      `workflow name ${JSON.stringify(options?.name)} is invalid: use 1-200 letters, digits and _ . : - /, starting with a letter or digit`,
    );
  }
  const queueDefinition = typeof options.queue === "object" && options.queue !== null ? options.queue : undefined;
  const queue = queueDefinition ? queueDefinition.name : (options.queue ?? "default");
  if (typeof queue !== "string" || !NAME.test(queue)) {
    throw new ValidationError(`workflow "${options.name}": queue name ${JSON.stringify(queue)} is invalid`);
  }
  if (queueDefinition) defineQueue(queueDefinition.name); // a hand-made object must still be a valid queue
  const timeoutMs = toMillisOrUndefined(options.timeout);
  const name = options.name;
  return { name, queue, queueDefinition, timeoutMs, parseInput: (input: unknown) => parseWith(options.input, input, `input of workflow "${name}"`) };
}

function isDefinition(value: unknown): value is WorkflowDefinition {
  const v = value as { implement?: unknown; fn?: unknown } | null;
  return typeof v === "object" && v !== null && typeof v.implement === "function" && typeof v.fn !== "function";
}

/** True for a workflow with its code (from `workflow()`), false for a definition. */
export function isImplementation(value: unknown): value is Workflow {
  return typeof (value as { fn?: unknown } | null | undefined)?.fn === "function";
}

/** The most recent definition or implementation with this name in this process, if any (used to validate inputs and signals). */
export function findWorkflow(name: string): AnyWorkflowRef | undefined {
  return registry.get(name);
}
