import type { Store } from "@reprise/store";
import { DatabaseError } from "./errors.js";
import { payloadRefOf } from "./payload.js";

/**
 * Replaces the references among a run's stored values (its input, output, event fields)
 * by the values they stand for, read in one query. What a reader of one run sees (status,
 * result, history); lists and the claim leave references as they are.
 *
 * @throws DatabaseError when a referenced value is missing
 */
export async function loadStoredValues<T extends readonly unknown[]>(store: Store, runId: string, values: T): Promise<T> {
  const ids = [...new Set(values.flatMap((v) => payloadRefOf(v)?.id ?? []))];
  if (ids.length === 0) return values;
  const texts = await store.loadPayloads(runId, ids);
  return values.map((v) => {
    const ref = payloadRefOf(v);
    if (!ref) return v;
    const text = texts.get(ref.id);
    if (text === undefined) throw new DatabaseError(`run ${runId} refers to a value stored out of line (payload ${ref.id}) that is not in the database`);
    return JSON.parse(text) as unknown;
  }) as unknown as T;
}

/** The same for every top-level field of a list of event payloads. */
export async function loadEventValues<E extends { payload: unknown }>(store: Store, runId: string, events: readonly E[]): Promise<E[]> {
  const fields: unknown[] = [];
  for (const e of events) if (e.payload && typeof e.payload === "object") fields.push(...Object.values(e.payload));
  if (!fields.some((f) => payloadRefOf(f))) return [...events];
  const loaded = await loadStoredValues(store, runId, fields);
  let i = 0;
  return events.map((e) => {
    if (!e.payload || typeof e.payload !== "object") return e;
    const payload: Record<string, unknown> = {};
    for (const key of Object.keys(e.payload)) payload[key] = loaded[i++];
    return { ...e, payload };
  });
}
