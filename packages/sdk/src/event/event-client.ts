import type { EventTargetRun, RunPayload, Store, StoredEvent } from "@reprise/store";
import { ValidationError } from "../errors.js";
import { deserializeError, serializeError, type SerializedError } from "../error-codec.js";
import { newId } from "../ids.js";
import { toJsonText } from "../json.js";
import { checkSize, placeValue, utf8Length, type PayloadLimits } from "../payload.js";
import { RunHandle } from "../run-handle.js";
import { findWorkflow, isImplementation } from "../workflow.js";
import { checkEventId, checkEventName } from "./event-name.js";
import { eventRunId } from "./event-run-id.js";

/** Options of `client.emit`. */
export interface EmitOptions {
  /**
   * The event's id, and its idempotency key: one run per (event id, workflow) however often
   * it is emitted. An id names one event: emitting it again keeps the first payload.
   * @default a ULID
   */
  id?: string;
}

/** A workflow whose input schema refused an event's payload: no run of it was started. */
export interface InvalidEventTarget {
  workflowName: string;
  error: ValidationError;
}

/** What `client.emit` did. */
export interface EmitResult {
  eventId: string;
  /** One run per workflow the event starts (those an earlier emission of this id started included). */
  runs: RunHandle[];
  /** Workflows whose schema refused the payload (checked here when their definition is known in this process). */
  invalid: InvalidEventTarget[];
  /** True when the id had been emitted before: its first payload is the event's, and only what it had not started yet was started. */
  duplicate: boolean;
}

/** What an emitted event did for one workflow it matched. */
export interface EventRunInfo {
  workflowName: string;
  /** The run it started (absent when the payload was refused). */
  runId?: string;
  /** The run's status now (absent when there is no run, or it was pruned). */
  status?: string;
  /** Why no run was started: the schema's refusal. */
  error?: SerializedError;
}

/** An emitted event, as `client.events.list()` shows it. */
export interface EmittedEvent {
  id: string;
  name: string;
  /** Left out of lists when over 256 KiB: `client.events.get(id)` has it. */
  payload?: unknown;
  payloadBytes: number;
  /** `"client"`: `client.emit` or `reprise emit`; `"sql"`: `emit()` in SQL. */
  source: "client" | "sql";
  emittedAt: Date;
  runs: EventRunInfo[];
}

/** What the events client needs of its `Client`. */
export interface EventClientDeps {
  call<T>(fn: (store: Store) => Promise<T>): Promise<T>;
  handle(runId: string): RunHandle;
  payloads: PayloadLimits;
}

/**
 * Events: `client.emit(name, payload, { id })` starts the workflows declared with
 * `on: name`; `client.events.list()` shows what each event started.
 *
 * ```ts
 * const { runs, invalid } = await client.emit("order.created", { orderId: "A-1" }, { id: "order-A-1" });
 * for (const e of await client.events.list({ name: "order.created" })) console.log(e.id, e.runs);
 * ```
 */
export class EventClient {
  constructor(private readonly deps: EventClientDeps) {}

  /**
   * Emits an event: starts one run of each workflow declared with `on: name` (by a worker,
   * at its start), with the payload as input. A workflow whose definition is known in this
   * process validates the payload first: if its schema refuses it, no run of it starts and
   * the refusal is in `invalid` (the others start). A workflow known only to its workers
   * gets the payload as it is, and its worker validates it when the run starts.
   *
   * @throws ValidationError for a bad name, id or payload (nothing is stored)
   */
  async emit(name: string, payload?: unknown, options: EmitOptions = {}): Promise<EmitResult> {
    checkEventName(name, "emit");
    const eventId = options.id === undefined ? newId() : checkEventId(options.id);
    const what = `payload of event "${name}"`;
    const text = toJsonText(payload, what);
    if (text !== undefined) checkSize(text, this.deps.payloads, what);
    const bytes = text === undefined ? 0 : utf8Length(text);
    const { targets, existing } = await this.deps.call((s) => s.events.prepare(name, eventId));
    if (existing && existing.name !== name) {
      throw new ValidationError(`event id "${eventId}" was already emitted as event "${existing.name}"`);
    }
    // What the workflows get is the stored event (the first emission's payload), as JSON.
    const value = existing ? (existing.payload ?? undefined) : text === undefined ? undefined : (JSON.parse(text) as unknown);
    const valueText = existing ? toJsonText(existing.payload ?? undefined, what) : text;

    const runs: EventTargetRun[] = [];
    const payloads: RunPayload[] = [];
    const refused = new Map<string, ValidationError>();
    for (const target of targets) {
      const known = findWorkflow(target.workflow);
      let input = valueText;
      if (known) {
        try {
          input = toJsonText(known.parseInput(value), `input of workflow "${target.workflow}"`);
        } catch (error) {
          if (!(error instanceof ValidationError)) throw error;
          refused.set(target.workflow, error);
          runs.push({ workflow: target.workflow, error: JSON.stringify(serializeError(error)) });
          continue;
        }
      }
      const runId = eventRunId(eventId, target.workflow);
      const stored = placeValue(input, this.deps.payloads, `input of workflow "${target.workflow}"`);
      if (stored.outOfLine) payloads.push({ runId, id: stored.outOfLine.id, text: stored.outOfLine.text });
      runs.push({
        workflow: target.workflow,
        runId,
        queue: target.queue,
        input: stored.text,
        priority: target.priority,
        timeoutMs: target.timeoutMs ?? undefined,
        fingerprint: isImplementation(known) ? known.fingerprint : (target.fingerprint ?? undefined),
      });
    }
    const outcome = await this.deps.call((s) =>
      s.events.emit({ id: eventId, name, payload: existing ? undefined : text, payloadBytes: bytes, runs }, payloads),
    );
    return {
      eventId,
      runs: outcome.runs.flatMap((r) => (r.runId ? [this.deps.handle(r.runId)] : [])),
      invalid: outcome.runs.flatMap((r) =>
        r.runId ? [] : [{ workflowName: r.workflow, error: refused.get(r.workflow) ?? (deserializeError(r.error as SerializedError) as ValidationError) }],
      ),
      duplicate: !outcome.newEvent,
    };
  }

  /** Emitted events, newest first, each with the runs it started. */
  async list(filter: { name?: string; limit?: number; after?: string } = {}): Promise<EmittedEvent[]> {
    if (filter.name !== undefined) checkEventName(filter.name, "events.list");
    if (filter.after !== undefined) checkEventId(filter.after);
    const events = await this.deps.call((s) => s.events.list(filter));
    return events.map(toEmittedEvent);
  }

  /** One emitted event, with its whole payload. @returns undefined when no event has this id */
  async get(id: string): Promise<EmittedEvent | undefined> {
    checkEventId(id);
    const event = await this.deps.call((s) => s.events.get(id));
    return event ? toEmittedEvent(event) : undefined;
  }
}

function toEmittedEvent(e: StoredEvent): EmittedEvent {
  return {
    id: e.id,
    name: e.name,
    ...("payload" in e ? { payload: e.payload ?? undefined } : {}),
    payloadBytes: e.payloadBytes,
    source: e.source,
    emittedAt: e.emittedAt,
    runs: e.runs.map((r) => ({
      workflowName: r.workflow,
      ...(r.runId ? { runId: r.runId } : {}),
      ...(r.status ? { status: r.status } : {}),
      ...(r.error ? { error: r.error as SerializedError } : {}),
    })),
  };
}
