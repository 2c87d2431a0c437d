import { EventKind, type HistoryEvent, type RunStartedPayload } from "../events.js";
import { ValidationError } from "../errors.js";

/** Marks a JSON file as a Reprise history, and its version. */
export const HISTORY_FORMAT = "reprise-history/1";

/** An event as it is written to a history file: `createdAt` as an ISO string. */
export interface ExportedEvent {
  seq: number;
  kind: EventKind;
  position: number | null;
  name: string | null;
  payload: unknown;
  createdAt: string;
}

/**
 * A run's history as a JSON document, for replay away from the database (`reprise replay
 * history.json`) and for golden histories checked into a repository.
 */
export interface ExportedHistory {
  format: typeof HISTORY_FORMAT;
  runId: string;
  workflowName: string;
  /** The code fingerprint the run was started with, when known. */
  fingerprint?: string;
  exportedAt: string;
  events: ExportedEvent[];
}

/** An event as `client.history()` returns it, or as it comes back from JSON. */
export type HistoryEventLike = Omit<HistoryEvent, "createdAt" | "kind"> & { kind: string; createdAt: Date | string };

/** A history read back: its events in seq order, with what is known of the run. */
export interface ParsedHistory {
  runId: string;
  workflowName: string;
  fingerprint?: string;
  events: HistoryEvent[];
}

/**
 * Turns a run's events into a document to save as JSON.
 *
 * ```ts
 * writeFileSync("order-17.json", JSON.stringify(exportHistory(await client.history("order-17")), null, 2));
 * ```
 */
export function exportHistory(events: readonly HistoryEventLike[], meta: { runId?: string } = {}): ExportedHistory {
  const parsed = parseHistory(events);
  const runId = meta.runId ?? parsed.runId;
  return {
    format: HISTORY_FORMAT,
    runId,
    workflowName: parsed.workflowName,
    ...(parsed.fingerprint ? { fingerprint: parsed.fingerprint } : {}),
    exportedAt: new Date().toISOString(),
    events: parsed.events.map((e) => ({
      seq: e.seq,
      kind: e.kind,
      position: e.position ?? null,
      name: e.name ?? null,
      payload: e.payload,
      createdAt: e.createdAt.toISOString(),
    })),
  };
}

/**
 * Reads a history from what `JSON.parse` made of a file: an {@link ExportedHistory}, a bare
 * array of events (`client.history()` as JSON), or `reprise runs show --json`'s
 * `{ run, history }`. Events come back sorted by seq with `createdAt` as a `Date`.
 *
 * @throws ValidationError naming what is wrong (and `source`, when given)
 */
export function parseHistory(value: unknown, source?: string): ParsedHistory {
  const where = source ? ` in ${source}` : "";
  let list: unknown;
  let runId: string | undefined;
  if (Array.isArray(value)) {
    list = value;
  } else if (value && typeof value === "object") {
    const doc = value as { events?: unknown; history?: unknown; runId?: unknown; run?: { id?: unknown } };
    list = doc.events ?? doc.history;
    if (typeof doc.runId === "string") runId = doc.runId;
    else if (typeof doc.run?.id === "string") runId = doc.run.id;
  }
  if (!Array.isArray(list)) {
    throw new ValidationError(`no history${where}: expected a ${HISTORY_FORMAT} document or an array of events`);
  }
  const events = list.map((raw, i) => toEvent(raw, i, where)).sort((a, b) => a.seq - b.seq);
  const first = events[0];
  if (!first || first.kind !== EventKind.RunStarted) {
    throw new ValidationError(`the history${where} does not start with its RunStarted event`);
  }
  const started = first.payload as Partial<RunStartedPayload> | null;
  if (typeof started?.workflow !== "string") throw new ValidationError(`the RunStarted event${where} names no workflow`);
  runId ??= first.runId ?? "replay";
  return {
    runId,
    workflowName: started.workflow,
    ...(typeof started.fingerprint === "string" ? { fingerprint: started.fingerprint } : {}),
    events: events.map((e) => ({ ...e, runId: runId! })),
  };
}

function toEvent(raw: unknown, index: number, where: string): HistoryEvent {
  const e = raw as Partial<Record<keyof HistoryEvent, unknown>> | null;
  const createdAt = e?.createdAt instanceof Date ? e.createdAt : typeof e?.createdAt === "string" ? new Date(e.createdAt) : undefined;
  if (!e || typeof e.seq !== "number" || typeof e.kind !== "string" || !createdAt || Number.isNaN(createdAt.getTime())) {
    throw new ValidationError(`event ${index}${where} is not an event: it needs a numeric seq, a kind and a createdAt time`);
  }
  const position = e.position ?? null;
  if (position !== null && (typeof position !== "number" || !Number.isInteger(position))) {
    throw new ValidationError(`event ${index}${where} (seq ${e.seq}) has a bad position: ${JSON.stringify(position)}`);
  }
  return {
    ...(typeof e.runId === "string" ? { runId: e.runId } : {}),
    seq: e.seq,
    kind: e.kind as EventKind,
    position,
    name: typeof e.name === "string" ? e.name : null,
    payload: e.payload,
    createdAt,
  };
}
