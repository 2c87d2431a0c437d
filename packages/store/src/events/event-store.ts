import type { EmitArgs } from "../queries/emit-event.js";
import type { RunPayload } from "../queries/insert-payloads.js";

/** A workflow an event name starts, as the registry holds it. */
export interface EventTarget {
  workflow: string;
  queue: string;
  priority: number;
  timeoutMs: number | null;
  fingerprint: string | null;
  hasInputSchema: boolean;
}

/** What an emitted event did for one workflow it matched. */
export interface StoredEventRun {
  workflow: string;
  runId: string | null;
  /** The refusal, when the payload did not suit the workflow. */
  error: unknown;
  /** The run's status now (null: no run, or it was pruned). */
  status: string | null;
}

/** An emitted event, with what it started. */
export interface StoredEvent {
  id: string;
  name: string;
  /** Absent when the payload is over the list's size limit (read it with `get`). */
  payload?: unknown;
  payloadBytes: number;
  source: "client" | "sql";
  emittedAt: Date;
  runs: StoredEventRun[];
}

/** Filters of {@link EventStore.list}. */
export interface EventFilter {
  name?: string | undefined;
  /** @default 50 */
  limit?: number | undefined;
  /** An event id: list the events emitted before it (the next page). */
  after?: string | undefined;
  /** Payloads over this many bytes are left out. @default 262144 */
  maxPayloadBytes?: number | undefined;
}

/**
 * Emitted events of one schema (`store.events`): the workflows an event starts, the
 * emission itself, and the record of what each event started.
 */
export interface EventStore {
  /** The workflows declared with `on: name`, and the event with this id if it was emitted before. */
  prepare(name: string, id: string): Promise<{ targets: EventTarget[]; existing: { name: string; payload: unknown } | undefined }>;
  /**
   * Records the event and starts its runs (see emit-event.ts); values too large for their
   * runs' rows are written in the same transaction. @returns what the event started, for
   * every workflow it ever matched
   */
  emit(args: EmitArgs, payloads?: readonly RunPayload[]): Promise<{ newEvent: boolean; created: Set<string>; runs: StoredEventRun[] }>;
  /** Newest first. */
  list(filter?: EventFilter): Promise<StoredEvent[]>;
  /** One emitted event with the runs it started, or undefined for an unknown id. */
  get(id: string): Promise<StoredEvent | undefined>;
}
